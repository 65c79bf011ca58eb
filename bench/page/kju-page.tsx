// Bench page for the kju paths: the real renderer Viewer (pull policy, the blitter ?blitter= names:
// auto, webgl or canvas2d) on a WebSocket bridge to `kju serve`, with the stream wrapped so every
// frame packet's arrival, the end of its synchronous upload and the end of the blitter's next
// present are recorded on the wall clock (performance.timeOrigin + now()).
// Opens display ?vm=<id> on load and reports to the bench once a second with a console.log line
// (bench/wire.ts: serve's CSP allows no other socket, and the bench attaches no DevTools).
// Bundled by bench/browser.ts with esbuild.
import type { DisplayMessage, DisplayStream } from '../../common/contract.js';
import { createWsBridge } from '../../renderer/bridge/ws-bridge.js';
import { Viewer } from '../../renderer/display/viewer.js';
import { BLITTER_SETTINGS, type BlitterSetting } from '../../renderer/display/display-blitter.js';
import { REPORT_PREFIX, wallOffset } from '../wire.js';

const wall = (): number => performance.timeOrigin + performance.now();

interface FrameRecord {
  /** packet number on this stream, 1-based (matches serve's framesSent for the only viewer) */
  seq: number;
  arrivedAt: number;
  uploadedAt: number;
  bytes: number;
  /** when the blitter's next present after the upload returned (NaN until then) */
  presentedAt: number;
}

const frames: FrameRecord[] = [];
let draws = 0;
let surfaces = 0;
let closed: string | null = null;
const errors: string[] = [];
let viewer: Viewer | null = null;

/** Forwards everything; times the Viewer's frame callback, which decodes and uploads synchronously. */
function timed(inner: DisplayStream): DisplayStream {
  let seq = 0;
  return {
    onMessage(cb: (m: DisplayMessage) => void) {
      inner.onMessage((m) => {
        if (m.t === 'surface') {
          surfaces++;
          // 1:1 like noVNC's canvas, so both pages composite the same number of pixels (CSSOM, which CSP allows).
          const c = document.querySelector('canvas')!;
          c.style.width = `${m.surface.width / devicePixelRatio}px`;
          c.style.height = `${m.surface.height / devicePixelRatio}px`;
        }
        if (m.t === 'closed') closed = m.reason;
        cb(m);
      });
    },
    onFrame(cb: (p: ArrayBuffer) => void) {
      inner.onFrame((p) => {
        const arrivedAt = wall();
        const bytes = p.byteLength;
        cb(p);
        frames.push({ seq: ++seq, arrivedAt, uploadedAt: wall(), bytes, presentedAt: NaN });
      });
    },
    pull: () => inner.pull(),
    sendInput: (i) => inner.sendInput(i),
    close: () => inner.close(),
    refresh: () => inner.refresh(),
  };
}

async function open(vmId: string): Promise<void> {
  const r = await createWsBridge().openDisplay(vmId, 0);
  if (!r.ok) {
    errors.push(`open: ${r.code}: ${r.message}`);
    return;
  }
  const canvas = document.querySelector('canvas')!;
  viewer = new Viewer({ canvas, stream: timed(r.value), blitter });
  blitterKind = viewer.getState().blitter?.kind ?? viewer.blitter.kind ?? null;
  viewer.blitter.subscribe(() => {
    draws++;
    // Every upload since the last present is on screen now (this runs at the end of the draw).
    const now = wall();
    for (let i = frames.length - 1; i >= 0 && Number.isNaN(frames[i].presentedAt); i--) frames[i].presentedAt = now;
  });
}

// Measured before anything else runs, so the busy-wait stays out of every window.
const clock = wallOffset(wall, Date.now);
let reported = 0;
let errorsReported = 0;
/** Presented frames as [seq, arrivedAt, uploadedAt, bytes, presentedAt] since the last report, and the running counters. */
function report(): void {
  // A frame is reported once presented (or after 2 s without a present, with NaN).
  let end = reported;
  while (end < frames.length && (!Number.isNaN(frames[end].presentedAt) || wall() - frames[end].uploadedAt > 2000)) end++;
  const fresh = frames.slice(reported, end).map((f) => [f.seq, f.arrivedAt, f.uploadedAt, f.bytes, f.presentedAt]);
  reported = end;
  const errs = errors.slice(errorsReported);
  errorsReported = errors.length;
  const msg = { page: 'kju', t: wall(), clock, frames: fresh, total: frames.length, draws, surfaces, closed, errors: errs, inner: [innerWidth, innerHeight], blitter: blitterKind };
  console.log(REPORT_PREFIX + JSON.stringify(msg));
}

window.addEventListener('error', (e) => errors.push(String(e.message)));
const params = new URLSearchParams(location.search);
const vm = params.get('vm') ?? 'bench';
const blitterParam = params.get('blitter') ?? 'auto';
const blitter: BlitterSetting = (BLITTER_SETTINGS as readonly string[]).includes(blitterParam) ? (blitterParam as BlitterSetting) : 'auto';
let blitterKind: string | null = null;
report();
// ?vm=none: no viewer, reports only (the bench's idle floor)
if (vm !== 'none') void open(vm).finally(report);
setInterval(report, 1000);

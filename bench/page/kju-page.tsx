// Bench page for the kju paths: the real renderer Viewer (pull policy, WebGL2 blitter) on a
// WebSocket bridge to `kju serve`, with the stream wrapped so every frame packet's arrival and the
// end of its synchronous upload are recorded on the wall clock (performance.timeOrigin + now()).
// Bundled by bench/kju-path.ts with esbuild; the bench reads window.kjuBench with page.evaluate.
import type { DisplayMessage, DisplayStream } from '../../common/contract.js';
import { createWsBridge } from '../../renderer/bridge/ws-bridge.js';
import { Viewer } from '../../renderer/display/viewer.js';

const wall = (): number => performance.timeOrigin + performance.now();

interface FrameRecord {
  /** packet number on this stream, 1-based (matches serve's framesSent for the only viewer) */
  seq: number;
  arrivedAt: number;
  uploadedAt: number;
  bytes: number;
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
        frames.push({ seq: ++seq, arrivedAt, uploadedAt: wall(), bytes });
      });
    },
    pull: () => inner.pull(),
    sendInput: (i) => inner.sendInput(i),
    close: () => inner.close(),
    refresh: () => inner.refresh?.(),
  };
}

const api = {
  async open(vmId: string): Promise<string> {
    const r = await createWsBridge().openDisplay(vmId, 0);
    if (!r.ok) return `${r.code}: ${r.message}`;
    const canvas = document.querySelector('canvas')!;
    viewer = new Viewer({ canvas, stream: timed(r.value) });
    viewer.blitter.subscribe(() => draws++);
    return 'ok';
  },
  /** frames from index `from` on, and the running counters */
  take(from: number) {
    return { frames: frames.slice(from), total: frames.length, draws, surfaces, closed, errors };
  },
  wall,
  close(): void {
    viewer?.destroy();
    viewer = null;
  },
};

declare global {
  interface Window {
    kjuBench: typeof api;
  }
}
window.addEventListener('error', (e) => errors.push(String(e.message)));
window.kjuBench = api;
document.title = 'bench page ready';

// Bench page for QEMU's own VNC server viewed with noVNC (its RFB client, default settings) over
// QEMU's native WebSocket listener. Counts FramebufferUpdates as they complete and the flips that
// copy damage to the visible canvas, by wrapping two of RFB's internal methods on the instance
// (noVNC 1.7.0 names; the bench notes it if they are missing). Connects to ?ws=<url> on load and
// reports its counters once a second with a console.log line, like kju-page.tsx (bench/wire.ts).
// Bundled by bench/browser.ts.
import RFB from '@novnc/novnc';
import { REPORT_PREFIX, wallOffset } from '../wire.js';

const wall = (): number => performance.timeOrigin + performance.now();

/** noVNC internals the page wraps; present in 1.7.0. */
interface RfbInternals {
  _framebufferUpdate(): boolean;
  _handleRect(): boolean;
  _FBU: { encoding: number | null; width: number; height: number };
  _display: {
    flip(fromQueue?: boolean): void;
    _renderQ: unknown[];
    _damageBounds: { left: number; top: number; right: number; bottom: number };
  };
}

let updates = 0;
let flips = 0;
let pixels = 0;
/** wall time of each flip with damage, and [wall time, pixels so far] of each completed update, since the last report */
let flipsAt: number[] = [];
let updatesAt: [number, number][] = [];
const encodings: Record<string, number> = {};
let connected = false;
let disconnected: string | null = null;
const errors: string[] = [];
let rfb: RFB | null = null;

function instrument(r: RFB): void {
  const i = r as unknown as RfbInternals;
  if (typeof i._framebufferUpdate !== 'function' || typeof i._handleRect !== 'function' || !i._display) {
    errors.push('noVNC internals changed: cannot count updates');
    return;
  }
  const fbu = i._framebufferUpdate.bind(r);
  i._framebufferUpdate = () => {
    const done = fbu();
    if (done) {
      updates++;
      updatesAt.push([wall(), pixels]);
    }
    return done;
  };
  const rect = i._handleRect.bind(r);
  i._handleRect = () => {
    const enc = String(i._FBU.encoding);
    const area = i._FBU.width * i._FBU.height;
    const done = rect();
    if (done) {
      encodings[enc] = (encodings[enc] ?? 0) + 1;
      if (Number(enc) >= 0) pixels += area; // negative encodings are pseudo-rects (cursor, size)
    }
    return done;
  };
  const d = i._display;
  const flip = d.flip.bind(d);
  d.flip = (fromQueue?: boolean) => {
    const b = d._damageBounds;
    if ((fromQueue || d._renderQ.length === 0) && b.right > b.left && b.bottom > b.top) {
      flips++;
      flipsAt.push(wall());
    }
    flip(fromQueue);
  };
}

function open(url: string): void {
  const target = document.getElementById('screen')!;
  rfb = new RFB(target, url, { shared: true });
  rfb.viewOnly = true;
  instrument(rfb);
  rfb.addEventListener('connect', () => {
    connected = true;
    report();
  });
  rfb.addEventListener('disconnect', (e) => {
    disconnected = JSON.stringify((e as CustomEvent).detail ?? {});
    report();
  });
  rfb.addEventListener('securityfailure', (e) => errors.push(`security failure ${JSON.stringify((e as CustomEvent).detail)}`));
}

const clock = wallOffset(wall, Date.now);
let errorsReported = 0;
function report(): void {
  const errs = errors.slice(errorsReported);
  errorsReported = errors.length;
  const msg = { page: 'vnc', t: wall(), clock, updates, flips, pixels, flipsAt, updatesAt, encodings, connected, disconnected, errors: errs, inner: [innerWidth, innerHeight] };
  flipsAt = [];
  updatesAt = [];
  console.log(REPORT_PREFIX + JSON.stringify(msg));
}

window.addEventListener('error', (e) => errors.push(String(e.message)));
const ws = new URLSearchParams(location.search).get('ws');
if (ws) open(ws);
else errors.push('no ?ws= given');
report();
setInterval(report, 1000);

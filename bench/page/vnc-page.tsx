// Bench page for QEMU's own VNC server viewed with noVNC (its RFB client, default settings) over
// QEMU's native WebSocket listener. Counts FramebufferUpdates as they complete and the flips that
// copy damage to the visible canvas, by wrapping two of RFB's internal methods on the instance
// (noVNC 1.7.0 names; the bench notes it if they are missing). Bundled by bench/vnc-path.ts.
import RFB from '@novnc/novnc';

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
const encodings: Record<string, number> = {};
const updateTimes: number[] = [];
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
      updateTimes.push(wall());
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
    if ((fromQueue || d._renderQ.length === 0) && b.right > b.left && b.bottom > b.top) flips++;
    flip(fromQueue);
  };
}

const api = {
  open(url: string): Promise<string> {
    return new Promise((resolve) => {
      const target = document.getElementById('screen')!;
      rfb = new RFB(target, url, { shared: true });
      rfb.viewOnly = true;
      instrument(rfb);
      rfb.addEventListener('connect', () => {
        connected = true;
        resolve('ok');
      });
      rfb.addEventListener('disconnect', (e) => {
        disconnected = JSON.stringify((e as CustomEvent).detail ?? {});
        if (!connected) resolve(`disconnected: ${disconnected}`);
      });
      rfb.addEventListener('securityfailure', (e) => errors.push(`security failure ${JSON.stringify((e as CustomEvent).detail)}`));
    });
  },
  counters() {
    return { updates, flips, pixels, encodings: { ...encodings }, connected, disconnected, errors, updateTimes: updateTimes.length };
  },
  wall,
  close(): void {
    rfb?.disconnect();
    rfb = null;
  },
};

declare global {
  interface Window {
    vncBench: typeof api;
  }
}
window.addEventListener('error', (e) => errors.push(String(e.message)));
window.vncBench = api;
document.title = 'bench page ready';

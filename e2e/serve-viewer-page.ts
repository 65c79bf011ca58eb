// Test page for e2e/serve-synthetic.test.ts: bundled with esbuild at test time and served by
// `kju serve` itself. It drives createWsBridge like the renderer does and rebuilds each display's
// surface into a tightly packed byte array the test compares with SyntheticDisplay's pixels.
import type { DisplayStream, InputMessage, SurfaceInfo, VmSummary } from '../common/contract.js';
import { decodeFramePacket } from '../common/frame-packet.js';
import { createWsBridge } from '../renderer/bridge/ws-bridge.js';

interface TestViewer {
  stream: DisplayStream;
  surface: SurfaceInfo | null;
  pixels: Uint8Array;
  frames: number;
  messages: string[];
  closed: string | null;
  errors: string[];
  autoPull: boolean;
}

const bridge = createWsBridge();
const viewers = new Map<string, TestViewer>();
const vmPushes: VmSummary[][] = [];
bridge.onVmsChanged((vms) => vmPushes.push(vms));

function must(name: string): TestViewer {
  const v = viewers.get(name);
  if (!v) throw new Error(`no viewer ${name}`);
  return v;
}

const api = {
  async open(name: string, vmId: string, autoPull: boolean): Promise<string> {
    const r = await bridge.openDisplay(vmId, 0);
    if (!r.ok) return `${r.code}: ${r.message}`;
    const v: TestViewer = { stream: r.value, surface: null, pixels: new Uint8Array(0), frames: 0, messages: [], closed: null, errors: [], autoPull };
    viewers.set(name, v);
    v.stream.onMessage((m) => {
      v.messages.push(m.t);
      if (m.t === 'surface') {
        v.surface = m.surface;
        v.pixels = new Uint8Array(m.surface.width * m.surface.height * 4);
      }
      if (m.t === 'closed') v.closed = m.reason;
    });
    v.stream.onFrame((packet) => {
      v.frames++;
      try {
        if (!v.surface) throw new Error('frame before surface');
        const f = decodeFramePacket(packet, v.surface);
        if (f.surfaceId !== v.surface.id) throw new Error(`frame of surface ${f.surfaceId} while showing ${v.surface.id}`);
        const width = v.surface.width;
        f.rects.forEach((r, i) => {
          const src = f.pixels![i];
          for (let y = 0; y < r.h; y++) v.pixels.set(src.subarray(y * r.w * 4, (y + 1) * r.w * 4), ((r.y + y) * width + r.x) * 4);
        });
      } catch (e) {
        v.errors.push(String(e));
      }
      if (v.autoPull) v.stream.pull();
    });
    if (autoPull) v.stream.pull();
    return 'ok';
  },
  pull(name: string): void {
    must(name).stream.pull();
  },
  input(name: string, input: InputMessage): void {
    must(name).stream.sendInput(input);
  },
  close(name: string): void {
    must(name).stream.close();
  },
  state(name: string) {
    const v = must(name);
    return { surfaceId: v.surface?.id ?? null, width: v.surface?.width ?? 0, height: v.surface?.height ?? 0, frames: v.frames, messages: v.messages.slice(-20), closed: v.closed, errors: v.errors };
  },
  /** the rebuilt surface as base64, B,G,R,X rows packed */
  pixels(name: string): string {
    const p = must(name).pixels;
    let bin = '';
    for (let i = 0; i < p.length; i += 0x8000) bin += String.fromCharCode(...p.subarray(i, i + 0x8000));
    return btoa(bin);
  },
  call(method: 'listVms' | 'startVm', args: Record<string, unknown>) {
    return bridge.call(method, args as never);
  },
  vmPushes: () => vmPushes,
  /** A raw socket, to check what the server does with things the bridge never sends. */
  raw(url: string, sends: (string | number[])[], protocols: string[] = []): Promise<{ opened: boolean; code: number; reason: string; protocol: string }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url, protocols);
      let opened = false;
      ws.onopen = () => {
        opened = true;
        for (const s of sends) ws.send(typeof s === 'string' ? s : new Uint8Array(s));
        // Nothing to send: just proving the socket opens.
        if (!sends.length) ws.close(1000);
      };
      ws.onclose = (e) => resolve({ opened, code: e.code, reason: e.reason, protocol: ws.protocol });
      setTimeout(() => ws.close(), 5000);
    });
  },
};

declare global {
  interface Window {
    kjuTest: typeof api;
  }
}
window.kjuTest = api;
document.title = 'kju serve test page ready';

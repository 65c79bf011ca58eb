// One booted demo guest per (display device, resolution), with what the paths need around it:
// the D-Bus display connection (one control connection per QEMU) and a `kju serve` whose backend
// opens that guest's console wrapped in a TimedSource; on virtio-vga also QEMU's VNC server with
// its WebSocket listener. Node event loop.
import net from 'node:net';
import type { Browser } from 'playwright-core';
import type { DisplaySource } from '../main/display/display-source.js';
import { DisplayConnection } from '../main/display/display-connection.js';
import type { DbusDisplay } from '../main/display/dbus-display.js';
import type { ServeBackend } from '../main/serve/serve-backend.js';
import { startServe, type ServeHandle } from '../main/serve/serve.js';
import { bootDemoGuest, type BootedGuest } from '../main/testing/guest.js';
import { TimedSource } from './timed-source.js';
import { fbInfo, prepareFrames, type FbInfo } from './workloads.js';

export interface Rig {
  device: 'virtio-vga' | 'std';
  guest: BootedGuest;
  fb: FbInfo;
  conn: DisplayConnection;
  consoleId: number;
  serve: ServeHandle;
  /** the source the serve viewer is reading now (null between scenarios) */
  current: TimedSource | null;
  /** QEMU's VNC WebSocket port (virtio-vga rigs only) */
  vncWsPort?: number;
  browser: Browser;
  /** serve log lines and page errors */
  log: string[];
  framesPrepared: boolean;
  close(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A VNC display number N (TCP 5900+N) and a WebSocket port, both free on 127.0.0.1 now. */
async function freeVncPorts(): Promise<{ display: number; wsPort: number }> {
  const start = 100 + Math.floor(Math.random() * 2000);
  for (let n = start; n < start + 200; n++) {
    if ((await portFree(5900 + n)) && (await portFree(15900 + n))) return { display: n, wsPort: 15900 + n };
  }
  throw new Error('no free port pair for QEMU VNC on 127.0.0.1');
}

export async function bootRig(opts: { device: 'virtio-vga' | 'std'; width: number; height: number; vnc: boolean; browser: Browser; siteDir: string }): Promise<Rig> {
  const vnc = opts.vnc ? await freeVncPorts() : undefined;
  const guest = await bootDemoGuest({
    display: opts.device,
    name: `kju-bench-${opts.device}-${opts.width}`,
    appendExtra: `video=Virtual-1:${opts.width}x${opts.height}`,
    extraArgs: vnc ? ['-vnc', `127.0.0.1:${vnc.display},websocket=${vnc.wsPort}`] : [],
  });
  const log: string[] = [];
  let conn: DisplayConnection | undefined;
  let serve: ServeHandle | undefined;
  try {
    const fb = await fbInfo(guest.serial);
    if (fb.width !== opts.width || fb.height !== opts.height) throw new Error(`guest framebuffer is ${fb.width}x${fb.height}, asked for ${opts.width}x${opts.height}`);
    conn = await DisplayConnection.open(guest.qmp, 'bench');
    const [consoleId] = await conn.graphicConsoles();
    if (consoleId === undefined) throw new Error('the guest has no graphic console');
    const rig: Rig = {
      device: opts.device,
      guest,
      fb,
      conn,
      consoleId,
      serve: undefined as unknown as ServeHandle,
      current: null,
      vncWsPort: vnc?.wsPort,
      browser: opts.browser,
      log,
      framesPrepared: false,
      close: async () => {
        await serve?.close().catch(() => undefined);
        conn?.close('bench done');
        await guest.stop();
      },
    };
    const c = conn;
    const backend: ServeBackend = {
      call: async (method) => ({ ok: false, code: 'unsupported', message: `${method} is not part of the bench` }),
      openDisplay: async (vmId, console) => {
        if (vmId !== 'bench' || console !== 0) return { ok: false, code: 'not-found', message: `no display ${vmId}:${console}` };
        const d: DbusDisplay = await c.openDisplay(consoleId);
        await d.waitForSurface(30_000);
        const src = new TimedSource(d, () => rig.serve.viewers()[0]?.framesSent ?? 0);
        rig.current = src;
        src.once('closed', () => {
          if (rig.current === src) rig.current = null;
        });
        return { ok: true, value: src as DisplaySource };
      },
      onVmsChanged: () => () => {},
    };
    serve = await startServe({ backend, staticDir: opts.siteDir, log: (l) => log.push(`serve: ${l}`) });
    rig.serve = serve;
    return rig;
  } catch (err) {
    await serve?.close().catch(() => undefined);
    conn?.close();
    await guest.stop();
    throw err;
  }
}

export async function ensureFrames(rig: Rig): Promise<void> {
  if (rig.framesPrepared) return;
  await prepareFrames(rig.guest.serial, rig.fb);
  rig.framesPrepared = true;
}

// One booted demo guest per (display device, resolution), with what the paths need around it: a
// second QMP monitor socket for the serving child, the serving child itself (D-Bus display + kju
// serve + TimedSource, in its own Node process: serving.ts), and on virtio-vga QEMU's VNC server
// with its WebSocket listener. The orchestrator keeps the serial console (workloads) and the
// launcher's QMP. Node event loop.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootDemoGuest, type BootedGuest } from '../main/testing/guest.js';
import { startServing, type ServingChild } from './serving.js';
import type { ExitReply } from './serving-protocol.js';
import { fbInfo, prepareFrames, type FbInfo } from './workloads.js';

export interface Rig {
  device: 'virtio-vga' | 'std';
  guest: BootedGuest;
  fb: FbInfo;
  serving: ServingChild;
  /** QEMU's VNC WebSocket port (virtio-vga rigs only) */
  vncWsPort?: number;
  /** serve log lines and page errors */
  log: string[];
  framesPrepared: boolean;
  /** what the serving child reported on exit (set by close) */
  exit?: ExitReply;
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

/** `serving`: 'guest' (default) serves the bench page's VM window; 'library' the real app's library page (serve-child.ts). */
export async function bootRig(opts: { device: 'virtio-vga' | 'std'; width: number; height: number; vnc: boolean; siteDir: string; profileDir?: string; serving?: 'guest' | 'library' }): Promise<Rig> {
  const vnc = opts.vnc ? await freeVncPorts() : undefined;
  const sockDir = mkdtempSync(join(tmpdir(), 'kju-bench-qmp-'));
  const qmpPath = join(sockDir, 'qmp.sock');
  const guest = await bootDemoGuest({
    displayDevice: opts.device,
    name: `kju-bench-${opts.device}-${opts.width}`,
    appendExtra: `video=Virtual-1:${opts.width}x${opts.height}`,
    extraArgs: [
      // the serving child's own QMP monitor (one client per monitor socket)
      ...['-chardev', `socket,id=benchqmp,path=${qmpPath},server=on,wait=off`, '-mon', 'chardev=benchqmp,mode=control'],
      ...(vnc ? ['-vnc', `127.0.0.1:${vnc.display},websocket=${vnc.wsPort}`] : []),
    ],
  });
  const log: string[] = [];
  let serving: ServingChild | undefined;
  try {
    const fb = await fbInfo(guest.serial);
    if (fb.width !== opts.width || fb.height !== opts.height) throw new Error(`guest framebuffer is ${fb.width}x${fb.height}, asked for ${opts.width}x${opts.height}`);
    serving = await startServing({ op: 'start', mode: opts.serving ?? 'guest', qmpPath, siteDir: opts.siteDir }, { log: (l) => log.push(l), profileDir: opts.profileDir });
    const s = serving;
    let closing: Promise<void> | undefined;
    const rig: Rig = {
      device: opts.device,
      guest,
      fb,
      serving: s,
      vncWsPort: vnc?.wsPort,
      log,
      framesPrepared: false,
      close: () =>
        (closing ??= (async () => {
          rig.exit = await s.close().catch(() => undefined);
          await guest.stop();
          rmSync(sockDir, { recursive: true, force: true });
        })()),
    };
    return rig;
  } catch (err) {
    await serving?.close().catch(() => undefined);
    await guest.stop();
    rmSync(sockDir, { recursive: true, force: true });
    throw err;
  }
}

export async function ensureFrames(rig: Rig): Promise<void> {
  if (rig.framesPrepared) return;
  await prepareFrames(rig.guest.serial, rig.fb);
  rig.framesPrepared = true;
}

// Zero-copy display (a setting, default off), the preload's half: the VM window's preload connects
// to a private unix socket of the VM's display utility, receives each 'map' surface's memfd with
// SCM_RIGHTS, maps it with the addon into a SharedArrayBuffer-backed view, and hands that view to
// the page. Frames on the display stream then carry rects only (no pixels).
//
// Requirements and what blocks it (nothing here has been run: there is no Electron binary here):
// - The addon cannot load in a sandboxed preload (no require of .node files, no node:* modules),
//   so a zero-copy VM window is created with `sandbox: false` (contextIsolation stays on). This
//   file is loaded lazily by the preload only in that case, so the sandboxed bundle never touches
//   node:* at load time.
// - SharedArrayBuffer must exist in the renderer: the page is cross-origin isolated (app:// sends
//   COOP same-origin + COEP require-corp), which also gives the preload's isolated world SAB.
// - contextBridge cannot pass a SharedArrayBuffer (values are copied; SAB is not among the types
//   it supports), so the view does NOT go through the bridge. It goes with window.postMessage from
//   the isolated world to the page's own window: both worlds are one agent (same thread, same
//   origin, cross-origin isolated), where HTML's structured clone shares a SAB instead of copying.
//   Electron documents the same route for handing a MessagePort to the main world of a
//   context-isolated page. Whether Chromium accepts a SAB whose pages the addon replaced with
//   mmap(MAP_FIXED) there is unverified; if it throws, the fallback is the pixel path, not
//   disabling contextIsolation.
// - Missing elsewhere (so the utility offers no socket yet and every frame carries pixels):
//   (1) the DisplaySource does not expose the memfd of a 'map' surface (the listener worker maps
//   and keeps it); it needs e.g. `dupSurfaceFd(surfaceId): {fd, offset} | null` on DbusDisplay;
//   (2) native/ can connect (connectUnix) but not listen/accept, so the utility cannot serve the
//   socket this client connects to; it needs e.g. `listenUnix(path, onAccept(fd))`.
// Wire format on the socket (utility → preload): one JSON line per surface,
//   {"surfaceId":n,"offset":o,"length":l}\n, sent with the memfd attached to its first byte.
// Runs on the renderer's main thread, in the preload's isolated world.
import { closeFd, connectUnix, FdSocket, Mapping } from '../../native/index.js';
import { LineSplitter } from '../session/control-protocol.js';

export interface SharedSurfaceNotice {
  surfaceId: number;
  offset: number;
  length: number;
}

/** What the page receives with window 'message' events (check event.source === window). */
export interface SharedSurfacePageMessage {
  kju: 'shared-surface';
  vmId: string;
  console: number;
  surfaceId: number;
  /** B,G,R,X rows of the surface's stride, aliasing QEMU's memfd; reads zeros once released */
  view: Uint8Array;
}

const KEEP_OLD_SURFACES = 1;

export class SharedSurfaceClient {
  private readonly socket: FdSocket;
  private readonly lines = new LineSplitter(4096);
  private pendingFds: number[] = [];
  /** newest last; older ones are released once the page has had time to switch */
  private readonly mappings: Array<{ id: number; mapping: Mapping }> = [];
  private closed = false;

  constructor(
    socketPath: string,
    private readonly onSurface: (surfaceId: number, view: Uint8Array) => void,
    private readonly onError: (message: string) => void,
  ) {
    this.socket = new FdSocket(connectUnix(socketPath));
    this.socket.on('fds', (fds: number[]) => this.pendingFds.push(...fds));
    this.socket.on('data', (chunk: Buffer) => this.received(chunk.toString('utf8')));
    this.socket.on('error', (err: Error) => this.fail(`shared surface socket: ${err.message}`));
    this.socket.on('close', () => this.close());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const fd of this.pendingFds.splice(0)) closeFd(fd);
    for (const m of this.mappings.splice(0)) m.mapping.release();
  }

  private received(text: string): void {
    let lines: string[];
    try {
      lines = this.lines.push(text);
    } catch (err) {
      return this.fail((err as Error).message);
    }
    for (const line of lines) {
      const fd = this.pendingFds.shift();
      if (fd === undefined) return this.fail('a shared surface arrived without its file descriptor');
      try {
        const n = JSON.parse(line) as SharedSurfaceNotice;
        if (![n.surfaceId, n.offset, n.length].every((v) => Number.isSafeInteger(v) && v >= 0) || n.length === 0) throw new Error('bad surface notice');
        const mapping = Mapping.open(fd, n.offset, n.length, { view: 'shared' });
        if (mapping.mode !== 'shared') {
          mapping.release();
          throw new Error(`the surface could not be shared (${mapping.reason}); use the pixel path`);
        }
        this.mappings.push({ id: n.surfaceId, mapping });
        while (this.mappings.length > KEEP_OLD_SURFACES + 1) this.mappings.shift()!.mapping.release();
        this.onSurface(n.surfaceId, mapping.view);
      } catch (err) {
        return this.fail((err as Error).message);
      } finally {
        closeFd(fd); // the mapping holds the file
      }
    }
  }

  private fail(message: string): void {
    if (this.closed) return;
    this.onError(message);
    this.close();
  }
}

/** Hands a surface view to the page, sharing the memory (see the header for why not contextBridge). */
export function postSurfaceToPage(target: { postMessage(m: unknown, targetOrigin: string): void }, origin: string, m: SharedSurfacePageMessage): void {
  target.postMessage(m, origin);
}

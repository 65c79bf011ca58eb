// One QEMU console as a DisplaySource: a listener worker receives the scanout (memfd or inline
// pixels) and damage; input goes back over the control connection's Keyboard/Mouse interfaces.
// Lives on the event loop of the thread that opened it (the Node main thread, or a utility process).
import { fitUiInfo } from './ui-info.js';
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { CursorShape, InputMessage } from '../../common/contract.js';
import { socketpair, closeFd } from '../../native/index.js';
import type { PeerConnection } from '../dbus/peer-connection.js';
import { spawnWorker } from '../util/spawn-worker.js';
import type { DisplaySource, DisplaySourceEvents, Surface } from './display-source.js';
import { STAT_COUNT, StatIndex, type OwnerToWorker, type WorkerToOwner } from './listener-protocol.js';

export const CONSOLE_IFACE = 'org.qemu.Display1.Console';
export const KEYBOARD_IFACE = 'org.qemu.Display1.Keyboard';
export const MOUSE_IFACE = 'org.qemu.Display1.Mouse';

export interface ConsoleProps {
  label: string;
  head: number;
  type: string;
  width: number;
  height: number;
  absolute: boolean;
  modifiers: number;
}

export interface DisplayStats {
  updates: number;
  inlineBytes: number;
  scanouts: number;
  batches: number;
  copiedBytes: number;
}

/**
 * Where a 'map' surface's pixels live: `length` bytes at `offset` of QEMU's memfd `fd`, rows of
 * `stride` bytes, B,G,R,X. Borrowed: see DbusDisplay.surfaceFd for how long fd stays open.
 */
export interface SurfaceFd {
  fd: number;
  offset: number;
  length: number;
  width: number;
  height: number;
  stride: number;
  format: number;
}

export class DbusDisplay extends EventEmitter<DisplaySourceEvents> implements DisplaySource {
  surface: Surface | null = null;
  cursor: CursorShape | null = null;
  absolute: boolean;
  modifiers: number;
  /** why the map transport was not used for the current surface, if it was not */
  transportNote: string | undefined;
  /** for the damage being emitted: wall clock (timeOrigin + now(), ms) when the listener worker read its oldest update */
  lastBatchReceivedAt = NaN;
  private readonly statsView: Float64Array;
  /** the current 'map' surface's memfd, owned by this display (closed on the next surface or on close) */
  private memfd: { surfaceId: number; fd: number; offset: number } | null = null;
  private closedReason: string | null = null;
  private losing = false;
  private inputErrorReported = false;
  /** Turns a lost link into a user-facing reason (e.g. QEMU's exit status); set by the owner. */
  explainLoss: ((detail: string) => Promise<string>) | null = null;

  private constructor(
    private readonly control: PeerConnection,
    readonly consoleId: number,
    readonly path: string,
    readonly props: ConsoleProps,
    private readonly worker: Worker,
    stats: SharedArrayBuffer,
  ) {
    super();
    this.absolute = props.absolute;
    this.modifiers = props.modifiers;
    this.statsView = new Float64Array(stats);
    worker.on('message', (m: WorkerToOwner) => this.onWorker(m));
    worker.on('error', (err) => this.lose(`display listener crashed: ${err.message}`));
    worker.on('exit', () => this.lose('display listener stopped'));
  }

  /**
   * Registers a listener on console `consoleId`. The worker starts the client side of the listener
   * handshake before RegisterListener is sent, because QEMU runs its side synchronously.
   */
  static async open(control: PeerConnection, consoleId: number, props: ConsoleProps, name: string): Promise<DbusDisplay> {
    const path = `/org/qemu/Display1/Console_${consoleId}`;
    const [ours, theirs] = socketpair();
    const stats = new SharedArrayBuffer(STAT_COUNT * 8);
    let worker: Worker;
    try {
      worker = spawnWorker(import.meta.url, 'listener-worker', { fd: ours, name: `${name} console ${consoleId}`, stats });
    } catch (err) {
      closeFd(ours);
      closeFd(theirs);
      throw err;
    }
    const display = new DbusDisplay(control, consoleId, path, props, worker, stats);
    try {
      await new Promise<void>((resolve, reject) => {
        const onMsg = (m: WorkerToOwner) => {
          if (m.t === 'handshake-started') {
            worker.off('message', onMsg);
            resolve();
          }
        };
        worker.on('message', onMsg);
        worker.once('error', reject);
        worker.once('exit', () => reject(new Error('display listener exited before its handshake')));
      });
      await control.call(path, CONSOLE_IFACE, 'RegisterListener', { signature: 'h', body: [0], fds: [theirs] });
    } catch (err) {
      display.close();
      throw err;
    } finally {
      closeFd(theirs); // QEMU holds its own copy now (or never will)
    }
    return display;
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  stats(): DisplayStats {
    const s = this.statsView;
    return {
      updates: s[StatIndex.updates],
      inlineBytes: s[StatIndex.inlineBytes],
      scanouts: s[StatIndex.scanouts],
      batches: s[StatIndex.batches],
      copiedBytes: s[StatIndex.copiedBytes],
    };
  }

  /** Resolves with the first surface (or the current one). */
  waitForSurface(timeoutMs = 30_000): Promise<Surface> {
    if (this.surface) return Promise.resolve(this.surface);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no guest screen arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      const onSurface = (s: Surface) => {
        cleanup();
        resolve(s);
      };
      const onClosed = (reason: string) => {
        cleanup();
        reject(new Error(reason));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.off('surface', onSurface);
        this.off('closed', onClosed);
      };
      this.on('surface', onSurface);
      this.on('closed', onClosed);
    });
  }

  /** Resolves once no damage has arrived for `quietMs` (the screen is still). */
  waitForQuiet(quietMs = 500, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer = setTimeout(done, quietMs);
      const deadline = setTimeout(() => {
        cleanup();
        reject(new Error(`the guest screen kept changing for ${timeoutMs} ms`));
      }, timeoutMs);
      const onDamage = () => {
        clearTimeout(timer);
        timer = setTimeout(done, quietMs);
      };
      function done() {
        cleanup();
        resolve();
      }
      const cleanup = () => {
        clearTimeout(timer);
        clearTimeout(deadline);
        this.off('damage', onDamage);
        this.off('surface', onDamage);
      };
      this.on('damage', onDamage);
      this.on('surface', onDamage);
    });
  }

  sendInput(input: InputMessage): void {
    if (this.closedReason) return;
    this.inputCall(input).catch((err: Error) => {
      if (this.inputErrorReported) return;
      this.inputErrorReported = true;
      console.error(`kju: input to console ${this.consoleId} failed: ${err.message}`);
    });
  }

  /** Sends one input event and resolves when QEMU has taken it (the reply came back). */
  inputCall(input: InputMessage): Promise<unknown> {
    const call = (iface: string, member: string, signature?: string, body?: unknown[]) =>
      this.control.call(this.path, iface, member, signature ? { signature, body, timeoutMs: 10_000 } : { timeoutMs: 10_000 });
    switch (input.t) {
      case 'key':
        return call(KEYBOARD_IFACE, input.down ? 'Press' : 'Release', 'u', [input.qnum]);
      case 'button':
        return call(MOUSE_IFACE, input.down ? 'Press' : 'Release', 'u', [input.button]);
      case 'abs': {
        const s = this.surface;
        const w = s?.width ?? this.props.width,
          h = s?.height ?? this.props.height;
        if (!this.absolute) return Promise.resolve(null);
        const x = Math.max(0, Math.min(w - 1, Math.round(input.x)));
        const y = Math.max(0, Math.min(h - 1, Math.round(input.y)));
        return call(MOUSE_IFACE, 'SetAbsPosition', 'uu', [x, y]);
      }
      case 'rel':
        if (this.absolute) return Promise.resolve(null);
        return call(MOUSE_IFACE, 'RelMotion', 'ii', [Math.round(input.dx), Math.round(input.dy)]);
      case 'releaseAll':
        return Promise.resolve(null); // the viewer sends explicit releases for the keys it holds
      case 'uiInfo': {
        const fit = fitUiInfo(input.width, input.height);
        if ('refused' in fit) {
          console.error(`kju: console ${this.consoleId}: ${fit.refused}`);
          return Promise.resolve(null); // the window keeps its last size; nothing to undo
        }
        if (fit.clamped) console.error(`kju: console ${this.consoleId}: ${fit.clamped}`);
        return call(CONSOLE_IFACE, 'SetUIInfo', 'qqiiuu', [0, 0, 0, 0, fit.width, fit.height]);
      }
    }
  }

  /** Called by the connection when the console's properties change (IsAbsolute, Modifiers, size). */
  onPropertiesChanged(changed: Record<string, unknown>): void {
    let modeChanged = false;
    if (typeof changed.IsAbsolute === 'boolean' && changed.IsAbsolute !== this.absolute) {
      this.absolute = changed.IsAbsolute;
      modeChanged = true;
    }
    if (typeof changed.Modifiers === 'number' && changed.Modifiers !== this.modifiers) {
      this.modifiers = changed.Modifiers;
      modeChanged = true;
    }
    if (modeChanged) this.emit('input-mode', this.absolute, this.modifiers);
  }

  /**
   * The memfd behind surface `surfaceId` if that is the current surface and QEMU shared it (map
   * transport), else null. Owner thread only. The fd stays owned by this display and open until
   * the next 'surface' event or close: a caller that keeps it past that must dup it before
   * (FdSocket.writeWithFds dups, so sending it from a 'surface' listener or any synchronous code
   * that first checked `surface.id` is safe).
   */
  surfaceFd(surfaceId: number): SurfaceFd | null {
    const m = this.memfd;
    const s = this.surface;
    if (!m || !s || m.surfaceId !== surfaceId || s.id !== surfaceId || this.closedReason) return null;
    return { fd: m.fd, offset: m.offset, length: s.stride * s.height, width: s.width, height: s.height, stride: s.stride, format: s.format };
  }

  close(): void {
    if (this.closedReason) return;
    this.post({ t: 'close' });
    setTimeout(() => void this.worker.terminate(), 1000).unref();
    this.finish('display closed');
  }

  /** The link to QEMU is gone: finish with the owner's explanation (QEMU's exit, if that is why). */
  lose(detail: string): void {
    if (this.closedReason || this.losing) return;
    if (!this.explainLoss) return this.finish(detail);
    this.losing = true;
    this.explainLoss(detail).then(
      (reason) => this.finish(reason),
      () => this.finish(detail),
    );
  }

  /** Ends the display with a reason (e.g. QEMU's exit status and log tail). */
  finish(reason: string): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.dropMemfd();
    this.emit('closed', reason);
  }

  private dropMemfd(): void {
    const m = this.memfd;
    this.memfd = null;
    if (m) closeFd(m.fd);
  }

  private post(m: OwnerToWorker): void {
    try {
      this.worker.postMessage(m);
    } catch {
      /* worker already gone */
    }
  }

  private onWorker(m: WorkerToOwner): void {
    switch (m.t) {
      case 'surface': {
        if (this.closedReason) {
          if (m.memfd) closeFd(m.memfd.fd);
          return;
        }
        // Listeners of the previous surface had their chance to dup its fd: it goes now.
        this.dropMemfd();
        if (m.memfd) this.memfd = { surfaceId: m.surface.id, ...m.memfd };
        this.surface = { ...m.surface, pixels: m.pixels };
        this.transportNote = m.reason;
        // Readers on this thread switch synchronously in the emit below; older mappings can go.
        this.emit('surface', this.surface);
        this.post({ t: 'release-before', id: m.surface.id });
        return;
      }
      case 'damage': {
        this.lastBatchReceivedAt = m.receivedAt;
        if (this.surface && m.surfaceId === this.surface.id) this.emit('damage', m.rects);
        this.post({ t: 'ack' });
        return;
      }
      case 'cursor':
        this.cursor = m.cursor;
        this.emit('cursor', m.cursor);
        return;
      case 'mouse':
        this.emit('mouse', m.x, m.y, m.visible);
        return;
      case 'disabled':
        this.emit('disabled');
        return;
      case 'closed':
        this.lose(m.reason);
        return;
      case 'handshake-started':
      case 'connected':
        return;
    }
  }
}

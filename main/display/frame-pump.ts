// One viewer of one DisplaySource, independent of the transport: the Electron display utility
// (MessagePort) and `kju serve` (WebSocket, main/serve/display-hub.ts) both use it. The viewer pulls; at most one frame batch is in flight; damage arriving in
// between is merged in a DamageQueue, so a slow viewer only ever holds O(maxRects) rects.
// Everything runs on the Node event loop that owns the source; nothing here does I/O itself.
import type { CursorShape, DisplayMessage, InputMessage, Rect } from '../../common/contract.js';
import { encodeFramePacket } from '../../common/frame-packet.js';
import { DamageQueue } from './damage-queue.js';
import type { DisplaySource, Surface } from './display-source.js';

/** Where a pump's output goes. Called synchronously on the source's event loop, in order. */
/** A whole, transferable ArrayBuffer that is not zero-filled (encodeFramePacket writes every byte). */
const uninitialised = (bytes: number): ArrayBuffer => Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;

export interface FrameSink {
  message(m: DisplayMessage): void;
  /** A FramePacket; the sink owns `packet` and may transfer it. */
  frame(packet: ArrayBuffer): void;
  /** false: hold the pulled frame (e.g. a socket's buffer is full) until the owner calls flush() */
  ready?(): boolean;
}

export interface FramePumpOptions {
  /**
   * Whether frames for surface `s` carry pixels. false only when the viewer reads the surface
   * through its own shared mapping (zero-copy), which is only possible for 'map' surfaces.
   * Default: always pixels.
   */
  withPixels?: (s: Surface) => boolean;
}

export interface FramePumpStats {
  framesSent: number;
  /** bytes of FramePackets handed to the sink */
  bytesSent: number;
  /** pulls that found no damage and waited for some */
  pullsWaited: number;
  queuedRects: number;
  pullPending: boolean;
}

export class FramePump {
  private readonly queue: DamageQueue;
  private pullPending = false;
  private disposed = false;
  private detach: () => void = () => {};
  private readonly counters = { framesSent: 0, bytesSent: 0, pullsWaited: 0 };

  constructor(
    private readonly source: DisplaySource,
    private readonly sink: FrameSink,
    private readonly options: FramePumpOptions = {},
  ) {
    const s = source.surface;
    this.queue = new DamageQueue(s?.width ?? 0, s?.height ?? 0);
  }

  /** Subscribes and sends what a new viewer needs: surface (if any), cursor (if any), then always input-mode. */
  start(): void {
    if (this.disposed) return;
    const src = this.source;
    const onSurface = (s: Surface) => this.surfaceChanged(s);
    const onDamage = (r: Rect[]) => this.damaged(r);
    const onCursor = (c: CursorShape) => this.sink.message({ t: 'cursor', cursor: c });
    const onMouse = (x: number, y: number, visible: boolean) => this.sink.message({ t: 'mouse', x, y, visible });
    const onMode = (absolute: boolean, modifiers: number) => this.sink.message({ t: 'input-mode', absolute, modifiers });
    const onDisabled = () => this.sink.message({ t: 'disabled' });
    const onClosed = (reason: string) => this.end(reason);
    src.on('surface', onSurface);
    src.on('damage', onDamage);
    src.on('cursor', onCursor);
    src.on('mouse', onMouse);
    src.on('input-mode', onMode);
    src.on('disabled', onDisabled);
    src.on('closed', onClosed);
    this.detach = () => {
      src.off('surface', onSurface);
      src.off('damage', onDamage);
      src.off('cursor', onCursor);
      src.off('mouse', onMouse);
      src.off('input-mode', onMode);
      src.off('disabled', onDisabled);
      src.off('closed', onClosed);
    };
    if (src.surface) this.surfaceChanged(src.surface);
    if (src.cursor) this.sink.message({ t: 'cursor', cursor: src.cursor });
    this.sink.message({ t: 'input-mode', absolute: src.absolute, modifiers: src.modifiers });
  }

  /** The viewer has consumed the previous batch: send the next one now, or as soon as there is damage. */
  pull(): void {
    if (this.disposed) return;
    this.pullPending = true;
    if (this.queue.isEmpty) this.counters.pullsWaited++;
    this.flush();
  }

  /** The viewer lost what it had (e.g. its GL context): the next frame is the whole surface. */
  refresh(): void {
    if (this.disposed) return;
    this.queue.markFull();
    this.flush();
  }

  /** Input the caller has already validated. */
  input(input: InputMessage): void {
    if (!this.disposed) this.source.sendInput(input);
  }

  /** Sends the pulled frame if there is one to send and the sink is ready. */
  flush(): void {
    if (this.disposed || !this.pullPending || this.queue.size === 0) return;
    const s = this.source.surface;
    // A surface switch is announced (and the queue reset) by the 'surface' event; until then, wait.
    if (!s || s.width !== this.queue.surfaceWidth || s.height !== this.queue.surfaceHeight) return;
    if (this.sink.ready && !this.sink.ready()) return;
    const rects = this.queue.take();
    const withPixels = this.options.withPixels ? this.options.withPixels(s) : true;
    const packet = withPixels ? encodeFramePacket(s.id, rects, { pixels: s.pixels, stride: s.stride }, uninitialised) : encodeFramePacket(s.id, rects);
    this.pullPending = false;
    this.counters.framesSent++;
    this.counters.bytesSent += packet.byteLength;
    this.sink.frame(packet);
  }

  stats(): FramePumpStats {
    return { ...this.counters, queuedRects: this.queue.size, pullPending: this.pullPending };
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Stops listening; sends nothing more. Does not close the source (others may share it). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.detach();
  }

  private surfaceChanged(s: Surface): void {
    this.queue.reset(s.width, s.height);
    // SurfaceInfo only: the pixels travel as FramePackets (or through the viewer's own mapping).
    this.sink.message({ t: 'surface', surface: { id: s.id, width: s.width, height: s.height, stride: s.stride, format: s.format, transport: s.transport } });
    this.flush();
  }

  private damaged(rects: Rect[]): void {
    this.queue.add(rects);
    this.flush();
  }

  private end(reason: string): void {
    if (this.disposed) return;
    this.sink.message({ t: 'closed', reason });
    this.dispose();
  }
}

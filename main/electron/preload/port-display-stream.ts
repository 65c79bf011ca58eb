// A DisplayStream over the MessagePort that the preload receives from main (the other end is in
// the VM's display utility). The preload owns the port; the page only gets plain functions and
// plain data through contextBridge, which copies every value it passes (a frame's ArrayBuffer
// included), so the object returned by toBridgeObject() has no prototype methods and no port.
// Runs on the renderer's main thread, in the preload's isolated world.
import type { DisplayMessage, DisplayStream, InputMessage, ViewerMessage } from '../../../common/contract.js';
import { DisplayEventQueue } from '../../../common/display-event-queue.js';

/** The part of a DOM MessagePort this uses (a fake in tests). */
export interface PortLike {
  onmessage: ((e: { data: unknown }) => void) | null;
  postMessage(m: unknown): void;
  close(): void;
}

export class PortDisplayStream {
  /** holds what arrives before the page registers its callbacks (the first surface comes at once) */
  private readonly events = new DisplayEventQueue();
  private closed = false;
  /** zero-copy: views the preload mapped, by surface id (newest last, at most two) */
  private readonly shared: Array<{ id: number; view: Uint8Array }> = [];
  /** zero-copy: tags the page messages that carry this stream's views (see toBridgeObject) */
  sharedSurfaceKey: string | undefined;

  constructor(
    private readonly port: PortLike,
    private readonly onClose: () => void = () => {},
  ) {
    port.onmessage = (e) => this.received(e.data);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onMessage(cb: (m: DisplayMessage) => void): void {
    this.events.onMessage(cb);
  }

  onFrame(cb: (packet: ArrayBuffer) => void): void {
    this.events.onFrame(cb);
  }

  pull(): void {
    this.post({ t: 'pull' });
  }

  sendInput(input: InputMessage): void {
    this.post({ t: 'input', input });
  }

  /** Clipboard sharing on/off and the host's text for the guest: the same viewer messages as kju serve's. */
  sendClipboard(m: Extract<ViewerMessage, { t: 'clipboard' | 'clipboard-share' }>): void {
    this.post(m.t === 'clipboard' ? { t: 'clipboard', text: String(m.text) } : { t: 'clipboard-share', on: !!m.on });
  }

  /** The page lost its pixels (GL context): the utility's FramePump sends the whole surface next. */
  refresh(): void {
    this.post({ t: 'refresh' });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.onmessage = null;
    this.port.close();
    this.events.clear();
    this.shared.length = 0;
    this.onClose();
  }

  /** Zero-copy (preload world): the view of surface `id` the preload mapped, if any. */
  surfacePixels(surfaceId: number): Uint8Array | undefined {
    return this.shared.find((x) => x.id === surfaceId)?.view;
  }

  /** Zero-copy: a surface the preload mapped (the page gets the same view by window.postMessage). */
  setSharedSurface(surfaceId: number, view: Uint8Array): void {
    this.shared.push({ id: surfaceId, view });
    while (this.shared.length > 2) this.shared.shift();
  }

  /** Ends the stream from our side with a reason the page sees as {t:'closed'} (e.g. the utility died). */
  end(reason: string): void {
    if (this.closed) return;
    this.events.message({ t: 'closed', reason });
    this.close();
  }

  /**
   * A plain object of functions: what contextBridge can hand to the page. It has no surfacePixels:
   * contextBridge would copy (or refuse) a SharedArrayBuffer. Instead `sharedSurfaceKey` tells the
   * page which window messages carry this stream's views (renderer/display/shared-views.ts).
   */
  toBridgeObject(): DisplayStream & { sharedSurfaceKey?: string } {
    return {
      ...(this.sharedSurfaceKey ? { sharedSurfaceKey: this.sharedSurfaceKey } : {}),
      onMessage: (cb) => this.onMessage(cb),
      onFrame: (cb) => this.onFrame(cb),
      pull: () => this.pull(),
      sendInput: (i) => this.sendInput(i),
      refresh: () => this.refresh(),
      sendClipboard: (m) => this.sendClipboard(m),
      close: () => this.close(),
    };
  }

  private post(m: ViewerMessage): void {
    if (!this.closed) this.port.postMessage(m);
  }

  private received(data: unknown): void {
    if (this.closed) return;
    if (data instanceof ArrayBuffer) return this.events.frame(data);
    if (data && typeof data === 'object' && typeof (data as { t?: unknown }).t === 'string') {
      const m = data as DisplayMessage;
      this.events.message(m);
      if (m.t === 'closed') this.close();
    }
  }
}

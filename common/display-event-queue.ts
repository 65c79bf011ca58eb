// A display stream's incoming events (DisplayMessages and FramePackets) in arrival order, held
// until the viewer has registered the callback for the oldest one: the first surface arrives before
// the page listens. Once anything waits, everything after it waits, so a frame never overtakes its
// surface. Used by both DisplayStreams (the preload's PortDisplayStream, the serve page's WebSocket
// stream); runs on the thread that feeds it (the renderer's main thread), callbacks synchronously.
import type { DisplayMessage } from './contract.js';

type DisplayEvent = { kind: 'message'; message: DisplayMessage } | { kind: 'frame'; packet: ArrayBuffer };

export class DisplayEventQueue {
  private messageCb: ((m: DisplayMessage) => void) | null = null;
  private frameCb: ((packet: ArrayBuffer) => void) | null = null;
  private readonly waiting: DisplayEvent[] = [];

  /** Sets (or replaces) the message callback and delivers what waited for it. */
  onMessage(cb: (m: DisplayMessage) => void): void {
    this.messageCb = cb;
    this.drain();
  }

  /** Sets (or replaces) the frame callback and delivers what waited for it. */
  onFrame(cb: (packet: ArrayBuffer) => void): void {
    this.frameCb = cb;
    this.drain();
  }

  message(m: DisplayMessage): void {
    this.push({ kind: 'message', message: m });
  }

  /** The packet is handed on as is: the frame callback owns it. */
  frame(packet: ArrayBuffer): void {
    this.push({ kind: 'frame', packet });
  }

  /** How many events wait for a callback. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Drops what waits (the stream closed); callbacks stay. */
  clear(): void {
    this.waiting.length = 0;
  }

  private push(e: DisplayEvent): void {
    if (this.waiting.length || !this.deliver(e)) this.waiting.push(e);
  }

  private drain(): void {
    // A callback may close the stream (clear) or register the other callback (a nested drain).
    while (this.waiting.length) {
      const e = this.waiting[0];
      if (!this.hasCallback(e)) return;
      this.waiting.shift();
      this.deliver(e);
    }
  }

  private hasCallback(e: DisplayEvent): boolean {
    return e.kind === 'message' ? this.messageCb !== null : this.frameCb !== null;
  }

  /** false when nobody listens for this kind yet */
  private deliver(e: DisplayEvent): boolean {
    if (e.kind === 'message') {
      if (!this.messageCb) return false;
      this.messageCb(e.message);
    } else {
      if (!this.frameCb) return false;
      this.frameCb(e.packet);
    }
    return true;
  }
}

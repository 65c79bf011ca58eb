// An AudioStream over the MessagePort that the preload receives from main (the other end is in the
// VM's display utility, fed by the viewer endpoint's relaySound, as kju serve's sound socket is).
// Holds what arrives before the page registers its callbacks (the format comes at once). The page
// gets plain functions through contextBridge (toBridgeObject). Renderer main thread, preload world.
import type { AudioMessage, AudioStream } from '../../../common/contract.js';
import type { PortLike } from './port-display-stream.js';

export class PortAudioStream {
  private onMsg: ((m: AudioMessage) => void) | null = null;
  private onPcmCb: ((p: ArrayBuffer) => void) | null = null;
  private readonly early: Array<AudioMessage | ArrayBuffer> = [];
  private closed = false;

  constructor(
    private readonly port: PortLike,
    private readonly onClose: () => void = () => {},
  ) {
    port.onmessage = (e) => this.received(e.data);
  }

  onMessage(cb: (m: AudioMessage) => void): void {
    this.onMsg = cb;
    this.drain();
  }

  onPcm(cb: (p: ArrayBuffer) => void): void {
    this.onPcmCb = cb;
    this.drain();
  }

  /** Ends the stream from our side with a reason the page sees as {t:'closed'} (e.g. the utility died). */
  end(reason: string): void {
    if (this.closed) return;
    this.deliver({ t: 'closed', reason });
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.onmessage = null;
    this.port.close();
    this.early.length = 0;
    this.onClose();
  }

  toBridgeObject(): AudioStream {
    return { onMessage: (cb) => this.onMessage(cb), onPcm: (cb) => this.onPcm(cb), close: () => this.close() };
  }

  private received(data: unknown): void {
    if (this.closed) return;
    if (data instanceof ArrayBuffer) return this.deliver(data);
    if (data && typeof data === 'object' && typeof (data as { t?: unknown }).t === 'string') {
      const m = data as AudioMessage;
      this.deliver(m);
      if (m.t === 'closed') this.close();
    }
  }

  private deliver(x: AudioMessage | ArrayBuffer): void {
    const ready = x instanceof ArrayBuffer ? this.onPcmCb : this.onMsg;
    if (ready && !this.early.length) return x instanceof ArrayBuffer ? this.onPcmCb!(x) : this.onMsg!(x);
    this.early.push(x);
    this.drain();
  }

  /** Delivers held items in order, stopping at the first whose callback is not registered yet. */
  private drain(): void {
    while (this.early.length) {
      const x = this.early[0];
      if (x instanceof ArrayBuffer ? !this.onPcmCb : !this.onMsg) return;
      this.early.shift();
      if (x instanceof ArrayBuffer) this.onPcmCb!(x);
      else this.onMsg!(x);
    }
  }
}

// Sits between a PeerConnection's byte stream and dbus-native: frames every message after the SASL
// handshake, hands the fixed-layout calls of a FixedCallSpec straight to `deliver` and passes all
// other bytes through to dbus-native unchanged, keeping the order in which messages arrived.
// Runs on the event loop of the thread that reads the stream (the listener worker for QEMU's calls).
import type { DbusMessage, PeerStream } from './dbus-message.js';
import { decodeFixedCall, framedLength, type FixedCallSpec } from './fixed-call.js';

/** a message that went the general way and that dbus-native has not emitted yet */
const GENERAL = Symbol('general');

export class FixedCallTap {
  private readonly rawPush: (chunk: Buffer | null) => boolean;
  private readonly rawWrite: PeerStream['write'];
  private held: Buffer = Buffer.alloc(0);
  /** server lines the handshake may still read: one per command line we sent (BEGIN gets none) */
  private lineCredit = 0;
  private mode: 'handshake' | 'framing' | 'passthrough' = 'handshake';
  private readonly order: (DbusMessage | typeof GENERAL)[] = [];
  /** messages decoded here and delivered: for stats and tests */
  fastCount = 0;

  constructor(
    private readonly stream: PeerStream,
    private readonly spec: FixedCallSpec,
    private readonly maxMessageBytes: number,
    private readonly deliver: (m: DbusMessage) => void,
  ) {
    this.rawPush = stream.push.bind(stream) as (chunk: Buffer | null) => boolean;
    this.rawWrite = stream.write;
    stream.push = (chunk: unknown) => this.received(chunk as Buffer | null);
    stream.write = ((data: unknown, ...rest: unknown[]) => {
      this.sent(data);
      return (this.rawWrite as (...a: unknown[]) => boolean).apply(stream, [data, ...rest]);
    }) as PeerStream['write'];
  }

  /** dbus-native has emitted the oldest message that went the general way: deliver what queued behind it */
  generalDelivered(): void {
    if (this.order[0] === GENERAL) this.order.shift();
    while (this.order.length > 0 && this.order[0] !== GENERAL) this.deliver(this.order.shift() as DbusMessage);
  }

  private sent(data: unknown): void {
    if (this.mode !== 'handshake') return;
    const text = typeof data === 'string' ? data : Buffer.isBuffer(data) || data instanceof Uint8Array ? Buffer.from(data as Uint8Array).toString('latin1') : '';
    for (const line of text.split('\n').slice(0, -1)) {
      if (line.replace(/^\0/, '').trimEnd() === 'BEGIN') {
        this.mode = 'framing';
        this.stream.write = this.rawWrite; // nothing more to watch
        this.pump();
        return;
      }
      this.lineCredit++;
    }
    if (this.held.length > 0) queueMicrotask(() => this.pump());
  }

  private received(chunk: Buffer | null): boolean {
    if (chunk === null) {
      const rest = this.held;
      this.held = Buffer.alloc(0);
      if (rest.length > 0) this.rawPush(rest); // a truncated tail: dbus-native sees what it would have
      return this.rawPush(null);
    }
    if (this.mode === 'passthrough') return this.rawPush(chunk);
    this.held = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    return this.pump();
  }

  private pump(): boolean {
    let ok = true;
    if (this.mode === 'handshake') {
      while (this.lineCredit > 0) {
        const nl = this.held.indexOf(0x0a);
        if (nl < 0) break;
        this.lineCredit--;
        ok = this.rawPush(this.held.subarray(0, nl + 1));
        this.held = this.held.subarray(nl + 1);
      }
      return ok;
    }
    if (this.mode === 'passthrough') {
      const rest = this.held;
      this.held = Buffer.alloc(0);
      return rest.length > 0 ? this.rawPush(rest) : true;
    }
    const buf = this.held;
    let at = 0;
    let generalFrom = -1; // consecutive general messages go to dbus-native as one chunk
    const flushGeneral = (to: number) => {
      if (generalFrom < 0) return;
      ok = this.rawPush(buf.subarray(generalFrom, to)) && ok;
      generalFrom = -1;
    };
    while (at < buf.length) {
      const len = framedLength(buf, at, this.maxMessageBytes);
      if (len === 'short') break;
      if (len === 'bad') {
        // Framing is lost: dbus-native reports the error and closes, as it would without the tap.
        this.mode = 'passthrough';
        if (generalFrom < 0) generalFrom = at;
        at = buf.length;
        break;
      }
      if (at + len > buf.length) break;
      const call = decodeFixedCall(buf.subarray(at, at + len), this.spec);
      if (call) {
        flushGeneral(at);
        this.fastCount++;
        if (this.order.length === 0) this.deliver(call);
        else this.order.push(call);
      } else {
        if (generalFrom < 0) generalFrom = at;
        this.order.push(GENERAL);
      }
      at += len;
    }
    flushGeneral(at);
    this.held = buf.subarray(at);
    return ok;
  }
}

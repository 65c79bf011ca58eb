// A peer-to-peer D-Bus connection (no bus daemon, no Hello, no destinations) over a unix socket
// that can carry fds. Marshalling and the auth handshake are dbus-native's; this adds method-call
// bookkeeping (serials, replies, timeouts) and typed incoming calls/signals.
// Runs on the event loop of the thread that opened it; all callbacks fire there.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { FdSocket } from '../../native/index.js';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import type { DbusMessage, PeerStream } from './dbus-message.js';
import type { FixedCallSpec } from './fixed-call.js';

export type { DbusMessage, PeerStream };
import { FixedCallTap } from './fixed-call-tap.js';

const require = createRequire(import.meta.url);
// dbus-native is CommonJS with its own (loose) typings; the surface used here is typed below.
const dbus = require('dbus-native') as {
  createConnection(opts: Record<string, unknown>): RawConnection;
  Variant: new (signature: string, value: unknown) => unknown;
  toPlain(v: unknown): unknown;
};

interface RawConnection extends EventEmitter {
  message(msg: Record<string, unknown>): boolean;
  end?(): void;
  stream: { destroy(err?: Error): void; destroyed?: boolean };
  state?: string;
}

export const MessageType = { methodCall: 1, methodReturn: 2, error: 3, signal: 4 } as const;
const FLAG_NO_REPLY_EXPECTED = 1;

export class DbusCallError extends KjuError {
  override name = 'DbusCallError';
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super('dbus-failed', `${errorName}: ${message}`);
  }
}

export class DbusClosedError extends KjuError {
  override name = 'DbusClosedError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('connection-closed', message, options);
  }
}

export interface CallOptions {
  signature?: string;
  body?: unknown[];
  fds?: number[];
  timeoutMs?: number;
  /** send with NO_REPLY_EXPECTED; the promise resolves once written */
  noReply?: boolean;
}

interface Pending {
  resolve(body: unknown[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
  what: string;
}

export interface PeerConnectionEvents {
  /** an incoming method call; the handler must reply (unless NO_REPLY_EXPECTED) */
  call: [msg: DbusMessage];
  signal: [msg: DbusMessage];
  close: [err: Error | undefined];
}

export const variant = (signature: string, value: unknown): unknown => new dbus.Variant(signature, value);
/** a{sv} as dbus-native returns it (either value shape) → a plain object of plain values */
export function plainDict(v: unknown): Record<string, unknown> {
  const plain = dbus.toPlain(v);
  return plain !== null && typeof plain === 'object' && !Array.isArray(plain) ? (plain as Record<string, unknown>) : {};
}

export class PeerConnection extends EventEmitter<PeerConnectionEvents> {
  private readonly raw: RawConnection;
  private serial = 1;
  private readonly pending = new Map<number, Pending>();
  private closedWith: Error | null = null;
  private readonly tap: FixedCallTap | undefined;
  /** resolves when the auth handshake has completed */
  readonly ready: Promise<void>;

  /**
   * Takes ownership of `socket` (an fd, or a stream) and starts the client side of the handshake at
   * once (QEMU, the server, may run its side synchronously and block until we answer).
   */
  constructor(socket: number | PeerStream, opts: { name: string; ayView?: boolean; fixedCalls?: FixedCallSpec }) {
    super();
    const stream = typeof socket === 'number' ? new FdSocket(socket) : socket;
    const maxMessageSize = 256 * 1024 * 1024;
    // Fixed-layout calls skip dbus-native's unmarshaller; they arrive as 'call' events all the same.
    if (opts.fixedCalls)
      this.tap = new FixedCallTap(stream, opts.fixedCalls, maxMessageSize, (m) => {
        try {
          this.dispatch(m);
        } catch (err) {
          console.error(`kju: ${opts.name}: error in a D-Bus handler:`, err); // as for 'handlerError' below
        }
      });
    this.raw = dbus.createConnection({
      stream,
      direct: true,
      authMethods: ['EXTERNAL'],
      ayBuffer: opts.ayView ? 'view' : true,
      returnBigInt: false,
      maxMessageSize,
    });
    this.ready = new Promise((resolve, reject) => {
      this.raw.once('connect', () => resolve());
      this.raw.once('close', () => reject(this.closedWith ?? new DbusClosedError(`${opts.name}: connection closed during the D-Bus handshake`)));
    });
    this.ready.catch(() => {});
    this.raw.on('message', (m: DbusMessage) => {
      try {
        this.dispatch(m);
      } finally {
        this.tap?.generalDelivered();
      }
    });
    this.raw.on('error', (err: Error) => {
      this.closedWith ??= err;
    });
    this.raw.on('handlerError', (err: Error) => {
      // A bug in one of our handlers must not kill the link (QEMU would see its listener vanish).
      console.error(`kju: ${opts.name}: error in a D-Bus handler:`, err);
    });
    this.raw.on('close', () => this.teardown(this.closedWith ?? new DbusClosedError(`${opts.name}: D-Bus connection closed`)));
  }

  call(path: string, iface: string, member: string, opts: CallOptions = {}): Promise<unknown[]> {
    if (this.raw.state === 'disconnected') return Promise.reject(this.closedWith ?? new DbusClosedError('D-Bus connection is closed'));
    const serial = this.serial++;
    const msg: Record<string, unknown> = { type: MessageType.methodCall, serial, path, interface: iface, member };
    if (opts.signature) {
      msg.signature = opts.signature;
      msg.body = opts.body ?? [];
    }
    if (opts.fds?.length) msg.fds = opts.fds;
    if (opts.noReply) {
      msg.flags = FLAG_NO_REPLY_EXPECTED;
      this.raw.message(msg);
      return Promise.resolve([]);
    }
    return new Promise((resolve, reject) => {
      const what = `${iface}.${member} on ${path}`;
      const timeoutMs = opts.timeoutMs ?? 25_000;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(serial);
              reject(new DbusCallError('org.freedesktop.DBus.Error.Timeout', `${what} got no reply in ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      this.pending.set(serial, { resolve, reject, timer, what });
      try {
        this.raw.message(msg);
      } catch (err) {
        this.pending.delete(serial);
        if (timer) clearTimeout(timer);
        reject(err as Error);
      }
    });
  }

  reply(to: DbusMessage, signature?: string, body?: unknown[]): void {
    if ((to.flags ?? 0) & FLAG_NO_REPLY_EXPECTED) return;
    const msg: Record<string, unknown> = { type: MessageType.methodReturn, serial: this.serial++, replySerial: to.serial };
    if (signature) {
      msg.signature = signature;
      msg.body = body ?? [];
    }
    this.raw.message(msg);
  }

  replyError(to: DbusMessage, errorName: string, text: string): void {
    if ((to.flags ?? 0) & FLAG_NO_REPLY_EXPECTED) return;
    this.raw.message({ type: MessageType.error, serial: this.serial++, replySerial: to.serial, errorName, signature: 's', body: [text] });
  }

  /** calls decoded by the fixed-layout fast path so far */
  get fixedCallCount(): number {
    return this.tap?.fastCount ?? 0;
  }

  close(): void {
    if (!this.raw.stream.destroyed) this.raw.stream.destroy();
  }

  private dispatch(m: DbusMessage): void {
    if (m.type === MessageType.methodReturn || m.type === MessageType.error) {
      const p = m.replySerial !== undefined ? this.pending.get(m.replySerial) : undefined;
      if (!p) return;
      this.pending.delete(m.replySerial!);
      if (p.timer) clearTimeout(p.timer);
      if (m.type === MessageType.methodReturn) p.resolve(m.body ?? []);
      else p.reject(new DbusCallError(m.errorName ?? 'org.freedesktop.DBus.Error.Failed', String(m.body?.[0] ?? p.what)));
    } else if (m.type === MessageType.methodCall) {
      this.emit('call', m);
    } else if (m.type === MessageType.signal) {
      this.emit('signal', m);
    }
  }

  private teardown(err: Error): void {
    this.closedWith ??= err;
    for (const [serial, p] of this.pending) {
      this.pending.delete(serial);
      if (p.timer) clearTimeout(p.timer);
      p.reject(new DbusClosedError(`${p.what}: ${err.message}`));
    }
    this.emit('close', err);
  }
}

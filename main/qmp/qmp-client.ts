// A QMP client over a unix stream socket. Runs on the Node event loop of the thread that created
// it; events and promise settlements happen there. Any stream works (tests use fakes); fd passing
// (`getfd`) needs a stream with `writeWithFds`, i.e. the native addon's FdSocket.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { JsonLineDecoder, encodeJsonLine } from '../util/json-lines.js';
import type { QmpArgs, QmpCommandName, QmpEvent, QmpExecutor, QmpGreeting, QmpReturn } from './qmp-types.js';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

/** QMP broke its framing or protocol (a line that is not JSON, a reply with neither return nor error). */
export class QmpProtocolError extends KjuError {
  override name = 'QmpProtocolError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('protocol-error', message, options);
  }
}

/** What QmpClient needs from a byte stream: a net.Socket or the addon's FdSocket fit. */
export interface QmpStream {
  write(data: Uint8Array): boolean;
  /** Sends `data` and the fds (SCM_RIGHTS) in one sendmsg, after anything written earlier. */
  writeWithFds?(data: Uint8Array, fds: number[]): boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  destroy(): void;
}

/** QEMU answered a command with an error. `errorClass` is QEMU's `class` (e.g. GenericError). */
export class QmpError extends KjuError {
  override name = 'QmpError';
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super('qmp-failed', `QMP ${command} failed: ${desc} (${errorClass})`);
  }
}

/** The connection ended (QEMU exited, socket closed, client closed) before a reply arrived. */
export class QmpClosedError extends KjuError {
  override name = 'QmpClosedError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('connection-closed', message, options);
  }
}

/** No greeting arrived in time: the socket is not a QMP monitor, or QEMU is stuck. */
export class QmpTimeoutError extends KjuError {
  override name = 'QmpTimeoutError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('timeout', message, options);
  }
}

/** The stream cannot carry fds (not the addon's FdSocket). */
export class QmpFdPassingError extends KjuError {
  override name = 'QmpFdPassingError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('fd-passing-unsupported', message, options);
  }
}

export interface QmpClientOptions {
  /** Milliseconds to wait for the greeting and the qmp_capabilities reply. Default 10 000. */
  greetingTimeoutMs?: number;
  /**
   * Milliseconds a command may wait for its reply before it rejects with QmpTimeoutError (a hung or
   * SIGSTOPped QEMU). Default 30 000; long jobs (migration, snapshots) are polled, not awaited.
   */
  commandTimeoutMs?: number;
}

export interface QmpClientEvents {
  event: [event: QmpEvent];
  /** Emitted once; `error` is set when the end was not asked for by close(). */
  close: [error: QmpClosedError | undefined];
}

interface Pending {
  command: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

type AnyCommand = string & {};

export class QmpClient extends EventEmitter<QmpClientEvents> implements QmpExecutor {
  /** The greeting QEMU sent (version and capabilities); set once open. */
  greeting: QmpGreeting | undefined;
  private readonly decoder = new JsonLineDecoder();
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private commandTimeoutMs = 30_000;
  private closedError: QmpClosedError | undefined;
  private greetingWaiter: { resolve(g: QmpGreeting): void; reject(err: Error): void } | undefined;

  private constructor(private readonly stream: QmpStream) {
    super();
    stream.on('data', (chunk) => this.onData(chunk));
    stream.on('error', (err) => this.shutdown(new QmpClosedError(`QMP connection failed: ${err.message}`, { cause: err })));
    stream.on('close', () => this.shutdown(new QmpClosedError('QMP connection closed (QEMU exited or closed the monitor)')));
  }

  /**
   * Connects to the QMP unix socket at `path` and negotiates capabilities. Uses the native
   * addon's FdSocket (fd passing works) when it loads, else a plain net.Socket (no fd passing).
   */
  static async connect(path: string, opts: QmpClientOptions = {}): Promise<QmpClient> {
    const stream = (await openFdSocket(path)) ?? (await openNetSocket(path));
    return QmpClient.open(stream, opts);
  }

  /** Performs the greeting and qmp_capabilities on an already connected stream. */
  static async open(stream: QmpStream, opts: QmpClientOptions = {}): Promise<QmpClient> {
    const client = new QmpClient(stream);
    if (opts.commandTimeoutMs !== undefined) client.commandTimeoutMs = opts.commandTimeoutMs;
    const timeoutMs = opts.greetingTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          client.greeting = await new Promise<QmpGreeting>((resolve, reject) => {
            if (client.closedError) reject(client.closedError);
            else client.greetingWaiter = { resolve, reject };
          });
          await client.execute('qmp_capabilities');
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new QmpTimeoutError(`no QMP greeting within ${timeoutMs} ms (is this a QMP socket? is QEMU stuck?)`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      client.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** Whether executeWithFd can work on this connection (the stream is the addon's FdSocket). */
  get canPassFds(): boolean {
    return typeof this.stream.writeWithFds === 'function';
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Runs a command; resolves with its `return`, rejects with QmpError or QmpClosedError. */
  execute<K extends QmpCommandName>(command: K, ...args: undefined extends QmpArgs<K> ? [QmpArgs<K>?] : [QmpArgs<K>]): Promise<QmpReturn<K>>;
  execute<T = unknown>(command: AnyCommand, args?: Record<string, unknown>): Promise<T>;
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    return this.send(command, args, undefined);
  }

  /**
   * Runs a command whose bytes travel in the same sendmsg as `fd` (SCM_RIGHTS), as `getfd` and
   * `add-fd` require. The caller still owns `fd` and may close it once this resolves.
   */
  executeWithFd<K extends QmpCommandName>(command: K, args: QmpArgs<K>, fd: number): Promise<QmpReturn<K>>;
  executeWithFd<T = unknown>(command: AnyCommand, args: Record<string, unknown> | undefined, fd: number): Promise<T>;
  executeWithFd(command: string, args: Record<string, unknown> | undefined, fd: number): Promise<unknown> {
    if (!this.stream.writeWithFds) {
      return Promise.reject(new QmpFdPassingError(`QMP ${command}: this connection cannot pass file descriptors (it is not the native addon's FdSocket; build it with \`npm run build:native\`)`));
    }
    return this.send(command, args, fd);
  }

  /** Resolves with the next event named `name` (matching `filter`), rejects on timeout or close. */
  waitForEvent(name: string, timeoutMs: number, filter?: (e: QmpEvent) => boolean): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      if (this.closedError) return reject(this.closedError);
      const onEvent = (e: QmpEvent) => {
        if (e.event !== name || (filter && !filter(e))) return;
        cleanup();
        resolve(e);
      };
      const onClose = (err: QmpClosedError | undefined) => {
        cleanup();
        reject(err ?? new QmpClosedError(`QMP closed while waiting for event ${name}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new QmpTimeoutError(`no QMP event ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
      };
      this.on('event', onEvent);
      this.on('close', onClose);
    });
  }

  /** Async iteration over events from now on; ends when the connection closes. */
  async *events(): AsyncGenerator<QmpEvent, void, undefined> {
    const queue: QmpEvent[] = [];
    let wake: (() => void) | undefined;
    let done = this.closed;
    const onEvent = (e: QmpEvent) => {
      queue.push(e);
      wake?.();
    };
    const onClose = () => {
      done = true;
      wake?.();
    };
    this.on('event', onEvent);
    this.on('close', onClose);
    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (done) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      this.off('event', onEvent);
      this.off('close', onClose);
    }
  }

  /** Closes the connection; pending commands reject with QmpClosedError. Idempotent. */
  close(): void {
    this.shutdown(new QmpClosedError('QMP connection closed by kju'), true);
  }

  private send(command: string, args: Record<string, unknown> | undefined, fd: number | undefined): Promise<unknown> {
    if (this.closedError) {
      return Promise.reject(new QmpClosedError(`QMP ${command}: ${this.closedError.message}`, { cause: this.closedError }));
    }
    const id = `kju-${this.nextId++}`;
    const message: Record<string, unknown> = { execute: command, id };
    if (args !== undefined) message.arguments = args;
    const bytes = encodeJsonLine(message);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        reject(new QmpTimeoutError(`QMP ${command}: no reply within ${this.commandTimeoutMs} ms (QEMU is not responding)`));
      }, this.commandTimeoutMs);
      const done =
        <A extends unknown[]>(f: (...a: A) => void) =>
        (...a: A) => {
          clearTimeout(timer);
          f(...a);
        };
      this.pending.set(id, { command, resolve: done(resolve), reject: done(reject) });
      try {
        if (fd === undefined) this.stream.write(bytes);
        else this.stream.writeWithFds!(bytes, [fd]);
      } catch (err) {
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private onData(chunk: Buffer): void {
    if (this.closedError) return;
    let messages: unknown[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      this.shutdown(new QmpClosedError(`QMP ${(err as Error).message}`, { cause: err }), false);
      this.stream.destroy();
      return;
    }
    for (const m of messages) this.dispatch(m);
  }

  private dispatch(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if ('QMP' in m) {
      const waiter = this.greetingWaiter;
      this.greetingWaiter = undefined;
      waiter?.resolve(m as unknown as QmpGreeting);
      return;
    }
    if (typeof m.event === 'string') {
      const ts = (m.timestamp ?? { seconds: 0, microseconds: 0 }) as QmpEvent['timestamp'];
      this.emit('event', { event: m.event, data: (m.data ?? {}) as Record<string, unknown>, timestamp: ts });
      return;
    }
    const id = typeof m.id === 'string' ? m.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return; // a reply to nothing we sent: ignore
    this.pending.delete(id);
    if ('return' in m) {
      p.resolve(m.return);
    } else if (typeof m.error === 'object' && m.error !== null) {
      const e = m.error as { class?: unknown; desc?: unknown };
      p.reject(new QmpError(p.command, String(e.class ?? 'GenericError'), String(e.desc ?? 'unknown error')));
    } else {
      p.reject(new QmpProtocolError(`QMP ${p.command}: reply has neither return nor error`));
    }
  }

  private shutdown(reason: QmpClosedError, byClient = false): void {
    if (this.closedError) return;
    this.closedError = reason;
    const waiter = this.greetingWaiter;
    this.greetingWaiter = undefined;
    waiter?.reject(reason);
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new QmpClosedError(`QMP ${p.command} got no reply: ${reason.message}`, { cause: reason }));
    }
    this.stream.destroy();
    this.emit('close', byClient ? undefined : reason);
  }
}

async function openNetSocket(path: string): Promise<QmpStream> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', (err) => reject(new QmpClosedError(`cannot connect to QMP socket ${path}: ${err.message}`, { cause: err })));
  });
}

/** The addon's FdSocket, or undefined if the addon is not built or cannot load here. */
async function openFdSocket(path: string): Promise<QmpStream | undefined> {
  let native: typeof import('../../native/index.js');
  try {
    native = await import('../../native/index.js');
  } catch {
    return undefined;
  }
  let fd: number;
  try {
    fd = native.connectUnix(path);
  } catch (err) {
    if (!(err instanceof native.NativeError)) return undefined; // the addon itself did not load
    throw new QmpClosedError(`cannot connect to QMP socket ${path}: ${(err as Error).message}`, { cause: err });
  }
  return new native.FdSocket(fd);
}

// The only file that loads kju_native.node: fd passing (SCM_RIGHTS) and shared-memory mappings,
// which Node cannot do itself. Everything here is synchronous on the calling thread's JS loop
// unless said otherwise; every thread (main, worker_thread, Electron window) gets its own addon
// instance, and its objects are cleaned up (fds closed, mappings restored) when that thread exits.
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { EventEmitter } from 'node:events';
import { unlinkSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** An OS-level failure. `code` is the errno name ('ENOENT', 'EBADF', ...) or a kju code
 *  ('ESHORTFILE': file shorter than the requested mapping; 'ERELEASED': Mapping used after release). */
export class NativeError extends Error {
  code: string;
  syscall: string;
  constructor(message: string, code: string, syscall: string) {
    super(message);
    this.name = 'NativeError';
    this.code = code;
    this.syscall = syscall;
  }
}

type ReadCallback = (err: NativeError | null, fds: number[] | undefined, chunk: Buffer | undefined) => void;

interface FdSocketHandle {
  readStart(): void;
  readStop(): void;
  /** bytes sent, or -1 for EAGAIN (nothing sent) */
  send(data: Uint8Array, fds?: number[]): number;
  waitWritable(): void;
  shutdownWrite(): void;
  close(): void;
  ref(): void;
  unref(): void;
}

interface FdServerHandle {
  start(): void;
  stop(): void;
  close(): void;
  ref(): void;
  unref(): void;
}

interface MappingHandle {
  readonly shared: boolean;
  readonly viewOffset: number;
  readonly reason: string | undefined;
  copyRects(stride: number, rects: Uint32Array, dst: Uint8Array): void;
  release(): void;
}

interface Binding {
  init(classes: { NativeError: typeof NativeError }): void;
  socketpair(): [number, number];
  connectUnix(path: string): number;
  listenUnix(path: string, backlog: number): number;
  closeFd(fd: number): void;
  dupCloexec(fd: number): number;
  memfdCreate(name: string, size: number): number;
  fileSize(fd: number): number;
  readonly pageSize: number;
  readonly sharedViewSupported: boolean;
  FdSocketHandle: new (fd: number, onRead: ReadCallback, onWritable: () => void) => FdSocketHandle;
  FdServerHandle: new (fd: number, onAccept: (err: NativeError | null, fd: number | undefined) => void) => FdServerHandle;
  MappingHandle: new (
    fd: number,
    offset: number,
    length: number,
    writable: boolean,
    target: Uint8Array | undefined,
    copyReason: string | undefined,
  ) => MappingHandle;
}

// A CJS bundle (the Electron preload) has no import.meta.url; fall back to its __filename.
const here: string = import.meta.url ?? pathToFileURL(__filename).href;

/** Paths tried, in order: next to the bundle (app/out/), the node-gyp output beside this file,
 *  then the same with app.asar -> app.asar.unpacked (Electron cannot dlopen from inside an asar). */
function candidatePaths(): string[] {
  const direct = [new URL('./kju_native.node', here), new URL('./build/Release/kju_native.node', here)].map((u) =>
    fileURLToPath(u),
  );
  const asar = `${sep}app.asar${sep}`;
  const unpacked = direct.filter((p) => p.includes(asar)).map((p) => p.replace(asar, `${sep}app.asar.unpacked${sep}`));
  return [...direct, ...unpacked];
}

let loaded: Binding | undefined;

/** Loads the addon on first use (so importing this file for types never fails). Throws an Error
 *  listing every path tried and why each failed. */
function binding(): Binding {
  if (loaded) return loaded;
  const require = createRequire(here);
  const failures: string[] = [];
  for (const path of candidatePaths()) {
    try {
      const b = require(path) as Binding;
      b.init({ NativeError });
      loaded = b;
      return b;
    } catch (e) {
      failures.push(`  ${path}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `kju: cannot load the native addon kju_native.node (build it with \`npm run build:native\`). Tried:\n${failures.join('\n')}`,
  );
}

/** A connected AF_UNIX SOCK_STREAM pair, both ends CLOEXEC and blocking. The caller owns both fds. */
export function socketpair(): [number, number] {
  const [a, b] = binding().socketpair();
  return [a, b];
}

/** Connects an AF_UNIX stream socket to `path` without blocking (a full backlog throws 'EAGAIN').
 *  Returns a connected, blocking, CLOEXEC fd the caller owns. Throws NativeError ('ENOENT', 'ECONNREFUSED', ...). */
export function connectUnix(path: string): number {
  return binding().connectUnix(path);
}

/**
 * Creates an AF_UNIX stream socket bound to `path` (the socket file gets mode 0600; put it in a
 * 0700 directory, as the bind-then-chmod window is only closed by that) and listening with
 * `backlog` (1..4096). Returns a non-blocking CLOEXEC fd the caller owns (give it to FdServer).
 * Throws NativeError: 'EADDRINUSE' (path exists; a stale socket must be unlinked by the caller),
 * 'ENOENT'/'EACCES' (directory), 'ENAMETOOLONG' (path over 107 bytes).
 */
export function listenUnix(path: string, backlog = 16): number {
  return binding().listenUnix(path, backlog);
}

export interface FdServerEvents {
  /** a new connection, already wrapped; the listener owns the socket */
  connection: [socket: FdSocket];
  /** accept failed ('EMFILE', 'ENFILE', 'ENOMEM', ...); the server keeps listening and retries after retryMs */
  acceptError: [err: NativeError];
  close: [];
}

/**
 * Accepts connections on a listening unix socket fd (from listenUnix), driven by a uv_poll on the
 * constructing thread's loop; each one is emitted as 'connection' with an FdSocket. Takes
 * ownership of fd once the constructor returns. A failing accept (e.g. out of fds) is reported as
 * 'acceptError' and accepting pauses for `retryMs`, so a full fd table does not spin the loop.
 * close() stops the poll, closes the fd and, if `unlinkPath` was given, removes the socket file;
 * connections already accepted stay open. Keeps its thread's loop alive unless unref()'d; when
 * the thread exits the env cleanup hook closes the fd even if JS did not (the file stays then).
 */
export class FdServer extends EventEmitter<FdServerEvents> {
  readonly fd: number;
  #handle: FdServerHandle;
  #closed = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #unlinkPath: string | undefined;
  #retryMs: number;
  #unref = false;

  constructor(fd: number, opts: { unlinkPath?: string; retryMs?: number } = {}) {
    super();
    this.fd = fd;
    this.#unlinkPath = opts.unlinkPath;
    this.#retryMs = opts.retryMs ?? 100;
    this.#handle = new (binding().FdServerHandle)(fd, (err, cfd) => this.#onAccept(err, cfd));
    this.#handle.start();
  }

  /** listenUnix(path, backlog) + new FdServer(fd, {unlinkPath: path}). */
  static listen(path: string, opts: { backlog?: number; retryMs?: number } = {}): FdServer {
    const fd = listenUnix(path, opts.backlog ?? 16);
    try {
      return new FdServer(fd, { unlinkPath: path, retryMs: opts.retryMs });
    } catch (e) {
      closeFd(fd);
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
      throw e;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#handle.close();
    if (this.#unlinkPath) {
      try {
        unlinkSync(this.#unlinkPath);
      } catch {
        // someone removed it already
      }
    }
    this.emit('close');
  }

  unref(): this {
    this.#unref = true;
    if (!this.#closed) this.#handle.unref();
    this.#retryTimer?.unref();
    return this;
  }

  ref(): this {
    this.#unref = false;
    if (!this.#closed) this.#handle.ref();
    this.#retryTimer?.ref();
    return this;
  }

  #onAccept(err: NativeError | null, fd: number | undefined): void {
    if (this.#closed) {
      if (fd !== undefined) closeFd(fd);
      return;
    }
    if (err) {
      this.emit('acceptError', err);
      if (this.#closed) return;
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = null;
        if (!this.#closed) this.#handle.start();
      }, this.#retryMs);
      if (this.#unref) this.#retryTimer.unref();
      return;
    }
    if (fd === undefined) return;
    let socket: FdSocket;
    try {
      socket = new FdSocket(fd);
    } catch (e) {
      closeFd(fd);
      this.emit('acceptError', e as NativeError);
      return;
    }
    if (this.listenerCount('connection') === 0) socket.destroy(); // nobody to own it
    else this.emit('connection', socket);
  }
}

/** close(2). Throws NativeError 'EBADF' if fd is not open. */
export function closeFd(fd: number): void {
  binding().closeFd(fd);
}

/** A memfd (CLOEXEC) of `size` bytes (zero-filled); the caller owns it. Linux only (else 'ENOSYS').
 *  For tests and the bench: QEMU makes its own. */
export function memfdCreate(name: string, size: number): number {
  return binding().memfdCreate(name, size);
}

/** fstat(fd).st_size in bytes. */
export function fileSize(fd: number): number {
  return binding().fileSize(fd);
}

/**
 * Duplex stream over a unix stream socket that also carries fds (SCM_RIGHTS). Takes ownership of
 * fd (sets O_NONBLOCK) once the constructor returns; if it throws, the fd is left alone.
 * Reads are driven by a uv_poll on the constructing thread's loop; each recvmsg chunk (≤ 64 KiB)
 * is pushed as a Buffer, once a consumer reads (as with any Readable). Received fds are emitted as
 * 'fds' (number[]) BEFORE the chunk whose bytes carried them (the kernel may glue earlier bytes in
 * front of them in that chunk); the listener owns them. Fds that arrive while no 'fds' listener is
 * attached are held, emitted as one batch when a listener is added, and closed on destroy.
 * EOF ends the readable side; as allowHalfOpen is false the writable side then ends too and the
 * stream destroys itself. destroy() closes the fd and stops the poll. Errors destroy the stream
 * with a NativeError. An open socket keeps its thread's loop alive unless unref()'d.
 * This is the transport for dbus-native (writeWithFds, 'fds', closeFds) and for QMP `getfd`.
 */
export class FdSocket extends Duplex {
  readonly fd: number;
  #handle: FdSocketHandle;
  /** Buffers queued by writeWithFds -> the dup'ed fds to send with them. */
  #fdsFor = new WeakMap<Uint8Array, number[]>();
  /** dup'ed fds not yet sent; closed on destroy. */
  #pendingDups = new Set<number[]>();
  /** received while nobody listened to 'fds'; emitted when a listener comes, closed on destroy */
  #unclaimedFds: number[] = [];
  #onWritable: (() => void) | null = null;
  #closed = false;

  constructor(fd: number) {
    super({ allowHalfOpen: false });
    this.fd = fd;
    this.#handle = new (binding().FdSocketHandle)(
      fd,
      (err, fds, chunk) => this.#onRead(err, fds, chunk),
      () => {
        const resume = this.#onWritable;
        this.#onWritable = null;
        resume?.();
      },
    );
    this.on('newListener', (event: string | symbol) => {
      // after the listener is actually added; ahead of resume()'s own nextTick if 'fds' is attached first
      if (event === 'fds' && this.#unclaimedFds.length > 0) process.nextTick(() => this.#flushUnclaimedFds());
    });
  }

  /**
   * Queues data with fds attached to its first byte, in order with ordinary write()s; data and fds
   * go out in one sendmsg (a partial send carries the fds with its first part). The fds are dup'ed
   * now, so the caller keeps ownership of its own copies and may close them as soon as this returns.
   * Returns write()'s backpressure flag. data must not be empty when fds are given.
   */
  writeWithFds(data: Uint8Array, fds: number[]): boolean {
    if (fds.length === 0) return this.write(data);
    if (data.byteLength === 0) throw new RangeError('writeWithFds: fds need at least one byte of data');
    if (fds.length > 253) throw new RangeError('writeWithFds: at most 253 fds per message');
    const b = binding();
    const dups: number[] = [];
    try {
      for (const fd of fds) dups.push(b.dupCloexec(fd));
    } catch (e) {
      for (const d of dups) b.closeFd(d);
      throw e;
    }
    // A fresh Buffer object identifies this chunk in _write (Writable passes Buffers through as-is).
    const chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.#fdsFor.set(chunk, dups);
    this.#pendingDups.add(dups);
    return this.write(chunk);
  }

  /** Closes fds this socket handed out through 'fds' that nobody claimed (dbus-native's teardown hook). */
  closeFds(fds: number[]): void {
    const b = binding();
    for (const fd of fds) {
      try {
        b.closeFd(fd);
      } catch {
        // already closed by its owner
      }
    }
  }

  /** No-op: unix sockets have no Nagle. Present because dbus-native calls it. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /** Lets the thread's event loop exit while this socket is open (like net.Socket#unref). */
  unref(): this {
    if (!this.#closed) this.#handle.unref();
    return this;
  }

  ref(): this {
    if (!this.#closed) this.#handle.ref();
    return this;
  }

  override _read(): void {
    if (!this.#closed) this.#handle.readStart();
  }

  #onRead(err: NativeError | null, fds: number[] | undefined, chunk: Buffer | undefined): void {
    if (this.#closed) {
      if (fds) this.closeFds(fds);
      return;
    }
    if (err) {
      this.destroy(err);
      return;
    }
    if (fds) {
      if (this.listenerCount('fds') > 0) this.emit('fds', fds);
      else this.#unclaimedFds.push(...fds);
    }
    if (chunk === undefined) {
      this.#handle.readStop();
      this.push(null);
    } else if (!this.push(chunk) && !this.#closed) {
      this.#handle.readStop();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const dups = this.#fdsFor.get(chunk);
    this.#send(chunk, dups, callback);
  }

  #send(data: Uint8Array, dups: number[] | undefined, callback: (error?: Error | null) => void): void {
    let rest = data;
    for (;;) {
      if (this.#closed) return callback(new NativeError('write after the socket was closed', 'EBADF', 'sendmsg'));
      let n: number;
      try {
        n = this.#handle.send(rest, dups);
      } catch (e) {
        return callback(e as Error);
      }
      if (n < 0) {
        this.#onWritable = () => this.#send(rest, dups, callback);
        this.#handle.waitWritable();
        return;
      }
      if (dups) {
        // sent with the first byte; our dups are no longer needed
        this.#releaseDups(dups);
        dups = undefined;
      }
      if (n >= rest.byteLength) return callback();
      rest = rest.subarray(n);
    }
  }

  #flushUnclaimedFds(): void {
    if (this.#closed || this.#unclaimedFds.length === 0 || this.listenerCount('fds') === 0) return;
    this.emit('fds', this.#unclaimedFds.splice(0));
  }

  #releaseDups(dups: number[]): void {
    if (!this.#pendingDups.delete(dups)) return;
    this.closeFds(dups);
  }

  override _final(callback: (error?: Error | null) => void): void {
    try {
      if (!this.#closed) this.#handle.shutdownWrite();
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#closed = true;
    this.#onWritable = null;
    this.#handle.close();
    for (const dups of this.#pendingDups) this.closeFds(dups);
    this.#pendingDups.clear();
    this.closeFds(this.#unclaimedFds.splice(0));
    callback(error);
  }
}

export type Rect = { x: number; y: number; w: number; h: number };

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function rectsToArray(rects: Uint32Array | Rect[]): Uint32Array {
  if (rects instanceof Uint32Array) return rects;
  const out = new Uint32Array(rects.length * 4);
  rects.forEach((r, i) => {
    for (const [k, v] of [
      ['x', r.x],
      ['y', r.y],
      ['w', r.w],
      ['h', r.h],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`rect ${i}: ${k} = ${v} is not a u32`);
    }
    out.set([r.x, r.y, r.w, r.h], i * 4);
  });
  return out;
}

/**
 * A mapping of (fd, offset, length) bytes of a file (QEMU's memfd). fd is not taken or kept: the
 * kernel mapping holds the file, so the caller may close fd right after open(). Lives on the
 * thread that opened it; when that thread exits, the mapping is released (the view reads zeros).
 * Keep the Mapping reachable while anyone reads `view`: if it is garbage-collected it releases.
 */
export class Mapping {
  /** bytes */
  readonly length: number;
  /** 'shared': `view` aliases the file pages (zero copy). 'copy': `view` is a separate V8-allocated buffer that copyRects fills. */
  readonly mode: 'shared' | 'copy';
  /** why copy mode was used ('requested', 'platform', 'SharedArrayBuffer unavailable', or the mmap failure); undefined when shared */
  readonly reason: string | undefined;
  /** `length` bytes backed by a SharedArrayBuffer in both modes (postable to other threads of this
   *  process); a plain ArrayBuffer in copy mode only where SharedArrayBuffer does not exist. */
  readonly view: Uint8Array;
  #handle: MappingHandle;

  private constructor(handle: MappingHandle, length: number, view: Uint8Array) {
    this.#handle = handle;
    this.length = length;
    this.mode = handle.shared ? 'shared' : 'copy';
    this.reason = handle.reason;
    this.view = view;
  }

  /**
   * Maps synchronously on the calling thread. Checks with fstat that the file is at least
   * offset+length bytes, else throws NativeError 'ESHORTFILE'. writable needs an fd opened
   * read-write. Shared mode is tried unless view: 'copy'; if it cannot be done, copy mode is used
   * and `reason` says why.
   */
  static open(
    fd: number,
    offset: number,
    length: number,
    opts: { writable?: boolean; view?: 'shared' | 'copy' } = {},
  ): Mapping {
    for (const [k, v] of [
      ['fd', fd],
      ['offset', offset],
      ['length', length],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`Mapping.open: ${k} must be a non-negative integer, got ${v}`);
    }
    if (length === 0) throw new RangeError('Mapping.open: length must be > 0');
    const b = binding();
    const hasSab = typeof SharedArrayBuffer === 'function';
    let target: Uint8Array | undefined;
    let copyReason: string | undefined = 'requested';
    if (opts.view !== 'copy') {
      if (!hasSab) copyReason = 'SharedArrayBuffer unavailable';
      else if (!b.sharedViewSupported) copyReason = 'platform';
      else {
        // The file goes over the first page-aligned address inside; the spare page absorbs the misalignment.
        const page = b.pageSize;
        target = new Uint8Array(new SharedArrayBuffer(roundUp(length + (offset % page), page) + page));
        copyReason = undefined;
      }
    }
    const handle = new b.MappingHandle(fd, offset, length, opts.writable === true, target, copyReason);
    let view: Uint8Array;
    if (handle.shared && target) view = new Uint8Array(target.buffer, handle.viewOffset, length);
    else view = new Uint8Array(hasSab ? new SharedArrayBuffer(length) : new ArrayBuffer(length));
    return new Mapping(handle, length, view);
  }

  /**
   * Copies rows of rects from the file into `dst` (default: this.view) at the same byte offsets:
   * byte (y*stride + x*4) onward, w*4 bytes per row, h rows. stride is bytes per row, 4 bytes per
   * pixel. Every rect is checked against length/stride (and dst's size) before anything is copied;
   * an out-of-bounds rect throws RangeError. In shared mode with the default dst there is nothing to
   * copy. Runs synchronously; pixels may tear if the writer is active (there is no fence).
   */
  copyRects(stride: number, rects: Uint32Array | Rect[], dst: Uint8Array = this.view): void {
    if (!Number.isSafeInteger(stride) || stride <= 0) throw new RangeError(`copyRects: bad stride ${stride}`);
    this.#handle.copyRects(stride, rectsToArray(rects), dst);
  }

  /** Restores anonymous memory over the SAB interior (shared) or munmaps (copy) and drops the SAB
   *  reference. Idempotent. After release, `view` must not be read (it reads zeros). */
  release(): void {
    this.#handle.release();
  }
}

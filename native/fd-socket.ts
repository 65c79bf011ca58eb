// FdSocket, a Duplex over a unix stream socket that also carries fds, plus the plain fd calls (socketpair,
// connectUnix, closeFd). Runs synchronously on the calling thread's JS loop; the addon's uv_poll drives reads.
import { Duplex } from 'node:stream';

import { binding, type FdSocketHandle } from './binding.js';
import { NativeError } from './errors.js';

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

/** close(2). Throws NativeError 'EBADF' if fd is not open. */
export function closeFd(fd: number): void {
  binding().closeFd(fd);
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

// FdServer, which accepts connections on a listening unix socket and hands each out as an FdSocket, plus
// listenUnix. Runs on the constructing thread's JS loop, driven by the addon's uv_poll.
import { EventEmitter } from 'node:events';
import { unlinkSync } from 'node:fs';

import { binding, type FdServerHandle } from './binding.js';
import type { NativeError } from './errors.js';
import { FdSocket, closeFd } from './fd-socket.js';

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
    if (this.listenerCount('connection') === 0)
      socket.destroy(); // nobody to own it
    else this.emit('connection', socket);
  }
}

// An advisory whole-file lock (flock, exclusive, non-blocking) held through an fd of this process:
// the kernel drops it when the fd closes, also when the process dies (kill -9), so a lock can never
// be left behind. The fd is opened O_CLOEXEC (Node's default), so child processes (QEMU) never hold it.
// Synchronous on the calling thread; never blocks.
import { closeSync, openSync } from 'node:fs';

import { binding } from './binding.js';

export class FileLock {
  private constructor(
    readonly path: string,
    private fd: number | null,
  ) {}

  /**
   * Takes the lock on `path` (a file, created 0600 if missing, or with `directory` an existing
   * directory), or returns null when another open of the
   * file (in any process) holds it. Throws NativeError for other failures (EBADF, ENOLCK...).
   */
  static tryAcquire(path: string, o: { directory?: boolean } = {}): FileLock | null {
    // a directory is locked through a read-only open of it: nothing is created or changed
    const fd = o.directory ? openSync(path, 'r') : openSync(path, 'a', 0o600);
    let taken: boolean;
    try {
      taken = binding().flockExclusive(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (!taken) {
      closeSync(fd);
      return null;
    }
    return new FileLock(path, fd);
  }

  get held(): boolean {
    return this.fd !== null;
  }

  /** Lets go of the lock (closing our fd). Idempotent. */
  release(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }
}

// A full disk is the user's to fix, not an internal error: ENOSPC/EDQUOT become DISK_FULL.
import { LibraryError } from './library-error.js';

export function diskFullError(what: string, cause?: unknown): LibraryError {
  return new LibraryError('disk-full', `the disk holding the library is full: ${what}; free some space and try again`, undefined, { cause });
}

/** `err` as DISK_FULL when the file system ran out of space or quota, else unchanged. */
export function withDiskFull(err: unknown, what: string): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return diskFullError(`${what} (${(err as Error).message})`, err);
  return err;
}

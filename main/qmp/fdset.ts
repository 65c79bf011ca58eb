// Files QEMU uses after it has started (a screendump's file, an ISO put in the drive, a saved state,
// a USB device node): kju opens them and hands the open file to QEMU as an fd set (QMP `add-fd`,
// the fd travelling by SCM_RIGHTS); QEMU then opens `/dev/fdset/N` instead of the path. When kju is
// root, QEMU runs as an unprivileged user (qemu/qemu-user.ts) that could not open them itself; kju
// does the same whoever it runs as, so there is one way. Runs on the loop of whoever holds QMP.
import { closeSync, constants, openSync } from 'node:fs';
import { KjuError } from '../../common/errors.js';
import type { QmpFdExecutor } from './qmp-types.js';

/** How the file is opened: QEMU picks an fd of the set by this access mode (O_ACCMODE). */
export type FdsetAccess = 'read' | 'write' | 'read-write';

const OPEN_FLAGS: Record<FdsetAccess, number> = {
  read: constants.O_RDONLY,
  // as QEMU would open a file it writes (screendump, outgoing migration): created 0600, truncated
  write: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
  'read-write': constants.O_RDWR,
};

export interface Fdset {
  id: number;
  /** what QEMU is given instead of the file's path */
  path: string;
}

/**
 * Opens `file` here and adds it to a new fd set in QEMU, marked with `opaque` (query-fdsets shows
 * it). Our own fd is closed before this resolves; QEMU's copy stays in the set until removeFdset.
 */
export async function addFileFdset(qmp: QmpFdExecutor, file: string, access: FdsetAccess, opaque?: string): Promise<Fdset> {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS[access], 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new KjuError(e.code === 'ENOENT' ? 'missing-file' : 'system-error', `cannot open ${file}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`, { cause: err });
  }
  try {
    const r = await qmp.executeWithFd('add-fd', opaque === undefined ? {} : { opaque }, fd);
    return { id: r['fdset-id'], path: `/dev/fdset/${r['fdset-id']}` };
  } finally {
    closeSync(fd);
  }
}

/** Takes the set's fds back from QEMU; what QEMU opened from the set stays open until it closes it. */
export async function removeFdset(qmp: QmpFdExecutor, id: number): Promise<void> {
  await qmp.execute('remove-fd', { 'fdset-id': id });
}

/** Runs `use` with the fd set path of `file` (opened for `access`), then removes the set. */
export async function withFileFdset<T>(qmp: QmpFdExecutor, file: string, access: FdsetAccess, use: (path: string) => Promise<T>): Promise<T> {
  const set = await addFileFdset(qmp, file, access);
  try {
    return await use(set.path);
  } finally {
    await removeFdset(qmp, set.id).catch(() => {}); // QEMU gone, or the set already cleaned up
  }
}

// The VM's one CD-ROM drive, changed while QEMU runs: insert an ISO or eject it over QMP. The
// drive always exists (build-argv.ts adds it empty when the VM has no ISO), so a running guest can
// get an installer or driver disc without a restart. Runs on the Node loop of whoever holds QMP.
// kju opens the ISO and hands it to QEMU as an fd set (qmp/fdset.ts), marked with the ISO's path,
// which stays in the set while the disc is in: QEMU itself only knows `/dev/fdset/N`.
import { addFileFdset, removeFdset } from '../qmp/fdset.js';
import type { QmpExecutor, QmpFdExecutor } from '../qmp/qmp-types.js';

/** The qdev id of the CD-ROM device and the id of its drive, as build-argv.ts names them. */
export const CDROM_DEVICE_ID = 'kju-cdrom';
export const CDROM_DRIVE_ID = 'kju-cd0';

/**
 * Puts `file` (absolute path, read as raw) in the drive, replacing what was there. `force` opens
 * the tray even if the guest locked it, as pressing a real drive's button long would.
 */
export async function insertCdrom(qmp: QmpFdExecutor, file: string): Promise<void> {
  const set = await addFileFdset(qmp, file, 'read', `${ISO_MARK}${file}`);
  try {
    await qmp.execute('blockdev-change-medium', { id: CDROM_DEVICE_ID, filename: set.path, format: 'raw', 'read-only-mode': 'read-only', force: true });
  } catch (err) {
    await removeFdset(qmp, set.id).catch(() => {});
    throw err;
  }
  await removeIsoFdsets(qmp, set.id);
}

/** Empties the drive (no-op when it is already empty). */
export async function ejectCdrom(qmp: QmpFdExecutor): Promise<void> {
  await qmp.execute('eject', { id: CDROM_DEVICE_ID, force: true });
  await removeIsoFdsets(qmp);
}

/** How an ISO's fd set is marked (add-fd's opaque): this, then the ISO's path. */
const ISO_MARK = 'kju-cdrom:';

/** Removes the fd sets of discs no longer in the drive (all but `keep`). */
async function removeIsoFdsets(qmp: QmpFdExecutor, keep?: number): Promise<void> {
  for (const set of await qmp.execute('query-fdsets')) {
    if (set['fdset-id'] !== keep && set.fds.some((f) => f.opaque?.startsWith(ISO_MARK))) await removeFdset(qmp, set['fdset-id']).catch(() => {});
  }
}

/** The file in the drive, or null when it is empty (or the VM has no kju CD-ROM). */
export async function queryCdrom(qmp: QmpExecutor): Promise<string | null> {
  const blocks = await qmp.execute('query-block');
  const cd = blocks.find((b) => b.qdev === CDROM_DEVICE_ID || b.qdev?.endsWith(`/${CDROM_DEVICE_ID}`) || b.device === CDROM_DRIVE_ID);
  const file = cd?.inserted?.file;
  if (!file) return null;
  const set = /^\/dev\/fdset\/(\d+)$/.exec(file);
  if (!set) return file; // the ISO QEMU was started with, opened by its path
  const marked = (await qmp.execute('query-fdsets')).find((s) => s['fdset-id'] === Number(set[1]))?.fds.find((f) => f.opaque?.startsWith(ISO_MARK));
  return marked ? marked.opaque!.slice(ISO_MARK.length) : file;
}

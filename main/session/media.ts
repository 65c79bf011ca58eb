// The VM's one CD-ROM drive, changed while QEMU runs: insert an ISO or eject it over QMP. The
// drive always exists (build-argv.ts adds it empty when the VM has no ISO), so a running guest can
// get an installer or driver disc without a restart. Runs on the Node loop of whoever holds QMP.
import type { QmpExecutor } from '../qmp/qmp-types.js';

/** The qdev id of the CD-ROM device and the id of its drive, as build-argv.ts names them. */
export const CDROM_DEVICE_ID = 'kju-cdrom';
export const CDROM_DRIVE_ID = 'kju-cd0';

/**
 * Puts `file` (absolute path, read as raw) in the drive, replacing what was there. `force` opens
 * the tray even if the guest locked it, as pressing a real drive's button long would.
 */
export async function insertCdrom(qmp: QmpExecutor, file: string): Promise<void> {
  await qmp.execute('blockdev-change-medium', { id: CDROM_DEVICE_ID, filename: file, format: 'raw', 'read-only-mode': 'read-only', force: true });
}

/** Empties the drive (no-op when it is already empty). */
export async function ejectCdrom(qmp: QmpExecutor): Promise<void> {
  await qmp.execute('eject', { id: CDROM_DEVICE_ID, force: true });
}

/** The file in the drive according to QEMU, or null when it is empty (or the VM has no kju CD-ROM). */
export async function queryCdrom(qmp: QmpExecutor): Promise<string | null> {
  const blocks = await qmp.execute('query-block');
  const cd = blocks.find((b) => b.qdev === CDROM_DEVICE_ID || b.qdev?.endsWith(`/${CDROM_DEVICE_ID}`) || b.device === CDROM_DRIVE_ID);
  return cd?.inserted?.file ?? null;
}

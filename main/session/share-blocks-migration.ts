// QEMU's virtio-9p refuses migration while the guest has a shared folder mounted, and suspend (a
// migration into a file) and live snapshots are migrations. QEMU's text for it ("Migration is
// disabled when VirtFS export path ... is mounted in the guest using mount_tag ...") becomes one kju
// line that names the folder and the way out, for every front end (the session manager calls this).
import { LifecycleError } from './lifecycle.js';

const BLOCKED = /Migration is disabled when VirtFS export path '(.*)' is mounted in the guest using mount_tag '([^']*)'/;

/** `err` in kju's words when a mounted shared folder blocked the operation, else `err` itself. */
export function explainShareBlocksMigration(err: unknown, vmName: string, what: string): unknown {
  const m = err instanceof Error ? BLOCKED.exec(err.message) : null;
  if (!m) return err;
  return new LifecycleError(
    'migration-failed',
    `VM "${vmName}" cannot be ${what} while the guest has its shared folder ${m[1]} (mount tag ${m[2]}) mounted: unmount the shared folder in the guest (umount <mount point>) or stop the VM; shared folders block suspend and live snapshots while mounted`,
    { cause: err },
  );
}

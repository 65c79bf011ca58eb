// Whether QEMU, once it has dropped to the unprivileged user (kju runs as root: qemu-user.ts), can
// use a shared folder. kju never changes the folder's owner or permissions itself (it is the
// user's data); a folder that user cannot use is refused at start with the command that allows it.
// Runs on the Node loop that launches QEMU (a short synchronous child process per share).
import { spawnSync } from 'node:child_process';
import type { QemuUser } from './qemu-user.js';

const shellQuote = (s: string) => (/^[\w./+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** The one-line fix: an ACL entry for `user` on the folder and what is in it (and, read-write, on what is made there later). */
export function shareAccessFix(folder: string, readOnly: boolean, user: string): string {
  const acl = readOnly ? `u:${user}:rX` : `u:${user}:rwX,d:u:${user}:rwX`;
  return `setfacl -R -m ${acl} ${shellQuote(folder)}`;
}

/**
 * Why `user` cannot use `folder` as a share (read, and write unless `readOnly`), or undefined when it
 * can. The check runs as that user in the folder itself: QEMU opens the folder before it drops
 * root, so the folders above it need not be reachable, and ACLs count as the kernel applies them.
 * The user's supplementary groups are not applied (QEMU's are); a folder reachable only through
 * them is refused, and the fix still works.
 */
export function shareAccessProblem(folder: string, readOnly: boolean, user: QemuUser): string | undefined {
  const test = readOnly ? 'test -r . && test -x .' : 'test -r . && test -w . && test -x .';
  const r = spawnSync('/bin/sh', ['-c', test], { cwd: folder, uid: user.uid, gid: user.gid, stdio: 'ignore', timeout: 10_000 });
  if (r.status === 0) return undefined;
  const what = readOnly ? 'read' : 'read and write';
  return `QEMU runs as the user "${user.name}", who cannot ${what} the shared folder ${folder}: allow it with "${shareAccessFix(folder, readOnly, user.name)}" (kju does not change your files' permissions)`;
}

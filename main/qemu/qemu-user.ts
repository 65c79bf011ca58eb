// The unprivileged user QEMU and swtpm run as when kju runs as root (as libvirt runs its guests as
// "qemu"): a guest that escapes into QEMU or swtpm gets that user, not root. Default `kju-qemu`, or
// KJU_QEMU_USER; scripts/setup.sh creates it. Not root (or not Linux): no user, nothing changes.
import { readFileSync } from 'node:fs';
import { QemuLaunchError } from './launch-error.js';

export interface QemuUser {
  name: string;
  uid: number;
  gid: number;
}

export const DEFAULT_QEMU_USER = 'kju-qemu';

/** The user's name that kju would run as: KJU_QEMU_USER or kju-qemu. */
export function qemuUserName(env: NodeJS.ProcessEnv = process.env): string {
  return env.KJU_QEMU_USER || DEFAULT_QEMU_USER;
}

/** The command that creates the user (what setup.sh runs). */
export function qemuUserFix(name: string): string {
  return `useradd --system --no-create-home --shell /usr/sbin/nologin ${name}`;
}

/** `name`'s uid and gid from /etc/passwd, or undefined when there is no such user. */
export function lookupUser(name: string, passwd = '/etc/passwd'): QemuUser | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [n, , uid, gid] = line.split(':');
    if (n === name && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '')) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** Whether kju drops privileges for QEMU and swtpm: root on Linux. */
export function dropsPrivileges(): boolean {
  return process.platform === 'linux' && process.geteuid?.() === 0;
}

/**
 * The user the VM's QEMU and swtpm run as, or undefined when kju is not root. Throws QemuLaunchError (one
 * line, with the fix) when kju is root and the user does not exist, or the user is root itself.
 */
export function resolveQemuUser(env: NodeJS.ProcessEnv = process.env): QemuUser | undefined {
  if (!dropsPrivileges()) return undefined;
  const name = qemuUserName(env);
  const user = lookupUser(name);
  if (!user) throw new QemuLaunchError(`kju runs as root and runs its VMs as the user "${name}", which does not exist: create it with "${qemuUserFix(name)}" (or set KJU_QEMU_USER)`);
  if (user.uid === 0) throw new QemuLaunchError(`KJU_QEMU_USER "${name}" is root: name an unprivileged user`);
  return user;
}

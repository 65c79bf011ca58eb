// Tests that share a folder with a guest: when they run as root, QEMU runs as the unprivileged QEMU
// user (qemu/qemu-user.ts), which kju's start refuses to give a folder it cannot use. The tests'
// own scratch folders are handed to that user here, as a person would (kju never does this itself).
import { chownSync } from 'node:fs';
import { dropsPrivileges, lookupUser, qemuUserName } from '../qemu/qemu-user.js';

/** Gives `dir` to the QEMU user when kju would drop to it; a no-op otherwise. */
export function shareWithQemuUser(dir: string): void {
  if (!dropsPrivileges()) return;
  const user = lookupUser(qemuUserName());
  if (user) chownSync(dir, user.uid, user.gid);
}

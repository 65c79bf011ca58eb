// Shared folders and port forwards as a VM's config keeps them: checked when the user gives them
// (kju create/edit, the settings dialog), before anything is written. Sync stat calls, Node loop.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkForwardsDistinct, GuestLinkError } from '../qemu/guest-links.js';
import type { ForwardConfig, ShareConfig } from './bundle-config.js';
import { LibraryError } from './library-error.js';

/** The folders with absolute paths; each must exist and be a directory (LibraryError otherwise). */
export function checkedShares(shares: readonly ShareConfig[]): ShareConfig[] {
  return shares.map((share, i) => {
    const path = resolve(share.path);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new LibraryError('missing-file', `shared folder ${path} (share${i}) does not exist; create it first or pick another folder`, path);
    }
    if (!isDir) throw new LibraryError('invalid-argument', `shared folder ${path} (share${i}) is not a folder; --share takes a directory`, path);
    return { path, readOnly: share.readOnly };
  });
}

/** The forwards as given; two taking one host port are a LibraryError 'invalid-argument'. */
export function checkedForwards(forwards: readonly ForwardConfig[]): ForwardConfig[] {
  try {
    checkForwardsDistinct(forwards);
  } catch (err) {
    if (err instanceof GuestLinkError) throw new LibraryError('invalid-argument', err.message);
    throw err;
  }
  return forwards.map((f) => ({ ...f }));
}

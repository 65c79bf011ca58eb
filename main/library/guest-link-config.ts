// Shared folders and port forwards as a VM's config keeps them: checked when the user gives them
// (kju create/edit, the settings dialog), before anything is written. Sync stat calls, Node loop.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isWithin, realOrResolved } from '../util/path-containment.js';
import { checkForwardsDistinct, GuestLinkError } from '../qemu/guest-links.js';
import type { ForwardConfig, ShareConfig } from './bundle-config.js';
import { LibraryError } from './library-error.js';

/**
 * The first share that is the library, lies inside it (so inside a bundle), or contains it, as a
 * one-line message; undefined when none does. A guest writing into such a share could plant a
 * bundle (with disks naming host files) or rewrite its own config.
 */
export function shareOverlappingLibrary(shares: readonly ShareConfig[], libraryRoot: string): string | undefined {
  const lib = realOrResolved(libraryRoot);
  for (const [i, share] of shares.entries()) {
    const path = realOrResolved(share.path);
    if (isWithin(path, lib) || isWithin(lib, path)) {
      return `shared folder ${share.path} (share${i}) ${isWithin(lib, path) ? 'lies inside' : 'contains'} the kju library ${lib}: a guest could write bundles there; share another folder`;
    }
  }
  return undefined;
}

/** The folders with absolute paths; each must exist, be a directory, and stay clear of the library
 *  at `libraryRoot` (LibraryError otherwise). */
export function checkedShares(shares: readonly ShareConfig[], libraryRoot: string): ShareConfig[] {
  const overlap = shareOverlappingLibrary(shares, libraryRoot);
  if (overlap) throw new LibraryError('invalid-argument', overlap);
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

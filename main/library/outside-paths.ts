// Files a bundle's config names outside the bundle (reference disks, ISOs, kernels) are read by
// QEMU with the user's rights, so a bundle from elsewhere must not name them on its own say-so.
// A path counts as confirmed when the config carries its tag: an HMAC under this library's key
// (a file in the library, 0600), which a bundle made anywhere else cannot forge.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BundleConfig } from './bundle-config.js';
import { resolveInBundle } from './bundle-files.js';
import { isInside } from '../util/path-containment.js';

export const LIBRARY_KEY_FILE = '.kju-key';

/** This library's key, or undefined before the first write to the library. Sync read, once per list. */
export function readLibraryKey(root: string): Buffer | undefined {
  try {
    return readFileSync(join(root, LIBRARY_KEY_FILE));
  } catch {
    return undefined;
  }
}

/** The key, made on first use (O_EXCL: two first writers end up with one key). */
export async function ensureLibraryKey(root: string): Promise<Buffer> {
  const path = join(root, LIBRARY_KEY_FILE);
  try {
    const file = await open(path, 'wx', 0o600);
    const key = randomBytes(32);
    try {
      await file.writeFile(key);
      await file.sync();
    } finally {
      await file.close();
    }
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFile(path);
  }
}

export function confirmationTag(key: Buffer, absPath: string): string {
  return createHmac('sha256', key).update(absPath).digest('hex').slice(0, 32);
}

export interface NamedPath {
  /** "disk 1", "cdrom", "kernel", "initrd", "UEFI variables", "shared folder 0 (share0)" */
  role: string;
  /** absolute */
  path: string;
}

export function pathsNamedBy(dir: string, config: BundleConfig): NamedPath[] {
  const wanted: Array<[string, string | null | undefined]> = [
    ...config.disks.map((d, i): [string, string] => [`disk ${i + 1}`, d.file]),
    ['cdrom', config.cdrom],
    ['kernel', config.kernel],
    ['initrd', config.initrd],
    ['UEFI variables', config.efiVars],
    ...(config.shares ?? []).map((s, i): [string, string] => [`shared folder ${i} (share${i})`, s.path]),
  ];
  return wanted.filter((w): w is [string, string] => !!w[1]).map(([role, p]) => ({ role, path: resolveInBundle(dir, p) }));
}

/**
 * Paths the config names that lead outside the bundle (directly, or through a symlink inside it)
 * and carry no valid tag. Missing files are skipped: nothing to read, and they show as missing.
 */
export function unconfirmedOutsidePaths(dir: string, config: BundleConfig, key: Buffer | undefined): NamedPath[] {
  const tags = config.outsideConfirmed ?? {};
  const realDir = (() => {
    try {
      return realpathSync(dir);
    } catch {
      return dir;
    }
  })();
  const out: NamedPath[] = [];
  for (const named of pathsNamedBy(dir, config)) {
    if (!existsSync(named.path)) continue;
    const real = realpathSync(named.path);
    if (isInside(dir, named.path) && isInside(realDir, real)) continue;
    if (key && tags[named.path] === confirmationTag(key, named.path)) continue;
    out.push(named);
  }
  return out;
}

/** `config` with the given absolute paths confirmed under the library's key (made only when needed). */
export async function withConfirmedPaths(config: BundleConfig, libraryRoot: string, paths: readonly string[]): Promise<BundleConfig> {
  if (!paths.length) return config;
  const key = await ensureLibraryKey(libraryRoot);
  const tags = { ...(config.outsideConfirmed ?? {}) };
  for (const p of paths) tags[p] = confirmationTag(key, p);
  return { ...config, outsideConfirmed: tags };
}

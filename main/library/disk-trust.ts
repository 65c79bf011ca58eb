// A bundle's disks may name other host files in their headers: a backing file (any depth, also as
// a `json:{...}` spec), a qcow2 external data file (QEMU opens it read-write: the guest's writes
// land there), vmdk extents. A bundle can come from anywhere, so before QEMU or qemu-img opens a
// bundle's disk, every file its chain names must be inside the bundle or confirmed by the user in
// this library (the HMAC tags of outside-paths.ts, `kju edit NAME --trust-backing FILE`).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isInside, realOrResolved } from '../util/path-containment.js';
import type { BundleConfig } from './bundle-config.js';
import { resolveInBundle } from './bundle-files.js';
import { filesReadBy } from './backing-chain.js';
import { LibraryError } from './library-error.js';
import { confirmationTag } from './outside-paths.js';
import { imageChain, qemuImgDidNotRun, type ChainImage } from './qemu-img.js';

export interface UntrustedFile {
  /** the bundle's disk whose chain names it */
  disk: string;
  /** "the backing file", "the external data file", "the extent", or "an unreadable chain" */
  what: string;
  /** absolute path, or the `json:` spec as written */
  path: string;
}

/**
 * The files the chains of the bundle's disks name that are neither inside the bundle nor confirmed
 * under `key`; empty when all is well. A disk that is missing is skipped (it shows as missing); a
 * chain qemu-img cannot read counts as untrusted (QEMU must not guess at it). `chainOf` reads a
 * disk's chain: qemu-img info once per existing disk, or a DiskChainCache's. On the Node loop.
 */
export async function untrustedDiskFiles(dir: string, config: BundleConfig, key: Buffer | undefined, chainOf: (disk: string) => Promise<ChainImage[]> = imageChain): Promise<UntrustedFile[]> {
  const tags = config.outsideConfirmed ?? {};
  const realDir = realOrResolved(dir);
  const confirmed = (p: string): boolean => !!key && (tags[p] === confirmationTag(key, p) || tags[realOrResolved(p)] === confirmationTag(key, realOrResolved(p)));
  const ok = (p: string): boolean => !p.startsWith('json:') && ((isInside(dir, resolve(p)) && isInside(realDir, realOrResolved(p))) || confirmed(resolve(p)));
  const out: UntrustedFile[] = [];
  for (const d of config.disks) {
    const disk = resolveInBundle(dir, d.file);
    if (!existsSync(disk)) continue;
    let chain;
    try {
      chain = await chainOf(disk);
    } catch (err) {
      // without qemu-img nothing can be checked: say that (install it), not that the disk is bad
      if (qemuImgDidNotRun(err)) throw new LibraryError('qemu-img-failed', `cannot check the disks of VM "${config.name}": ${(err as Error).message}`, disk, { cause: err });
      out.push({ disk, what: 'an unreadable chain', path: (err as Error).message });
      continue;
    }
    // every image below the top is some image's backing file; the top one is the disk (outside-paths.ts)
    for (const image of chain) {
      for (const f of filesReadBy(image)) if (!ok(f.path)) out.push({ disk, what: f.what, path: f.path });
    }
  }
  return out;
}

/** The one-line problem for `kju list` and the error: what is named, and how to accept it. */
export function describeUntrusted(name: string, files: readonly UntrustedFile[]): string {
  const list = files.map((f) => `${f.disk} reads ${f.what} ${f.path}`).join('; ');
  const nameable = files.every((f) => !f.path.startsWith('json:') && f.what !== 'an unreadable chain');
  const how = nameable
    ? `if you trust ${files.length > 1 ? 'them' : 'it'}: kju edit "${name}" ${[...new Set(files.map((f) => `--trust-backing ${f.path}`))].join(' ')}`
    : `flatten the disk yourself (qemu-img convert -O qcow2 DISK flat.qcow2) and use the flat copy`;
  return `VM "${name}": ${list}, outside its bundle and not confirmed in this library (a disk header can name any host file, and QEMU writes an external data file); ${how}`;
}

/** Throws UNTRUSTED_BACKING unless every file the bundle's disk chains name is inside it or confirmed. */
export async function checkDiskTrust(dir: string, config: BundleConfig, key: Buffer | undefined): Promise<void> {
  const bad = await untrustedDiskFiles(dir, config, key);
  if (bad.length) throw new LibraryError('untrusted-backing', describeUntrusted(config.name, bad), bad[0].path);
}

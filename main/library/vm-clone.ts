// Cloning a VM: a full copy (`qemu-img convert`, backing chains flattened) or a linked clone
// (qcow2 overlays). A linked clone freezes the source's current disk as a read-only base that
// both VMs then build on, so booting the source later cannot corrupt the clone.
import { chmod, copyFile, cp, link, rename, rm } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { basename, extname, isAbsolute, join, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { TPM_STATE_DIR, validateBundleConfig, type BundleConfig, type DiskConfig } from './bundle-config.js';
import { normalizeVmName } from '../../common/vm-name.js';
import { BUNDLE_FILE_MODE, makeBundleSubdirs, resolveInBundle, writeBundleConfig, type BundleVm } from './bundle-files.js';
import { checkBackingChain } from './backing-chain.js';
import { withConfirmedPaths } from './outside-paths.js';
import { withDiskFull } from './disk-full.js';
import { LibraryError } from './library-error.js';
import type { Library } from './library.js';
import { convertImage, createOverlay, imageChain, imageInfo } from './qemu-img.js';
import { probeRunState } from './run-state.js';
import { withVmLock } from './vm-lock.js';

export interface CloneOptions {
  linked?: boolean;
  /** 0..100 over all disks of a full clone */
  onProgress?: (percent: number) => void;
}

export async function cloneVm(library: Library, source: string, typedName: string, o: CloneOptions = {}): Promise<BundleVm> {
  const newName = normalizeVmName(typedName);
  const src = await library.get(source);
  return withVmLock(src, 'being cloned', () => cloneLocked(library, src, newName, o));
}

async function cloneLocked(library: Library, src: BundleVm, newName: string, o: CloneOptions): Promise<BundleVm> {
  library.requireFiles(src);
  if (probeRunState(src) !== 'stopped') {
    throw new LibraryError('in-use', `VM "${src.config.name}" is running; shut it down before cloning it`, src.dir);
  }
  if (o.linked) {
    const bad = src.config.disks.find((d) => isAbsolute(d.file) || d.format !== 'qcow2');
    if (bad) {
      throw new LibraryError('invalid-argument', `a linked clone needs qcow2 disks inside the bundle, and ${bad.file} is not; make a full clone instead`);
    }
  }
  // A full clone copies whole backing chains: only files inside the library, or the disk itself
  // when it is a confirmed outside (reference) disk, may be read.
  const libraryRoot = realpathSync(library.root);
  for (const disk of src.config.disks) {
    await checkBackingChain(resolveInBundle(src.dir, disk.file), (p) => p.startsWith(libraryRoot + sep));
  }
  if (o.linked) await refuseInternalSnapshots(src);
  await library.checkNewName(newName);
  const staging = library.stagingDir('cloning');
  try {
    await makeBundleSubdirs(staging);
    const disks: DiskConfig[] = [];
    const bases: string[] = [];
    const used = new Set<string>();
    for (const [i, disk] of src.config.disks.entries()) {
      const file = uniqueName(used, basename(disk.file));
      const from = resolveInBundle(src.dir, disk.file);
      if (o.linked) {
        const base = await freezeAsBase(src.dir, disk.file);
        // the base may itself sit on older bases (an earlier linked clone froze the source before):
        // kju made every link of that chain, so each is confirmed, not only the newest
        for (const image of await imageChain(base)) bases.push(image.filename);
        await createOverlay(join(staging, file), base, 'qcow2');
        disks.push({ ...disk, file, format: 'qcow2' });
      } else {
        const n = src.config.disks.length;
        await convertImage(from, disk.format, join(staging, file), disk.format, (p) => o.onProgress?.((i * 100 + p) / n));
        disks.push({ ...disk, file });
      }
    }
    if (src.config.efiVars) await copyFile(resolveInBundle(src.dir, src.config.efiVars), join(staging, 'efi-vars.fd'));
    // The clone gets its own TPM: a copy of the state, so the two never share secrets or counters.
    if (src.config.tpm) await cp(resolveInBundle(src.dir, TPM_STATE_DIR), join(staging, TPM_STATE_DIR), { recursive: true });
    const raw: BundleConfig = {
      ...src.config,
      id: randomUUID(),
      name: newName,
      disks,
      ...(src.config.efiVars ? { efiVars: 'efi-vars.fd' } : {}),
      createdAt: new Date().toISOString(),
      clonedFrom: { id: src.config.id, name: src.config.name, linked: !!o.linked },
    };
    // a linked clone reads its base in the source's bundle: kju made that link, so it is confirmed (disk-trust.ts)
    const config = await withConfirmedPaths(validateBundleConfig(raw, `clone "${newName}"`), library.root, bases);
    await writeBundleConfig(staging, config);
    const dir = await library.commitBundle(staging, newName, async () => {
      const again = await library.get(src.config.id);
      if (again.dir !== src.dir) throw new LibraryError('not-found', `VM "${src.config.name}" was moved or deleted while it was being cloned; nothing was added`, src.dir);
    });
    return { dir, config };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw withDiskFull(err, `cloning VM "${src.config.name}" stopped, nothing was added`);
  }
}

/**
 * A linked clone freezes the source's disk as the base and gives the source a fresh overlay: internal
 * snapshots would stay in the read-only base, where the source can neither list nor revert them.
 */
async function refuseInternalSnapshots(src: BundleVm): Promise<void> {
  const names = new Set<string>();
  for (const disk of src.config.disks) for (const name of (await imageInfo(resolveInBundle(src.dir, disk.file))).snapshots) names.add(name);
  if (!names.size) return;
  const vm = src.config.name;
  const list = [...names].map((n) => `"${n}"`).join(', ');
  throw new LibraryError(
    'invalid-argument',
    `a linked clone of VM "${vm}" would hide its snapshots ${list} in the clone's read-only base; delete them first (kju snapshot delete ${vm} NAME) or make a full clone (without --linked)`,
    src.dir,
  );
}

/**
 * Renames the source's disk to a read-only `<stem>.base-<time>.qcow2` and puts a fresh overlay
 * under the old name, backed by it (relative path: the source bundle can still move as a whole).
 * Returns the base's absolute path for the clone's overlay.
 */
async function freezeAsBase(bundle: string, file: string): Promise<string> {
  const stem = basename(file, extname(file));
  const baseName = `${stem}.base-${Date.now()}.qcow2`;
  const current = join(bundle, file);
  const base = join(bundle, baseName);
  // Every step leaves the source's disk name valid, so a kill anywhere loses nothing: a second name
  // for the same data, the overlay beside it, then one atomic rename over the old name.
  const overlay = join(bundle, `.${stem}.overlay-${process.pid}-${Date.now()}.qcow2`);
  await link(current, base);
  try {
    await createOverlay(overlay, baseName, 'qcow2');
    await chmod(overlay, BUNDLE_FILE_MODE);
    await rename(overlay, current);
  } catch (err) {
    await rm(overlay, { force: true });
    await rm(base, { force: true });
    throw err;
  }
  await chmod(base, 0o400);
  return base;
}

function uniqueName(used: Set<string>, name: string): string {
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) candidate = `${basename(name, extname(name))}-${n}${extname(name)}`;
  used.add(candidate);
  return candidate;
}

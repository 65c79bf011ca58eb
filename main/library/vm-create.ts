// Creating a VM bundle from a preset. Everything is built in a hidden staging directory and
// renamed into place at the end, so a failed create leaves nothing half-made in the library.
import { copyFile, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  BUNDLE_SCHEMA_VERSION,
  BUNDLE_SUFFIX,
  validateBundleConfig,
  type BundleConfig,
  type DiskBus,
  type DiskConfig,
  type DisplayDevice,
  type Nic,
  type Preset,
} from './bundle-config.js';
import { makeBundleSubdirs, writeBundleConfig, type BundleVm } from './bundle-files.js';
import { findUefiFirmware } from './firmware.js';
import { LibraryError } from './library-error.js';
import type { Library } from './library.js';
import { PRESET_DEFAULTS } from './presets.js';
import { convertImage, createOverlay, createQcow2, imageInfo } from './qemu-img.js';

/**
 * How an existing image becomes the VM's disk:
 * - copy: `qemu-img convert` into the bundle as qcow2 (the original is never touched);
 * - link: a qcow2 overlay in the bundle backed by the original (read-only from then on: writing
 *   to the original would corrupt the overlay);
 * - reference: the config names the original by absolute path; the VM writes to it in place.
 */
export type ExistingDiskMode = 'copy' | 'link' | 'reference';
export const EXISTING_DISK_MODES = ['copy', 'link', 'reference'] as const;

export interface CreateVmOptions {
  name: string;
  preset: Preset;
  memoryMiB?: number;
  cpus?: number;
  display?: DisplayDevice;
  nic?: Nic;
  machine?: BundleConfig['machine'];
  firmware?: BundleConfig['firmware'];
  diskBus?: DiskBus;
  tablet?: boolean;
  /** size of a new empty qcow2 disk ("64M", "20G"); null for no disk; default from the preset */
  diskSize?: string | null;
  /** an existing image instead of a new disk */
  existingDisk?: { path: string; mode: ExistingDiskMode };
  iso?: string | null;
  kernel?: string;
  initrd?: string;
  append?: string;
  notes?: string;
  /** 0..100 while an existing image is copied */
  onProgress?: (percent: number) => void;
}

/** Runs on the Node loop; may take long when copying an existing image. */
export async function createVm(library: Library, o: CreateVmOptions): Promise<BundleVm> {
  const preset = PRESET_DEFAULTS[o.preset];
  if (!preset) throw new LibraryError('invalid-argument', `unknown preset "${o.preset}"; use one of ${Object.keys(PRESET_DEFAULTS).join(', ')}`);
  const memoryMiB = o.memoryMiB ?? Math.min(preset.memoryMiB, library.host.memoryMiB);
  const cpus = o.cpus ?? Math.min(preset.cpus, library.host.cpus);
  library.checkHostLimits(memoryMiB, cpus);
  const firmware = o.firmware ?? preset.firmware;
  const uefi = firmware === 'uefi' ? findUefiFirmware(library.options.firmwareRoot) : null;
  const outside = (role: string, p: string | null | undefined): string | undefined => {
    if (p == null) return undefined;
    const abs = resolve(p);
    if (!existsSync(abs)) throw new LibraryError('missing-file', `${role} ${abs} does not exist`, abs);
    return abs;
  };
  const iso = outside('ISO image', o.iso);
  const kernel = outside('kernel', o.kernel);
  const initrd = outside('initrd', o.initrd);
  const existing = o.existingDisk ? { ...o.existingDisk, path: outside('disk image', o.existingDisk.path)! } : undefined;

  await library.ensureRoot();
  const dir = await library.checkNewName(o.name);
  const staging = join(library.root, `.creating-${randomUUID()}${BUNDLE_SUFFIX}`);
  try {
    await makeBundleSubdirs(staging);
    const disks: DiskConfig[] = [];
    const bus = o.diskBus ?? preset.diskBus;
    if (existing) {
      disks.push(await attachExisting(staging, existing.path, existing.mode, bus, o.onProgress));
    } else {
      const size = o.diskSize === undefined ? preset.diskSize : o.diskSize;
      if (size !== null) {
        await createQcow2(join(staging, 'disk.qcow2'), size);
        disks.push({ file: 'disk.qcow2', format: 'qcow2', bus });
      }
    }
    if (uefi) await copyFile(uefi.varsTemplate, join(staging, 'efi-vars.fd'));
    const raw: BundleConfig = {
      kju: BUNDLE_SCHEMA_VERSION,
      id: randomUUID(),
      name: o.name,
      preset: o.preset,
      machine: o.machine ?? preset.machine,
      firmware,
      ...(uefi ? { efiVars: 'efi-vars.fd' } : {}),
      memoryMiB,
      cpus,
      display: o.display ?? preset.display,
      nic: o.nic ?? preset.nic,
      disks,
      cdrom: iso ?? null,
      tablet: o.tablet ?? preset.tablet,
      ...(kernel ? { kernel } : {}),
      ...(initrd ? { initrd } : {}),
      ...(o.append !== undefined ? { append: o.append } : {}),
      notes: o.notes ?? '',
      createdAt: new Date().toISOString(),
    };
    const config = validateBundleConfig(raw, `new VM "${o.name}"`);
    await writeBundleConfig(staging, config);
    if (existsSync(dir)) throw new LibraryError('name-taken', `${dir} appeared while the VM was being created; choose another name`, dir);
    await rename(staging, dir);
    return { dir, config };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

async function attachExisting(
  bundle: string,
  path: string,
  mode: ExistingDiskMode,
  bus: DiskBus,
  onProgress?: (percent: number) => void,
): Promise<DiskConfig> {
  const info = await imageInfo(path);
  if (mode === 'reference') {
    if (info.format !== 'qcow2' && info.format !== 'raw') {
      throw new LibraryError('invalid-argument', `${path} is a ${info.format} image; kju runs qcow2 or raw in place: use --disk-mode copy to convert it`, path);
    }
    return { file: path, format: info.format, bus };
  }
  if (mode === 'link') {
    await createOverlay(join(bundle, 'disk.qcow2'), path, info.format);
    return { file: 'disk.qcow2', format: 'qcow2', bus };
  }
  await convertImage(path, info.format, join(bundle, 'disk.qcow2'), 'qcow2', onProgress);
  return { file: 'disk.qcow2', format: 'qcow2', bus };
}

// Creating a VM bundle from a preset. Everything is built in a hidden staging directory and
// renamed into place at the end, so a failed create leaves nothing half-made in the library.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  BUNDLE_SCHEMA_VERSION,
  secureBootProblem,
  TPM_STATE_DIR,
  validateBundleConfig,
  type BundleConfig,
  type DiskBus,
  type DiskConfig,
  type Nic,
  type ShareConfig,
  type ForwardConfig,
} from './bundle-config.js';
import type { ExistingDiskMode, VmDisplayDevice, VmPreset, VmSoundDevice } from '../../common/contract.js';
import { normalizeVmName } from '../../common/vm-name.js';
import { makeBundleSubdirs, writeBundleConfig, type BundleVm } from './bundle-files.js';
import { checkBackingChain } from './backing-chain.js';
import { withDiskFull } from './disk-full.js';
import { findUefiFirmware } from './firmware.js';
import { LibraryError } from './library-error.js';
import type { Library } from './library.js';
import { withConfirmedPaths } from './outside-paths.js';
import { checkedForwards, checkedShares } from './guest-link-config.js';
import { PRESET_DEFAULTS } from './presets.js';
import { convertImage, createOverlay, createQcow2 } from './qemu-img.js';
import { findSwtpm } from '../qemu/swtpm.js';

export interface CreateVmOptions {
  name: string;
  preset: VmPreset;
  memoryMiB?: number;
  cpus?: number;
  display?: VmDisplayDevice;
  /** heads (virtio-vga max_outputs); absent: 1 */
  displays?: number;
  nic?: Nic;
  machine?: BundleConfig['machine'];
  firmware?: BundleConfig['firmware'];
  diskBus?: DiskBus;
  tablet?: boolean;
  clipboard?: boolean;
  /** host folders exported over virtio-9p (share0, share1, ...); each must be an existing directory */
  shares?: ShareConfig[];
  /** user-network port forwards */
  forwards?: ForwardConfig[];
  /** UEFI Secure Boot with Microsoft's keys (implies UEFI firmware); default from the preset */
  secureBoot?: boolean;
  /** a TPM 2.0 (needs swtpm on the host); default from the preset */
  tpm?: boolean;
  sound?: VmSoundDevice;
  /** size of a new empty qcow2 disk ("64M", "20G"); null for no disk; default from the preset */
  diskSize?: string | null;
  /**
   * An existing image instead of a new disk. `trustedBacking`: backing or data files of that image
   * the user named as meant to be read (any other backing file is refused: it could be any host file).
   */
  existingDisk?: { path: string; mode: ExistingDiskMode; trustedBacking?: string[] };
  iso?: string | null;
  kernel?: string;
  initrd?: string;
  append?: string;
  notes?: string;
  /** 0..100 while an existing image is copied */
  onProgress?: (percent: number) => void;
  /** things the user should know that are not errors (e.g. a backing chain was flattened) */
  onNotice?: (message: string) => void;
}

/** Runs on the Node loop; may take long when copying an existing image. */
export async function createVm(library: Library, options: CreateVmOptions): Promise<BundleVm> {
  const o = { ...options, name: normalizeVmName(options.name) };
  const preset = PRESET_DEFAULTS[o.preset];
  if (!preset) throw new LibraryError('invalid-argument', `unknown preset "${o.preset}"; use one of ${Object.keys(PRESET_DEFAULTS).join(', ')}`);
  const memoryMiB = o.memoryMiB ?? Math.min(preset.memoryMiB, library.host.memoryMiB);
  const cpus = o.cpus ?? Math.min(preset.cpus, library.host.cpus);
  library.checkHostLimits(memoryMiB, cpus);
  const secureBoot = o.secureBoot ?? preset.secureBoot ?? false;
  if (secureBoot && o.firmware === 'bios') throw new LibraryError('invalid-argument', 'Secure Boot needs UEFI firmware; drop --firmware bios or turn Secure Boot off');
  const firmware = secureBoot ? 'uefi' : (o.firmware ?? preset.firmware);
  const machine = o.machine ?? preset.machine;
  const sbProblem = secureBootProblem({ secureBoot, firmware, machine, kernel: o.kernel });
  if (sbProblem) throw new LibraryError('invalid-argument', sbProblem);
  const tpm = o.tpm ?? preset.tpm ?? false;
  // Checked before anything is written: a TPM without swtpm could never start.
  if (tpm) findSwtpm();
  const uefi = firmware === 'uefi' ? findUefiFirmware(library.options.firmwareRoot, { secureBoot }) : null;
  const outside = (role: string, p: string | null | undefined): string | undefined => {
    if (p == null) return undefined;
    const abs = resolve(p);
    if (!existsSync(abs)) throw new LibraryError('missing-file', `${role} ${abs} does not exist`, abs);
    return abs;
  };
  const iso = outside('ISO image', o.iso);
  const kernel = outside('kernel', o.kernel);
  const initrd = outside('initrd', o.initrd);
  const shares = checkedShares(o.shares ?? [], library.root);
  const forwards = checkedForwards(o.forwards ?? []);
  const existing = o.existingDisk ? { ...o.existingDisk, path: outside('disk image', o.existingDisk.path)! } : undefined;

  await library.ensureRoot();
  await library.checkNewName(o.name);
  const staging = library.stagingDir('creating');
  try {
    await makeBundleSubdirs(staging);
    const disks: DiskConfig[] = [];
    const bus = o.diskBus ?? preset.diskBus;
    if (existing) {
      disks.push(await attachExisting(staging, existing, bus, o.onProgress, o.onNotice));
    } else {
      const size = o.diskSize === undefined ? preset.diskSize : o.diskSize;
      if (size !== null) {
        await createQcow2(join(staging, 'disk.qcow2'), size);
        disks.push({ file: 'disk.qcow2', format: 'qcow2', bus });
      }
    }
    if (uefi) await copyFile(uefi.varsTemplate, join(staging, 'efi-vars.fd'));
    if (tpm) await mkdir(join(staging, TPM_STATE_DIR), { mode: 0o700 });
    const raw: BundleConfig = {
      kju: BUNDLE_SCHEMA_VERSION,
      id: randomUUID(),
      name: o.name,
      preset: o.preset,
      machine,
      firmware,
      ...(uefi ? { efiVars: 'efi-vars.fd' } : {}),
      ...(secureBoot ? { secureBoot } : {}),
      ...(tpm ? { tpm } : {}),
      ...(preset.hyperv ? { hyperv: true } : {}),
      memoryMiB,
      cpus,
      display: o.display ?? preset.display,
      ...(o.displays !== undefined && o.displays > 1 ? { displays: o.displays } : {}),
      nic: o.nic ?? preset.nic,
      disks,
      cdrom: iso ?? null,
      tablet: o.tablet ?? preset.tablet,
      clipboard: o.clipboard ?? preset.clipboard,
      ...(shares.length ? { shares } : {}),
      ...(forwards.length ? { forwards } : {}),
      sound: o.sound ?? preset.sound,
      ...(kernel ? { kernel } : {}),
      ...(initrd ? { initrd } : {}),
      ...(o.append !== undefined ? { append: o.append } : {}),
      notes: o.notes ?? '',
      createdAt: new Date().toISOString(),
    };
    // Every outside path here was given by the user for this VM: that is the confirmation.
    // (a linked disk reads the named image and the backing files the user trusted: confirmed too)
    const chainPaths = existing && existing.mode !== 'copy' ? [...(existing.mode === 'link' ? [existing.path] : []), ...(existing.trustedBacking ?? []).map((p) => resolve(p))] : [];
    const outsidePaths = [iso, kernel, initrd, existing?.mode === 'reference' ? existing.path : undefined, ...chainPaths, ...shares.map((s) => s.path)].filter((p): p is string => !!p);
    const config = await withConfirmedPaths(validateBundleConfig(raw, `new VM "${o.name}"`), library.root, outsidePaths);
    await writeBundleConfig(staging, config);
    const dir = await library.commitBundle(staging, o.name);
    return { dir, config };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw withDiskFull(err, `creating VM "${o.name}" stopped, nothing was added`);
  }
}

async function attachExisting(
  bundle: string,
  { path, mode, trustedBacking = [] }: { path: string; mode: ExistingDiskMode; trustedBacking?: string[] },
  bus: DiskBus,
  onProgress?: (percent: number) => void,
  onNotice?: (message: string) => void,
): Promise<DiskConfig> {
  const chain = await checkBackingChain(path, trustedBacking);
  const info = chain[0];
  if (chain.length > 1 && mode === 'copy') {
    onNotice?.(
      `${path} reads from ${chain
        .slice(1)
        .map((c) => c.filename)
        .join(', ')}: the copy holds the flattened result of the whole chain`,
    );
  }
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

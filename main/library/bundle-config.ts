// The `config.json` inside a `<Name>.kju` bundle: its schema, its versions, and how it is read.
// Reading never repairs: a config that does not validate is reported with the field and reason.
import { z } from 'zod';
import { LibraryError } from './library-error.js';
import { MAX_VM_DISPLAYS, VM_DISPLAY_DEVICES, VM_PRESETS, VM_SOUND_DEVICES } from '../../common/contract.js';
import { whyNotVmName } from '../../common/vm-name.js';

export const BUNDLE_SCHEMA_VERSION = 1;
export const CONFIG_FILE = 'config.json';
export const BUNDLE_SUFFIX = '.kju';

export const MACHINES = ['q35', 'pc'] as const;
export const FIRMWARES = ['bios', 'uefi'] as const;
export const NICS = ['virtio-net', 'e1000', 'e1000e', 'rtl8139', 'none'] as const;
export const DISK_FORMATS = ['qcow2', 'raw'] as const;
export const DISK_BUSES = ['virtio', 'ide', 'sata'] as const;
/** the TPM's state directory inside a bundle */
export const TPM_STATE_DIR = 'tpm';

export type Nic = (typeof NICS)[number];
export type DiskFormat = (typeof DISK_FORMATS)[number];
export type DiskBus = (typeof DISK_BUSES)[number];

/** A VM name as common/vm-name.ts's one rule allows it (the CLI, the backend and the renderer share it). */
export const vmNameSchema = z.string().superRefine((s, ctx) => {
  const problem = whyNotVmName(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A path relative to the bundle directory, or absolute (an image kept outside the bundle). */
const bundlePath = z.string().min(1, 'the path is empty');

export const diskSchema = z.looseObject({
  file: bundlePath,
  format: z.enum(DISK_FORMATS),
  bus: z.enum(DISK_BUSES),
});

/** A host folder exported to the guest over virtio-9p (absolute path; mount tag share<index>). */
export const shareSchema = z.strictObject({ path: z.string().min(1, 'the path is empty'), readOnly: z.boolean() });

/** A user-network port forward; hostAddr is 127.0.0.1 unless the user wrote another. */
export const forwardSchema = z.strictObject({
  proto: z.enum(['tcp', 'udp']),
  hostAddr: z.ipv4('must be an IPv4 address'),
  hostPort: z.number().int().min(1).max(65535),
  guestPort: z.number().int().min(1).max(65535),
});

// looseObject: keys this version does not know are kept on rewrite, not dropped.
export const bundleConfigSchema = z.looseObject({
  kju: z.literal(BUNDLE_SCHEMA_VERSION),
  id: z.uuid(),
  name: vmNameSchema,
  preset: z.enum(VM_PRESETS),
  machine: z.enum(MACHINES),
  firmware: z.enum(FIRMWARES),
  /** per-VM UEFI variable store, relative to the bundle; present when firmware is uefi */
  efiVars: bundlePath.optional(),
  /** UEFI Secure Boot with Microsoft's keys enrolled (efiVars then holds a copy of the MS-keys store) */
  secureBoot: z.boolean().optional(),
  /** a TPM 2.0 (swtpm), its state in the bundle's TPM_STATE_DIR */
  tpm: z.boolean().optional(),
  /** Hyper-V enlightenments (with KVM) for Windows guests */
  hyperv: z.boolean().optional(),
  memoryMiB: z
    .number()
    .int()
    .min(16, 'at least 16 MiB')
    .max(16 * 1024 * 1024),
  cpus: z.number().int().min(1).max(1024),
  /** the display device; config.json keeps the name `display` (a file format users rely on) */
  display: z.enum(VM_DISPLAY_DEVICES),
  /** heads of the display device (virtio-vga max_outputs); absent means 1 */
  displays: z.number().int().min(1).max(MAX_VM_DISPLAYS).optional(),
  nic: z.enum(NICS),
  disks: z.array(diskSchema),
  cdrom: bundlePath.nullable(),
  tablet: z.boolean(),
  /** share the clipboard with the guest (a spice vdagent channel); absent in configs older than the setting = off */
  clipboard: z.boolean().optional(),
  /** absent when there are none (configs from before shared folders stay as they were) */
  shares: z.array(shareSchema).optional(),
  /** port forwards of the user network; absent when there are none */
  forwards: z.array(forwardSchema).optional(),
  /** absent in configs written before kju had sound: no sound card, as those VMs always ran */
  sound: z.enum(VM_SOUND_DEVICES).optional(),
  kernel: bundlePath.optional(),
  initrd: bundlePath.optional(),
  append: z.string().optional(),
  notes: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  /** set on clones; `linked` clones' disks are overlays whose backing files live in that VM */
  clonedFrom: z.object({ id: z.uuid(), name: z.string(), linked: z.boolean() }).optional(),
  /** absolute paths outside the bundle the user confirmed in this library → their tag (outside-paths.ts) */
  outsideConfirmed: z.record(z.string(), z.string()).optional(),
});

export type BundleConfig = z.infer<typeof bundleConfigSchema>;
export type DiskConfig = z.infer<typeof diskSchema>;
export type ShareConfig = z.infer<typeof shareSchema>;
export type ForwardConfig = z.infer<typeof forwardSchema>;

/** Why a config's Secure Boot setting cannot work, or undefined (checked when a VM is created or edited). */
export function secureBootProblem(c: Pick<BundleConfig, 'secureBoot' | 'firmware' | 'machine' | 'kernel'>): string | undefined {
  if (!c.secureBoot) return undefined;
  if (c.kernel) return 'Secure Boot cannot check a kernel booted directly (--kernel bypasses the firmware); turn Secure Boot off (--no-secure-boot) or remove the kernel';
  if (c.firmware !== 'uefi') return 'Secure Boot needs UEFI firmware; use --firmware uefi';
  if (c.machine !== 'q35') return 'Secure Boot needs the q35 machine (its firmware needs SMM)';
  return undefined;
}

/** "memoryMiB: at least 16 MiB; disks.0.bus: Invalid option: ..." */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`).join('; ');
}

/**
 * Parses the text of a config.json. `where` names the file in error messages.
 * Throws LibraryError INVALID_CONFIG (with field path and reason) or NEWER_VERSION.
 */
export function parseBundleConfig(text: string, where: string): BundleConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LibraryError('invalid-config', `${where} is not valid JSON (${(err as Error).message}); fix it by hand or restore ${where}.bak`, where);
  }
  return validateBundleConfig(raw, where);
}

export function validateBundleConfig(raw: unknown, where: string): BundleConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LibraryError('invalid-config', `${where} is not a kju config: expected a JSON object`, where);
  }
  const version = (raw as Record<string, unknown>).kju;
  if (version === undefined) {
    throw new LibraryError('invalid-config', `${where} is not a kju config: it has no "kju" version field`, where);
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new LibraryError('invalid-config', `${where}: "kju" must be a schema version number, found ${JSON.stringify(version)}`, where);
  }
  if (version > BUNDLE_SCHEMA_VERSION) {
    throw new LibraryError('newer-version', `${where} was made by a newer kju: version ${version}, this kju reads up to ${BUNDLE_SCHEMA_VERSION}. Update kju to open this VM.`, where);
  }
  const parsed = bundleConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new LibraryError('invalid-config', `${where} is invalid: ${describeIssues(parsed.error)}`, where);
  }
  if ((parsed.data.displays ?? 1) > 1 && parsed.data.display !== 'virtio-vga') {
    throw new LibraryError('invalid-config', `${where} is invalid: displays: ${parsed.data.displays} heads need the display device virtio-vga (it is ${parsed.data.display})`, where);
  }
  return parsed.data;
}

/** The exact text kju writes: stable key order from the object, two-space indent, final newline. */
export function serializeBundleConfig(config: BundleConfig): string {
  const checked = bundleConfigSchema.parse(config);
  return `${JSON.stringify(checked, null, 2)}\n`;
}

// What a VM is, as kju launches it: the validated description (vm.json) and its parser.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { MAX_VM_DISPLAYS, VM_DISPLAY_DEVICES, VM_SOUND_DEVICES } from '../../common/contract.js';

const diskSchema = z.strictObject({
  path: z.string().min(1, 'must not be empty'),
  format: z.enum(['qcow2', 'raw']).optional(),
  bus: z.enum(['virtio', 'ide', 'sata']).optional(),
});

const shareSchema = z.strictObject({ path: z.string().min(1, 'must not be empty'), readOnly: z.boolean() });

const forwardSchema = z.strictObject({
  proto: z.enum(['tcp', 'udp']),
  hostAddr: z.ipv4('must be an IPv4 address'),
  hostPort: z.number().int().min(1).max(65535),
  guestPort: z.number().int().min(1).max(65535),
});

/** QEMU user networking with one NIC of `model` (a QEMU device name) and its port forwards. */
const networkSchema = z.strictObject({ model: z.string().min(1), forwards: z.array(forwardSchema).optional() });

const vmDescriptionSchema = z.strictObject({
  name: z
    .string()
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters'),
  memoryMiB: z
    .number()
    .int('must be a whole number')
    .min(16, 'must be at least 16')
    .max(1024 * 1024, 'is too large'),
  cpus: z.number().int('must be a whole number').min(1, 'must be at least 1').max(256, 'must be at most 256'),
  /** the display device; a vm.json keeps the name `display` (a file format users rely on) */
  display: z.enum(VM_DISPLAY_DEVICES).optional(),
  /** heads of the display device (virtio-vga's max_outputs), each its own D-Bus console */
  displays: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_VM_DISPLAYS, `must be at most ${MAX_VM_DISPLAYS}`).optional(),
  machine: z.enum(['q35', 'pc']).optional(),
  kernel: z.string().min(1).optional(),
  initrd: z.string().min(1).optional(),
  append: z.string().optional(),
  disks: z.array(diskSchema).optional(),
  cdrom: z.string().min(1).optional(),
  tablet: z.boolean().optional(),
  /** the spice vdagent channel QEMU's D-Bus Clipboard needs; default off */
  clipboard: z.boolean().optional(),
  /** a qemu-xhci controller (id kju-xhci) even without a tablet, for USB devices attached later */
  usb: z.boolean().optional(),
  /** host folders exported over virtio-9p, mount tags share0, share1, ... */
  shares: z.array(shareSchema).optional(),
  network: networkSchema.optional(),
  /** a TPM 2.0 emulated by swtpm, whose state lives in this directory (launch.ts starts swtpm) */
  tpmStateDir: z.string().min(1).optional(),
  /** the machine gets SMM and secure pflash, which Secure Boot firmware needs (the firmware itself comes in extraArgs) */
  secureBoot: z.boolean().optional(),
  /** Hyper-V enlightenments for Windows guests; applied only with a hardware accelerator */
  hyperv: z.boolean().optional(),
  /** absent: no sound card (vm.json files written before kju had sound) */
  sound: z.enum(VM_SOUND_DEVICES).optional(),
  extraArgs: z.array(z.string()).optional(),
});

export type VmDescription = z.infer<typeof vmDescriptionSchema>;
export type VmDisk = z.infer<typeof diskSchema>;
export type VmNetwork = z.infer<typeof networkSchema>;

export class VmDescriptionError extends KjuError {
  override name = 'VmDescriptionError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('invalid-description', message, options);
  }
}

/**
 * Validates a parsed vm.json. Relative paths resolve against `baseDir` (the file's directory);
 * every referenced file must exist. Throws VmDescriptionError naming the field and the reason.
 */
export function parseVmDescription(json: unknown, baseDir: string): VmDescription {
  const parsed = vmDescriptionSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new VmDescriptionError(`invalid VM description:\n${lines.join('\n')}`);
  }
  const d = parsed.data;
  if (d.initrd && !d.kernel) throw new VmDescriptionError('invalid VM description:\n  initrd: needs kernel to be set too');
  if ((d.displays ?? 1) > 1 && (d.display ?? 'virtio-vga') !== 'virtio-vga') {
    throw new VmDescriptionError(`invalid VM description:\n  displays: ${d.displays} heads need the display device virtio-vga (got ${d.display})`);
  }
  if (d.append !== undefined && !d.kernel) throw new VmDescriptionError('invalid VM description:\n  append: needs kernel to be set too');
  if (d.secureBoot && d.kernel) {
    throw new VmDescriptionError(
      'invalid VM description:\n  kernel: direct kernel boot bypasses the firmware, so Secure Boot could not check the kernel; turn Secure Boot off or boot from a disk or ISO',
    );
  }
  if (d.secureBoot && d.machine === 'pc') throw new VmDescriptionError('invalid VM description:\n  secureBoot: needs the q35 machine (Secure Boot firmware needs SMM, which kju enables on q35 only)');
  const out: VmDescription = { ...d, ...(d.shares ? { shares: [...d.shares] } : {}) };
  const file = (field: string, p: string): string => {
    const abs = isAbsolute(p) ? p : resolve(baseDir, p);
    if (!existsSync(abs)) throw new VmDescriptionError(`invalid VM description:\n  ${field}: file not found: ${abs}`);
    if (!statSync(abs).isFile() && !statSync(abs).isBlockDevice()) {
      throw new VmDescriptionError(`invalid VM description:\n  ${field}: not a file: ${abs}`);
    }
    return abs;
  };
  if (d.kernel) out.kernel = file('kernel', d.kernel);
  if (d.initrd) out.initrd = file('initrd', d.initrd);
  if (d.cdrom) out.cdrom = file('cdrom', d.cdrom);
  for (const [i, share] of (d.shares ?? []).entries()) {
    const abs = isAbsolute(share.path) ? share.path : resolve(baseDir, share.path);
    if (!existsSync(abs)) throw new VmDescriptionError(`invalid VM description:\n  shares.${i}.path: folder not found: ${abs}`);
    if (!statSync(abs).isDirectory()) throw new VmDescriptionError(`invalid VM description:\n  shares.${i}.path: not a folder: ${abs}`);
    out.shares![i] = { ...share, path: abs };
  }
  if (d.tpmStateDir) {
    const abs = isAbsolute(d.tpmStateDir) ? d.tpmStateDir : resolve(baseDir, d.tpmStateDir);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new VmDescriptionError(`invalid VM description:\n  tpmStateDir: not a directory: ${abs}`);
    out.tpmStateDir = abs;
  }
  if (d.disks) out.disks = d.disks.map((disk, i) => ({ ...disk, path: file(`disks.${i}.path`, disk.path) }));
  return out;
}

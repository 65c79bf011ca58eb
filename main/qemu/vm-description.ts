// What a VM is, as kju launches it: the validated description (vm.json) and its parser.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

export const DISPLAY_DEVICES = ['virtio-vga', 'std', 'cirrus', 'qxl', 'bochs', 'none'] as const;
export type DisplayDevice = (typeof DISPLAY_DEVICES)[number];
/** Emulated sound cards, each wired to QEMU's D-Bus audio backend (build-argv.ts soundArgs). */
export const SOUND_DEVICES = ['intel-hda', 'ich9-intel-hda', 'ac97', 'sb16', 'virtio-sound', 'none'] as const;
export type SoundDevice = (typeof SOUND_DEVICES)[number];

const diskSchema = z.strictObject({
  path: z.string().min(1, 'must not be empty'),
  format: z.enum(['qcow2', 'raw']).optional(),
  bus: z.enum(['virtio', 'ide', 'sata']).optional(),
});

const vmDescriptionSchema = z.strictObject({
  name: z
    .string()
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters'),
  memoryMiB: z.number().int('must be a whole number').min(16, 'must be at least 16').max(1024 * 1024, 'is too large'),
  cpus: z.number().int('must be a whole number').min(1, 'must be at least 1').max(256, 'must be at most 256'),
  /** the display device; a vm.json keeps the name `display` (a file format users rely on) */
  display: z.enum(DISPLAY_DEVICES).optional(),
  machine: z.enum(['q35', 'pc']).optional(),
  kernel: z.string().min(1).optional(),
  initrd: z.string().min(1).optional(),
  append: z.string().optional(),
  disks: z.array(diskSchema).optional(),
  cdrom: z.string().min(1).optional(),
  tablet: z.boolean().optional(),
  /** absent: no sound card (vm.json files written before kju had sound) */
  sound: z.enum(SOUND_DEVICES).optional(),
  extraArgs: z.array(z.string()).optional(),
});

export type VmDescription = z.infer<typeof vmDescriptionSchema>;
export type VmDisk = z.infer<typeof diskSchema>;

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
  if (d.append !== undefined && !d.kernel) throw new VmDescriptionError('invalid VM description:\n  append: needs kernel to be set too');
  const out: VmDescription = { ...d };
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
  if (d.disks) out.disks = d.disks.map((disk, i) => ({ ...disk, path: file(`disks.${i}.path`, disk.path) }));
  return out;
}

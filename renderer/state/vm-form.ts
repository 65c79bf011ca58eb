// The New VM wizard's fields and their checks: pure, so they run under Node in unit tests and the
// wizard shows the same messages inline before anything is sent. The backend checks again.
import type { CreateVmArgs, ExistingDiskMode, HostLimits, HostPathKind, PresetInfo, VmDisplayDevice, VmPreset } from '../../common/contract.js';
import { normalizeVmName, vmNameKey, whyNotVmName } from '../../common/vm-name.js';

export type DiskChoice = 'new' | 'existing' | 'none';

/** What the wizard's inputs hold: text as typed, so a half-typed number is not lost. */
export interface VmForm {
  name: string;
  preset: VmPreset;
  memoryMiB: string;
  cpus: string;
  displayDevice: VmDisplayDevice;
  /** share the clipboard with the guest (off by default: such a VM cannot be suspended or snapshotted live) */
  clipboard: boolean;
  disk: DiskChoice;
  diskSize: string;
  diskPath: string;
  diskMode: ExistingDiskMode;
  iso: string;
  kernel: string;
  initrd: string;
  append: string;
}

export type FormErrors = Partial<Record<keyof VmForm, string>>;

export const WIZARD_STEPS = ['name', 'preset', 'hardware', 'disk', 'iso', 'summary'] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];

/** Which fields each step owns: Next checks only these. */
export const STEP_FIELDS: Record<WizardStep, (keyof VmForm)[]> = {
  name: ['name'],
  preset: ['preset'],
  hardware: ['memoryMiB', 'cpus', 'displayDevice', 'clipboard'],
  disk: ['disk', 'diskSize', 'diskPath', 'diskMode'],
  iso: ['iso', 'kernel', 'initrd', 'append'],
  summary: [],
};

/** The host paths a step names, and as what: Next asks the backend (checkHostPath) whether they exist and may be used. */
export const STEP_PATHS: Partial<Record<WizardStep, [keyof VmForm, HostPathKind][]>> = {
  disk: [['diskPath', 'disk']],
  iso: [
    ['iso', 'iso'],
    ['kernel', 'kernel'],
    ['initrd', 'initrd'],
  ],
};

/** The paths of `step` that are filled in and in use (an existing-disk path only when that is the choice). */
export function pathsToCheck(form: VmForm, step: WizardStep): { field: keyof VmForm; path: string; kind: HostPathKind }[] {
  return (STEP_PATHS[step] ?? []).filter(([field]) => !!form[field] && (field !== 'diskPath' || form.disk === 'existing')).map(([field, kind]) => ({ field, path: form[field] as string, kind }));
}

export function formFromPreset(p: PresetInfo, host: HostLimits | null, name = ''): VmForm {
  const memory = host ? Math.min(p.memoryMiB, host.memoryMiB) : p.memoryMiB;
  const cpus = host ? Math.min(p.cpus, host.cpus) : p.cpus;
  return {
    name,
    preset: p.id,
    memoryMiB: String(memory),
    cpus: String(cpus),
    displayDevice: p.displayDevice,
    clipboard: false,
    disk: 'new',
    diskSize: p.diskSize,
    diskPath: '',
    diskMode: 'copy',
    iso: '',
    kernel: '',
    initrd: '',
    append: '',
  };
}

/** The CLI's and backend's one name rule (common/vm-name.ts), as a sentence, plus the names taken here. */
export function checkName(name: string, taken: readonly string[]): string | undefined {
  if (!name) return 'Give the VM a name.';
  const stored = normalizeVmName(name);
  const problem = whyNotVmName(stored);
  if (problem) return `${problem[0].toUpperCase()}${problem.slice(1)}.`;
  if (taken.some((t) => vmNameKey(t) === vmNameKey(stored))) return `A VM named “${name}” already exists.`;
  return undefined;
}

/** A whole number typed into a field, or NaN. */
export function parseWhole(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
}

export function checkMemory(text: string, host: HostLimits | null): string | undefined {
  const n = parseWhole(text);
  if (!Number.isSafeInteger(n)) return 'Enter the memory in MiB as a whole number.';
  if (n < 16) return 'At least 16 MiB.';
  if (host && n > host.memoryMiB) return `This host has ${host.memoryMiB} MiB; use ${host.memoryMiB} or less.`;
  return undefined;
}

export function checkCpus(text: string, host: HostLimits | null): string | undefined {
  const n = parseWhole(text);
  if (!Number.isSafeInteger(n) || n < 1) return 'Enter at least 1 CPU.';
  if (host && n > host.cpus) return `This host has ${host.cpus} CPUs; use ${host.cpus} or fewer.`;
  return undefined;
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "64M", "20G", "1.5G", "512MiB" → bytes; NaN when qemu-img would not read it as a size. */
export function parseDiskSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) return NaN;
  return Math.round(Number(m[1]) * UNITS[m[2].toUpperCase()]);
}

/** The size as sent to the backend: qemu-img's own spelling ("64M"). */
export function normalizeDiskSize(text: string): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)/i.exec(text);
  return m ? `${m[1]}${m[2].toUpperCase()}` : text.trim();
}

export function checkDiskSize(text: string): string | undefined {
  const bytes = parseDiskSize(text);
  if (Number.isNaN(bytes)) return 'Enter a size such as 64M or 20G.';
  if (bytes < 1024 ** 2) return 'At least 1M.';
  if (bytes > 64 * 1024 ** 4) return 'At most 64T.';
  return undefined;
}

/** Paths are typed (a browser page cannot pick host files); they must be absolute host paths. */
export function checkPath(text: string, what: string, required: boolean): string | undefined {
  if (!text) return required ? `Type the full path of the ${what}.` : undefined;
  if (!text.startsWith('/')) return `Type the ${what}'s full path, starting with /.`;
  return undefined;
}

export function checkField(form: VmForm, field: keyof VmForm, host: HostLimits | null, taken: readonly string[]): string | undefined {
  switch (field) {
    case 'name':
      return checkName(form.name, taken);
    case 'memoryMiB':
      return checkMemory(form.memoryMiB, host);
    case 'cpus':
      return checkCpus(form.cpus, host);
    case 'diskSize':
      return form.disk === 'new' ? checkDiskSize(form.diskSize) : undefined;
    case 'diskPath':
      return form.disk === 'existing' ? checkPath(form.diskPath, 'disk image', true) : undefined;
    case 'iso':
      return checkPath(form.iso, 'ISO image', false);
    case 'kernel':
      return checkPath(form.kernel, 'kernel', !!form.initrd || !!form.append);
    case 'initrd':
      return checkPath(form.initrd, 'initrd', false);
    default:
      return undefined;
  }
}

export function checkFields(form: VmForm, fields: readonly (keyof VmForm)[], host: HostLimits | null, taken: readonly string[]): FormErrors {
  const errors: FormErrors = {};
  for (const f of fields) {
    const e = checkField(form, f, host, taken);
    if (e) errors[f] = e;
  }
  return errors;
}

export function checkForm(form: VmForm, host: HostLimits | null, taken: readonly string[]): FormErrors {
  return checkFields(form, Object.keys(form) as (keyof VmForm)[], host, taken);
}

/** The createVm arguments for a form that passed checkForm. */
export function toCreateArgs(form: VmForm, opId?: string): CreateVmArgs {
  const args: CreateVmArgs = {
    name: form.name,
    preset: form.preset,
    memoryMiB: parseWhole(form.memoryMiB),
    cpus: parseWhole(form.cpus),
    displayDevice: form.displayDevice,
    disk: form.disk === 'new' ? { kind: 'new', size: normalizeDiskSize(form.diskSize) } : form.disk === 'existing' ? { kind: 'existing', path: form.diskPath, mode: form.diskMode } : { kind: 'none' },
  };
  if (form.clipboard) args.clipboard = true;
  if (form.iso) args.iso = form.iso;
  if (form.kernel) args.kernel = form.kernel;
  if (form.initrd) args.initrd = form.initrd;
  if (form.append) args.append = form.append;
  if (opId) args.opId = opId;
  return args;
}

// The Edit dialog's draft of a VM's settings, its checks, the VmEdit it sends, and where each error
// shows: beside its field when the check or the backend names one (Failure.field), else at the top.
// Pure, so it runs under Node in unit tests; renderer main thread.
import type { HostLimits, VmDisplayDevice, VmEdit, VmEditField, VmForward, VmShare, VmSoundDevice, VmSummary } from '../../common/contract.js';
import { failureText } from '../../common/errors.js';
import { checkCpus, checkMemory, checkPath } from './vm-form.js';

/** What the dialog's inputs hold: numbers as typed, so a half-typed one is not lost. */
export interface EditDraft {
  memoryMiB: string;
  cpus: string;
  displayDevice: VmDisplayDevice;
  displays: number;
  soundDevice: VmSoundDevice;
  clipboard: boolean;
  cdrom: string;
  kernel: string;
  initrd: string;
  append: string;
  shares: VmShare[];
  forwards: VmForward[];
  tpm: boolean;
  secureBoot: boolean;
}

/** An error per field, and `top` for one that names none. */
export type EditErrors = Partial<Record<VmEditField, string>> & { top?: string };

export function draftOf(vm: VmSummary): EditDraft {
  return {
    memoryMiB: String(vm.memoryMiB),
    cpus: String(vm.cpus),
    displayDevice: vm.displayDevice as VmDisplayDevice,
    displays: vm.displays ?? 1,
    soundDevice: vm.soundDevice ?? 'none',
    clipboard: !!vm.clipboard,
    cdrom: vm.cdrom ?? '',
    kernel: vm.kernel ?? '',
    initrd: vm.initrd ?? '',
    append: vm.append ?? '',
    shares: vm.shares ?? [],
    forwards: vm.forwards ?? [],
    tpm: !!vm.tpm,
    secureBoot: !!vm.secureBoot,
  };
}

/** The checks that need no backend; its own checks come back as a Failure with `field`. */
export function checkDraft(d: EditDraft, host: HostLimits | null): EditErrors {
  const e: EditErrors = {
    memoryMiB: checkMemory(d.memoryMiB, host),
    cpus: checkCpus(d.cpus, host),
    cdrom: checkPath(d.cdrom, 'ISO image', false),
    kernel: checkPath(d.kernel, 'kernel', !!d.initrd || !!d.append),
    initrd: checkPath(d.initrd, 'initrd', false),
  };
  for (const k of Object.keys(e) as (keyof EditErrors)[]) if (!e[k]) delete e[k];
  return e;
}

/** What changed against the VM's settings; an emptied kernel, initrd or command line is removed (null). */
export function changesOf(vm: VmSummary, d: EditDraft): VmEdit {
  const was = draftOf(vm);
  const c: VmEdit = {};
  if (d.memoryMiB !== was.memoryMiB) c.memoryMiB = Number(d.memoryMiB);
  if (d.cpus !== was.cpus) c.cpus = Number(d.cpus);
  if (d.displayDevice !== was.displayDevice) c.displayDevice = d.displayDevice;
  if (d.displays !== was.displays) c.displays = d.displays;
  if (d.soundDevice !== was.soundDevice) c.soundDevice = d.soundDevice;
  if (d.clipboard !== was.clipboard) c.clipboard = d.clipboard;
  if (d.cdrom !== was.cdrom) c.cdrom = d.cdrom || null;
  if (d.kernel !== was.kernel) c.kernel = d.kernel || null;
  if (d.initrd !== was.initrd) c.initrd = d.initrd || null;
  if (d.append !== was.append) c.append = d.append || null;
  if (JSON.stringify(d.shares) !== JSON.stringify(was.shares)) c.shares = d.shares;
  if (JSON.stringify(d.forwards) !== JSON.stringify(was.forwards)) c.forwards = d.forwards;
  if (d.tpm !== was.tpm) c.tpm = d.tpm;
  if (d.secureBoot !== was.secureBoot) c.secureBoot = d.secureBoot;
  return c;
}

/** A backend refusal, placed: beside the field it names, else at the top. */
export function errorsFromFailure(f: { message: string; hint?: string; field?: VmEditField }): EditErrors {
  const text = failureText(f);
  return f.field ? { [f.field]: text } : { top: text };
}

/** The errors after `field` changed: its own error and a top one (which may be about anything) are gone. */
export function afterChange(errors: EditErrors, field: VmEditField): EditErrors {
  const { [field]: _, top: _top, ...rest } = errors;
  return rest;
}

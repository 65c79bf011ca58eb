// A bundle's config → the launcher's VmDescription (main/qemu), every path absolute and checked.
// Firmware is not a field of VmDescription yet, so it travels as extraArgs.
import type { VmDescription } from '../qemu/vm-description.js';
import { parseVmDescription, VmDescriptionError } from '../qemu/vm-description.js';
import { escapeOptionValue } from '../qemu/build-argv.js';
import { TPM_STATE_DIR, type Nic } from './bundle-config.js';
import { describeMissing, findMissingFiles, resolveInBundle, type BundleVm } from './bundle-files.js';
import { findUefiFirmware } from './firmware.js';
import { LibraryError } from './library-error.js';

const NIC_MODELS: Record<Exclude<Nic, 'none'>, string> = { 'virtio-net': 'virtio-net-pci', e1000: 'e1000', e1000e: 'e1000e', rtl8139: 'rtl8139' };

/**
 * Throws MISSING_FILE naming each missing disk/cdrom/kernel/initrd/vars path, NO_UEFI_FIRMWARE,
 * or INVALID_CONFIG if the launcher rejects the result. Synchronous (a few stat calls).
 */
export function bundleToVmDescription(vm: BundleVm, options: { firmwareRoot?: string } = {}): VmDescription {
  const { dir, config: c } = vm;
  const missing = findMissingFiles(vm);
  if (missing.length) throw new LibraryError('missing-file', describeMissing(c.name, missing), missing[0].path);
  const extraArgs: string[] = [];
  if (c.firmware === 'uefi') {
    const fw = findUefiFirmware(options.firmwareRoot, { secureBoot: c.secureBoot });
    if (!c.efiVars) throw new LibraryError('invalid-config', `VM "${c.name}" uses UEFI but its config names no efiVars file`, dir);
    const vars = resolveInBundle(dir, c.efiVars);
    // the vars store keeps its start-time read-write fd, as the disks do (build-argv.ts: auto-read-only=off)
    extraArgs.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${escapeOptionValue(fw.code)}`, '-drive', `if=pflash,format=raw,unit=1,auto-read-only=off,file=${escapeOptionValue(vars)}`);
  }
  const raw: VmDescription = {
    name: c.name,
    memoryMiB: c.memoryMiB,
    cpus: c.cpus,
    display: c.display,
    ...(c.displays !== undefined && c.displays > 1 ? { displays: c.displays } : {}),
    machine: c.machine,
    disks: c.disks.map((d) => ({ path: resolveInBundle(dir, d.file), format: d.format, bus: d.bus })),
    tablet: c.tablet,
    ...(c.clipboard ? { clipboard: true } : {}),
    // every library VM has a USB controller, so that host devices can be attached while it runs
    usb: true,
    ...(c.shares?.length ? { shares: c.shares } : {}),
    ...(c.nic !== 'none' ? { network: { model: NIC_MODELS[c.nic], ...(c.forwards?.length ? { forwards: c.forwards } : {}) } } : {}),
    ...(c.tpm ? { tpmStateDir: resolveInBundle(dir, TPM_STATE_DIR) } : {}),
    ...(c.secureBoot ? { secureBoot: true } : {}),
    ...(c.hyperv ? { hyperv: true } : {}),
    ...(c.sound ? { sound: c.sound } : {}),
    ...(c.cdrom ? { cdrom: resolveInBundle(dir, c.cdrom) } : {}),
    ...(c.kernel ? { kernel: resolveInBundle(dir, c.kernel) } : {}),
    ...(c.initrd ? { initrd: resolveInBundle(dir, c.initrd) } : {}),
    ...(c.append !== undefined ? { append: c.append } : {}),
    ...(extraArgs.length ? { extraArgs } : {}),
  };
  try {
    return parseVmDescription(raw, dir);
  } catch (err) {
    if (err instanceof VmDescriptionError) {
      throw new LibraryError('invalid-config', `VM "${c.name}" cannot be launched: ${err.message}`, dir, { cause: err });
    }
    throw err;
  }
}

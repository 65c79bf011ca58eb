// What each preset means for the virtual hardware. The choices favour what the guest has drivers
// for out of the box: Windows and DOS have none for virtio, so they get emulated classics.
import type { VmDisplayDevice, VmPreset, VmSoundDevice } from '../../common/contract.js';
import type { BundleConfig, DiskBus, Nic } from './bundle-config.js';

export interface PresetDefaults {
  machine: BundleConfig['machine'];
  firmware: BundleConfig['firmware'];
  display: VmDisplayDevice;
  nic: Nic;
  diskBus: DiskBus;
  tablet: boolean;
  /** the vdagent clipboard channel; off for every preset: QEMU 10 cannot migrate it, so a VM sharing its clipboard cannot be suspended or snapshotted live (the user turns it on knowing that) */
  clipboard: boolean;
  sound: VmSoundDevice;
  memoryMiB: number;
  cpus: number;
  diskSize: string;
  secureBoot?: boolean;
  tpm?: boolean;
  hyperv?: boolean;
}

export const PRESET_DEFAULTS: Record<VmPreset, PresetDefaults> = {
  linux: {
    machine: 'q35',
    firmware: 'bios',
    display: 'virtio-vga',
    nic: 'virtio-net',
    diskBus: 'virtio',
    tablet: true,
    sound: 'intel-hda',
    clipboard: false,
    memoryMiB: 2048,
    cpus: 2,
    diskSize: '20G',
  },
  // Windows 11 refuses to install without UEFI Secure Boot and a TPM 2.0; it has no inbox virtio
  // drivers, so SATA + e1000e + std VGA (its basic display driver) + Intel HD Audio install as-is.
  windows: {
    machine: 'q35',
    firmware: 'uefi',
    display: 'std',
    nic: 'e1000e',
    diskBus: 'sata',
    tablet: true,
    memoryMiB: 4096,
    cpus: 2,
    diskSize: '64G',
    sound: 'intel-hda',
    clipboard: false,
    secureBoot: true,
    tpm: true,
    hyperv: true,
  },
  // FreeDOS/MS-DOS: i440FX, IDE, a packet driver exists for the RTL8139; no USB tablet driver; DOS games speak SB16.
  dos: { machine: 'pc', firmware: 'bios', display: 'std', nic: 'rtl8139', diskBus: 'ide', tablet: false, sound: 'sb16', clipboard: false, memoryMiB: 64, cpus: 1, diskSize: '512M' },
  bsd: { machine: 'q35', firmware: 'bios', display: 'virtio-vga', nic: 'virtio-net', diskBus: 'virtio', tablet: true, sound: 'intel-hda', clipboard: false, memoryMiB: 2048, cpus: 2, diskSize: '20G' },
  other: { machine: 'q35', firmware: 'bios', display: 'std', nic: 'e1000', diskBus: 'sata', tablet: true, sound: 'intel-hda', clipboard: false, memoryMiB: 1024, cpus: 1, diskSize: '10G' },
};

/** Accepts the preset names and the aliases people type ("freedos"). */
export function presetFromName(name: string): VmPreset | undefined {
  const n = name.toLowerCase();
  if (n === 'freedos' || n === 'msdos') return 'dos';
  if (n === 'freebsd' || n === 'openbsd' || n === 'netbsd') return 'bsd';
  return (Object.keys(PRESET_DEFAULTS) as VmPreset[]).find((p) => p === n);
}

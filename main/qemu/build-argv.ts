// VM description -> QEMU argv. Pure: every environment fact (accelerator, paths) comes in
// `runtime`, so the whole mapping is unit-tested. The argv goes to spawn() directly, never a shell.
import type { RuntimeDir } from './runtime-dir.js';
import { hostfwdRule, shareTag, type ShareSecurityModel } from './guest-links.js';
import type { Accelerator, VmSoundDevice } from '../../common/contract.js';
import type { VmDescription } from './vm-description.js';

/** The USB controller every library VM has (host devices are attached to it while the VM runs). */
export const USB_CONTROLLER_ID = 'kju-xhci';

export interface ArgvRuntime {
  /** Where qmp.sock, serial.sock and qemu.pid live (see runtime-dir.ts). */
  runtimeDir: RuntimeDir;
  accel: Accelerator;
  /** How each share (by index) stores what the guest sets (share-model.ts probes the folder);
   *  mapped-xattr when not given. Never `none`/`passthrough`: those make the guest's modes real. */
  shareModels?: ShareSecurityModel[];
  /** The unprivileged user QEMU drops to once it has opened its files and sockets (kju runs as root: qemu-user.ts). */
  runAs?: string;
}

/** QEMU's option parser splits on ',' — a literal comma in a value is written ',,'. */
export function escapeOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/** Hyper-V enlightenments Windows uses when it finds them (KVM only: TCG and HVF do not offer them). */
export const HYPERV_CPU_FLAGS = ['hv_relaxed', 'hv_vapic', 'hv_spinlocks=0x1fff', 'hv_time', 'hv_vpindex', 'hv_synic', 'hv_stimer'];

/** `-accel` and the CPU model that goes with it; the accelerator probe (accel-probe.ts) uses the same. */
export function acceleratorArgs(accel: Accelerator, opts: { hyperv?: boolean } = {}): string[] {
  if (accel === 'tcg') return ['-accel', 'tcg'];
  const cpu = opts.hyperv && accel === 'kvm' ? ['host', ...HYPERV_CPU_FLAGS].join(',') : 'host';
  return ['-accel', accel, '-cpu', cpu];
}

/** The id of the one audiodev kju adds when a VM has a sound card. */
export const AUDIODEV_ID = 'kju-snd0';

export function buildArgv(desc: VmDescription, runtime: ArgvRuntime): string[] {
  const paths = runtime.runtimeDir;
  const machine = desc.machine ?? 'q35';
  const argv: string[] = [
    '-name',
    escapeOptionValue(desc.name),
    '-no-user-config',
    // -nodefaults drops the default NIC, serial, parallel, monitor and VGA; the VGA is added back below.
    '-nodefaults',
    // Secure Boot firmware keeps its variables safe from the OS only with SMM and secure pflash.
    '-machine',
    desc.secureBoot ? `${machine},smm=on` : machine,
    ...acceleratorArgs(runtime.accel, { hyperv: desc.hyperv }),
  ];
  if (desc.secureBoot) argv.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
  argv.push('-m', `${desc.memoryMiB}M`, '-smp', String(desc.cpus));

  argv.push(...displayArgs(desc.display ?? 'virtio-vga', desc.displays ?? 1));
  const sound = desc.sound ?? 'none';
  if (sound === 'none') {
    argv.push('-display', 'dbus,p2p=on');
  } else {
    // The card plays into the D-Bus audio backend, which QEMU exposes as /org/qemu/Display1/Audio.
    argv.push('-audiodev', `dbus,id=${AUDIODEV_ID}`, '-display', `dbus,p2p=on,audiodev=${AUDIODEV_ID}`, ...soundArgs(sound));
  }
  const tablet = desc.tablet ?? true;
  if (tablet || desc.usb) argv.push('-device', `qemu-xhci,id=${USB_CONTROLLER_ID}`);
  if (tablet) argv.push('-device', `usb-tablet,bus=${USB_CONTROLLER_ID}.0`);
  if (desc.clipboard) argv.push(...clipboardArgs());

  if (desc.tpmStateDir) {
    // swtpm (started by launch.ts) listens on the control socket; CRB is the TPM 2.0 interface q35's
    // ACPI describes, pc gets the TIS one.
    argv.push(
      '-chardev',
      `socket,id=kju-chrtpm,path=${escapeOptionValue(paths.tpmSocket)}`,
      '-tpmdev',
      'emulator,id=kju-tpm0,chardev=kju-chrtpm',
      '-device',
      `${machine === 'pc' ? 'tpm-tis' : 'tpm-crb'},tpmdev=kju-tpm0`,
    );
  }

  let sataCount = 0;
  const disks = desc.disks ?? [];
  // q35's AHCI ports are the buses ide.0..ide.5, one unit each, and QEMU does not find a free one for
  // an unaddressed ide-hd/ide-cd ("Can't create IDE unit 1"): if=ide drives take the first ports,
  // sata disks and the CD-ROM get the next ones by name.
  const q35IdePorts = machine === 'q35' ? disks.filter((d) => d.bus === 'ide').length : 0;
  disks.forEach((disk, i) => {
    // auto-read-only=off: QEMU keeps the read-write fd it opened at start instead of reopening the
    // file by path when writers come and go (suspend's migration, cont after it): the user QEMU
    // drops to when kju is root cannot open the bundle's files.
    const file = `file=${escapeOptionValue(disk.path)},format=${disk.format ?? 'qcow2'},auto-read-only=off`;
    const bus = disk.bus ?? 'virtio';
    if (bus === 'virtio') {
      argv.push('-drive', `${file},if=virtio`);
    } else if (bus === 'ide') {
      // q35 maps if=ide onto its AHCI ports, pc onto the PIIX IDE channels; QEMU picks the unit.
      argv.push('-drive', `${file},if=ide`);
    } else {
      const device = [`ide-hd`, `drive=kju-disk${i}`];
      if (machine === 'pc') {
        // pc has no AHCI: add one controller (6 ports) for the sata disks.
        if (sataCount === 0) argv.push('-device', 'ahci,id=kju-ahci');
        device.push(`bus=kju-ahci.${sataCount}`);
      } else {
        device.push(`bus=ide.${q35IdePorts + sataCount}`);
      }
      sataCount++;
      argv.push('-drive', `${file},if=none,id=kju-disk${i}`, '-device', device.join(','));
    }
  });
  // Always one CD-ROM, empty when there is no ISO, with fixed ids so an ISO can be changed while the
  // VM runs (session/media.ts). Added after the disks so that a sata disk gets the first port.
  const cdFile = desc.cdrom ? `file=${escapeOptionValue(desc.cdrom)},format=raw,` : '';
  const cdBus = machine === 'q35' ? `,bus=ide.${q35IdePorts + sataCount}` : '';
  argv.push('-drive', `${cdFile}if=none,id=kju-cd0,media=cdrom,readonly=on`, '-device', `ide-cd,drive=kju-cd0,id=kju-cdrom${cdBus}`);

  // The guest's owners, modes and special files are metadata, never real on the host: mapped-xattr
  // keeps them in user.virtfs.* xattrs, mapped-file (file systems without user xattrs) in
  // .virtfs_metadata files. A guest's chmod 4755, mknod or chown thus stays in the guest; host files
  // are created 0600/0700 and owned by QEMU's user; a guest symlink is a plain file on the host.
  // Files without that metadata (put there by the host) show their host owner and mode.
  (desc.shares ?? []).forEach((share, i) => {
    const id = `kju-fs${i}`;
    const model = runtime.shareModels?.[i] ?? 'mapped-xattr';
    argv.push(
      '-fsdev',
      `local,id=${id},path=${escapeOptionValue(share.path)},security_model=${model}${share.readOnly ? ',readonly=on' : ''}`,
      '-device',
      `virtio-9p-pci,fsdev=${id},mount_tag=${shareTag(i)}`,
    );
  });
  if (desc.network) {
    // One user network, so hostfwd_add/remove while running need no netdev id (QEMU takes the first).
    const hostfwd = (desc.network.forwards ?? []).map((f) => `,hostfwd=${hostfwdRule(f)}`).join('');
    argv.push('-nic', `user,model=${desc.network.model}${hostfwd}`);
  }

  if (desc.kernel) argv.push('-kernel', desc.kernel);
  if (desc.initrd) argv.push('-initrd', desc.initrd);
  if (desc.append !== undefined) argv.push('-append', desc.append);

  argv.push('-qmp', `unix:${escapeOptionValue(paths.qmpSocket)},server=on,wait=off`, '-serial', `unix:${escapeOptionValue(paths.serialSocket)},server=on,wait=off`, '-pidfile', paths.pidFile);
  // QEMU opens every file and socket above as kju's user, then becomes this one before the guest runs.
  if (runtime.runAs) argv.push('-run-with', `user=${escapeOptionValue(runtime.runAs)}`);
  argv.push(...(desc.extraArgs ?? []));
  return argv;
}

/** The display device's id when it has several heads (QMP screendump {device, head}). */
export const VIDEO_DEVICE_ID = 'kju-video';

function displayArgs(display: NonNullable<VmDescription['display']>, heads: number): string[] {
  switch (display) {
    case 'virtio-vga':
      // each head is its own D-Bus console (Console_0..N-1); the id lets QMP screendump name a head
      return ['-vga', 'none', '-device', heads > 1 ? `virtio-vga,id=${VIDEO_DEVICE_ID},max_outputs=${heads}` : 'virtio-vga'];
    case 'std':
      return ['-vga', 'std'];
    case 'cirrus':
      return ['-vga', 'cirrus'];
    case 'qxl':
      return ['-vga', 'qxl'];
    case 'bochs':
      return ['-vga', 'none', '-device', 'bochs-display'];
    case 'none':
      return ['-vga', 'none'];
  }
}

/**
 * The spice vdagent channel behind QEMU's D-Bus Clipboard: QEMU's built-in qemu-vdagent chardev
 * talks to the guest's agent on the virtio port com.redhat.spice.0 (the name spice-vdagent opens).
 */
export function clipboardArgs(): string[] {
  return [
    '-chardev',
    'qemu-vdagent,id=kju-vdagent,name=vdagent,clipboard=on',
    '-device',
    'virtio-serial-pci,id=kju-vdagent-serial',
    '-device',
    'virtserialport,bus=kju-vdagent-serial.0,chardev=kju-vdagent,name=com.redhat.spice.0',
  ];
}

function soundArgs(sound: Exclude<VmSoundDevice, 'none'>): string[] {
  const dev = `audiodev=${AUDIODEV_ID}`;
  switch (sound) {
    case 'intel-hda':
      return ['-device', 'intel-hda,id=kju-hda', '-device', `hda-duplex,bus=kju-hda.0,${dev}`];
    case 'ich9-intel-hda':
      return ['-device', 'ich9-intel-hda,id=kju-hda', '-device', `hda-duplex,bus=kju-hda.0,${dev}`];
    case 'ac97':
      return ['-device', `AC97,${dev}`];
    case 'sb16':
      return ['-device', `sb16,${dev}`];
    case 'virtio-sound':
      return ['-device', `virtio-sound-pci,${dev}`];
  }
}

// VM description -> QEMU argv. Pure: every environment fact (accelerator, paths) comes in
// `runtime`, so the whole mapping is unit-tested. The argv goes to spawn() directly, never a shell.
import type { RuntimeDir } from './runtime-dir.js';
import type { SoundDevice, VmDescription } from './vm-description.js';

export type Accelerator = 'kvm' | 'hvf' | 'tcg';

export interface ArgvRuntime {
  /** Where qmp.sock, serial.sock and qemu.pid live (see runtime-dir.ts). */
  runtimeDir: RuntimeDir;
  accel: Accelerator;
}

/** QEMU's option parser splits on ',' — a literal comma in a value is written ',,'. */
export function escapeOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/** `-accel` and the CPU model that goes with it; the accelerator probe (accel-probe.ts) uses the same. */
export function acceleratorArgs(accel: Accelerator): string[] {
  return accel === 'tcg' ? ['-accel', 'tcg'] : ['-accel', accel, '-cpu', 'host'];
}

/** The id of the one audiodev kju adds when a VM has a sound card. */
export const AUDIODEV_ID = 'kju-snd0';

export function buildArgv(desc: VmDescription, runtime: ArgvRuntime): string[] {
  const paths = runtime.runtimeDir;
  const machine = desc.machine ?? 'q35';
  const argv: string[] = [
    '-name', escapeOptionValue(desc.name),
    '-no-user-config',
    // -nodefaults drops the default NIC, serial, parallel, monitor and VGA; the VGA is added back below.
    '-nodefaults',
    '-machine', machine,
    ...acceleratorArgs(runtime.accel),
  ];
  argv.push('-m', `${desc.memoryMiB}M`, '-smp', String(desc.cpus));

  argv.push(...displayArgs(desc.display ?? 'virtio-vga'));
  const sound = desc.sound ?? 'none';
  if (sound === 'none') {
    argv.push('-display', 'dbus,p2p=on');
  } else {
    // The card plays into the D-Bus audio backend, which QEMU exposes as /org/qemu/Display1/Audio.
    argv.push('-audiodev', `dbus,id=${AUDIODEV_ID}`, '-display', `dbus,p2p=on,audiodev=${AUDIODEV_ID}`, ...soundArgs(sound));
  }
  if (desc.tablet ?? true) argv.push('-device', 'qemu-xhci,id=kju-xhci', '-device', 'usb-tablet,bus=kju-xhci.0');

  let sataCount = 0;
  (desc.disks ?? []).forEach((disk, i) => {
    const file = `file=${escapeOptionValue(disk.path)},format=${disk.format ?? 'qcow2'}`;
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
      }
      sataCount++;
      argv.push('-drive', `${file},if=none,id=kju-disk${i}`, '-device', device.join(','));
    }
  });
  // Always one CD-ROM, empty when there is no ISO, with fixed ids so an ISO can be changed while the
  // VM runs (session/media.ts). Added after the disks so that an unaddressed sata disk gets port 0.
  const cdFile = desc.cdrom ? `file=${escapeOptionValue(desc.cdrom)},format=raw,` : '';
  argv.push('-drive', `${cdFile}if=none,id=kju-cd0,media=cdrom,readonly=on`, '-device', 'ide-cd,drive=kju-cd0,id=kju-cdrom');

  if (desc.kernel) argv.push('-kernel', desc.kernel);
  if (desc.initrd) argv.push('-initrd', desc.initrd);
  if (desc.append !== undefined) argv.push('-append', desc.append);

  argv.push(
    '-qmp', `unix:${escapeOptionValue(paths.qmpSocket)},server=on,wait=off`,
    '-serial', `unix:${escapeOptionValue(paths.serialSocket)},server=on,wait=off`,
    '-pidfile', paths.pidFile,
  );
  argv.push(...(desc.extraArgs ?? []));
  return argv;
}

function displayArgs(display: NonNullable<VmDescription['display']>): string[] {
  switch (display) {
    case 'virtio-vga':
      return ['-vga', 'none', '-device', 'virtio-vga'];
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

function soundArgs(sound: Exclude<SoundDevice, 'none'>): string[] {
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

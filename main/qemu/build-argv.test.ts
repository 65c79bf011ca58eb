import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildArgv, escapeOptionValue } from './build-argv.js';
import { runtimeDirAt } from './runtime-dir.js';
import type { VmDescription } from './vm-description.js';

const base: VmDescription = { name: 'demo', memoryMiB: 512, cpus: 2 };
const rt = { runtimeDir: runtimeDirAt('/run/user/1000/kju/demo'), accel: 'tcg' as const };

/** The value following `flag` each time it occurs. */
function values(argv: string[], flag: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === flag) out.push(argv[i + 1]!);
  });
  return out;
}

test('defaults: q35, TCG, virtio-vga, tablet, dbus p2p display, QMP and serial sockets, pid file', () => {
  const argv = buildArgv(base, rt);
  assert.deepEqual(values(argv, '-name'), ['demo']);
  assert.deepEqual(values(argv, '-machine'), ['q35']);
  assert.deepEqual(values(argv, '-accel'), ['tcg']);
  assert.ok(!argv.includes('-cpu'), 'TCG keeps the default CPU model');
  assert.deepEqual(values(argv, '-m'), ['512M']);
  assert.deepEqual(values(argv, '-smp'), ['2']);
  assert.deepEqual(values(argv, '-vga'), ['none']);
  assert.deepEqual(values(argv, '-device'), ['virtio-vga', 'qemu-xhci,id=kju-xhci', 'usb-tablet,bus=kju-xhci.0', 'ide-cd,drive=kju-cd0,id=kju-cdrom,bus=ide.0']);
  assert.deepEqual(values(argv, '-display'), ['dbus,p2p=on']);
  assert.deepEqual(values(argv, '-qmp'), ['unix:/run/user/1000/kju/demo/qmp.sock,server=on,wait=off']);
  assert.deepEqual(values(argv, '-serial'), ['unix:/run/user/1000/kju/demo/serial.sock,server=on,wait=off']);
  assert.deepEqual(values(argv, '-pidfile'), ['/run/user/1000/kju/demo/qemu.pid']);
  assert.ok(argv.includes('-no-user-config'));
  assert.ok(argv.includes('-nodefaults'));
  assert.ok(!argv.includes('-kernel'));
  // the CD-ROM drive is there, empty, so an ISO can be inserted while the VM runs
  assert.deepEqual(values(argv, '-drive'), ['if=none,id=kju-cd0,media=cdrom,readonly=on']);
  assert.ok(!argv.includes('-run-with'), 'not root: QEMU stays the user kju runs as');
});

test('runAs: QEMU drops to that user after opening everything, before extraArgs', () => {
  const argv = buildArgv({ ...base, extraArgs: ['-S'] }, { ...rt, runAs: 'kju-qemu' });
  assert.deepEqual(values(argv, '-run-with'), ['user=kju-qemu']);
  assert.deepEqual(argv.slice(-3), ['-run-with', 'user=kju-qemu', '-S']);
});

test('display devices', () => {
  const cases: [NonNullable<VmDescription['display']>, string[]][] = [
    ['virtio-vga', ['-vga', 'none', '-device', 'virtio-vga']],
    ['std', ['-vga', 'std']],
    ['cirrus', ['-vga', 'cirrus']],
    ['qxl', ['-vga', 'qxl']],
    ['bochs', ['-vga', 'none', '-device', 'bochs-display']],
    ['none', ['-vga', 'none']],
  ];
  for (const [display, expected] of cases) {
    const argv = buildArgv({ ...base, display, tablet: false }, rt);
    const at = argv.indexOf('-vga');
    assert.deepEqual(argv.slice(at, at + expected.length), expected, display);
    assert.equal(values(argv, '-vga').length, 1, display);
    assert.equal(values(argv, '-device').filter((d) => !d.startsWith('ide-cd,')).length, expected.length === 4 ? 1 : 0, display);
  }
});

test('displays: N heads are virtio-vga max_outputs=N; one head is the plain device', () => {
  assert.deepEqual(
    values(buildArgv({ ...base, displays: 2, tablet: false }, rt), '-device').filter((d) => !d.startsWith('ide-cd,')),
    ['virtio-vga,id=kju-video,max_outputs=2'],
  );
  assert.deepEqual(
    values(buildArgv({ ...base, displays: 1, tablet: false }, rt), '-device').filter((d) => !d.startsWith('ide-cd,')),
    ['virtio-vga'],
  );
});

test('KVM and HVF use the host CPU model', () => {
  assert.deepEqual(values(buildArgv(base, { ...rt, accel: 'kvm' }), '-cpu'), ['host']);
  assert.deepEqual(values(buildArgv(base, { ...rt, accel: 'hvf' }), '-accel'), ['hvf']);
});

test('pc machine, no tablet', () => {
  const argv = buildArgv({ ...base, machine: 'pc', tablet: false }, rt);
  assert.deepEqual(values(argv, '-machine'), ['pc']);
  assert.ok(!argv.some((a) => a.includes('usb-tablet') || a.includes('xhci')));
});

test('kernel, initrd, append (append kept as one argument, no shell)', () => {
  const argv = buildArgv({ ...base, kernel: '/g/vmlinuz', initrd: '/g/initrd.img', append: 'console=ttyS0 quiet "x y"' }, rt);
  assert.deepEqual(values(argv, '-kernel'), ['/g/vmlinuz']);
  assert.deepEqual(values(argv, '-initrd'), ['/g/initrd.img']);
  assert.deepEqual(values(argv, '-append'), ['console=ttyS0 quiet "x y"']);
});

test('disks on virtio, ide and sata; formats; cdrom', () => {
  const argv = buildArgv(
    {
      ...base,
      tablet: false,
      disks: [{ path: '/vms/a.qcow2' }, { path: '/vms/b.img', format: 'raw', bus: 'ide' }, { path: '/vms/c,d.qcow2', bus: 'sata' }],
      cdrom: '/isos/x.iso',
    },
    rt,
  );
  assert.deepEqual(values(argv, '-drive'), [
    'file=/vms/a.qcow2,format=qcow2,auto-read-only=off,if=virtio',
    'file=/vms/b.img,format=raw,auto-read-only=off,if=ide',
    'file=/vms/c,,d.qcow2,format=qcow2,auto-read-only=off,if=none,id=kju-disk2',
    'file=/isos/x.iso,format=raw,if=none,id=kju-cd0,media=cdrom,readonly=on',
  ]);
  // q35: the if=ide disk takes AHCI port 0, the sata disk and the CD-ROM are addressed to the next ports
  assert.deepEqual(values(argv, '-device').slice(1), ['ide-hd,drive=kju-disk2,bus=ide.1', 'ide-cd,drive=kju-cd0,id=kju-cdrom,bus=ide.2']);
});

test('sata on pc adds an AHCI controller once', () => {
  const argv = buildArgv(
    {
      ...base,
      machine: 'pc',
      tablet: false,
      disks: [
        { path: '/a', bus: 'sata' },
        { path: '/b', bus: 'sata' },
      ],
    },
    rt,
  );
  assert.deepEqual(values(argv, '-device').slice(1), ['ahci,id=kju-ahci', 'ide-hd,drive=kju-disk0,bus=kju-ahci.0', 'ide-hd,drive=kju-disk1,bus=kju-ahci.1', 'ide-cd,drive=kju-cd0,id=kju-cdrom']);
});

test('commas in names and paths are escaped for QEMU option parsing; extraArgs come last', () => {
  const argv = buildArgv({ ...base, name: 'a,b', extraArgs: ['-rtc', 'base=utc'] }, { ...rt, runtimeDir: runtimeDirAt('/tmp/x,y') });
  assert.deepEqual(values(argv, '-name'), ['a,,b']);
  assert.deepEqual(values(argv, '-qmp'), ['unix:/tmp/x,,y/qmp.sock,server=on,wait=off']);
  assert.deepEqual(argv.slice(-2), ['-rtc', 'base=utc']);
  assert.equal(escapeOptionValue('a,,b'), 'a,,,,b');
});

test('share clipboard: the qemu-vdagent chardev on a virtio-serial port named com.redhat.spice.0; none without it', () => {
  const argv = buildArgv({ ...base, clipboard: true }, rt);
  assert.deepEqual(values(argv, '-chardev'), ['qemu-vdagent,id=kju-vdagent,name=vdagent,clipboard=on']);
  const devices = values(argv, '-device');
  assert.ok(devices.includes('virtio-serial-pci,id=kju-vdagent-serial'), devices.join(' '));
  assert.ok(devices.includes('virtserialport,bus=kju-vdagent-serial.0,chardev=kju-vdagent,name=com.redhat.spice.0'), devices.join(' '));
  assert.deepEqual(values(buildArgv(base, rt), '-chardev'), []);
  assert.ok(!buildArgv({ ...base, clipboard: false }, rt).some((a) => a.includes('vdagent')));
});

test('shared folders: one fsdev and virtio-9p device each, tags share0.., readonly for :ro, commas escaped', () => {
  const shares = [
    { path: '/home/u/Shared', readOnly: false },
    { path: '/srv/a,b', readOnly: true },
  ];
  const argv = buildArgv({ ...base, shares }, rt);
  // the guest's owners and modes are metadata (xattrs) unless the probe found no user xattrs
  assert.deepEqual(values(argv, '-fsdev'), ['local,id=kju-fs0,path=/home/u/Shared,security_model=mapped-xattr', 'local,id=kju-fs1,path=/srv/a,,b,security_model=mapped-xattr,readonly=on']);
  const nineP = values(argv, '-device').filter((d) => d.startsWith('virtio-9p-pci'));
  assert.deepEqual(nineP, ['virtio-9p-pci,fsdev=kju-fs0,mount_tag=share0', 'virtio-9p-pci,fsdev=kju-fs1,mount_tag=share1']);
  assert.deepEqual(values(buildArgv({ ...base, shares }, { ...rt, shareModels: ['mapped-file', 'mapped-xattr'] }), '-fsdev'), [
    'local,id=kju-fs0,path=/home/u/Shared,security_model=mapped-file',
    'local,id=kju-fs1,path=/srv/a,,b,security_model=mapped-xattr,readonly=on',
  ]);
  assert.ok(!argv.some((a) => /security_model=(none|passthrough)/.test(a)), argv.join(' '));
});

test('user network: the NIC model, and each port forward as a hostfwd rule on it', () => {
  const network = {
    model: 'virtio-net-pci',
    forwards: [
      { proto: 'tcp' as const, hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 },
      { proto: 'udp' as const, hostAddr: '0.0.0.0', hostPort: 5353, guestPort: 53 },
    ],
  };
  assert.deepEqual(values(buildArgv({ ...base, network }, rt), '-nic'), ['user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:0.0.0.0:5353-:53']);
  assert.deepEqual(values(buildArgv({ ...base, network: { model: 'e1000' } }, rt), '-nic'), ['user,model=e1000']);
  assert.deepEqual(values(buildArgv(base, rt), '-nic'), []);
});

test('usb: a qemu-xhci controller without a tablet; with a tablet, one controller only', () => {
  assert.deepEqual(
    values(buildArgv({ ...base, tablet: false, usb: true }, rt), '-device').filter((d) => d.includes('xhci') || d.includes('usb')),
    ['qemu-xhci,id=kju-xhci'],
  );
  assert.deepEqual(
    values(buildArgv({ ...base, usb: true }, rt), '-device').filter((d) => d.includes('xhci') || d.includes('usb')),
    ['qemu-xhci,id=kju-xhci', 'usb-tablet,bus=kju-xhci.0'],
  );
});

test('a TPM is swtpm behind the runtime dir socket: CRB on q35, TIS on pc', () => {
  const q35 = buildArgv({ ...base, tpmStateDir: '/vms/a.kju/tpm' }, rt);
  assert.deepEqual(values(q35, '-chardev'), ['socket,id=kju-chrtpm,path=/run/user/1000/kju/demo/swtpm.sock']);
  assert.deepEqual(values(q35, '-tpmdev'), ['emulator,id=kju-tpm0,chardev=kju-chrtpm']);
  assert.ok(values(q35, '-device').includes('tpm-crb,tpmdev=kju-tpm0'));
  const pc = buildArgv({ ...base, machine: 'pc', tpmStateDir: '/vms/a.kju/tpm' }, rt);
  assert.ok(values(pc, '-device').includes('tpm-tis,tpmdev=kju-tpm0'));
  assert.deepEqual(values(buildArgv(base, rt), '-tpmdev'), []);
});

test('Secure Boot: q35 with SMM and secure pflash; without it neither', () => {
  const sb = buildArgv({ ...base, secureBoot: true }, rt);
  assert.deepEqual(values(sb, '-machine'), ['q35,smm=on']);
  assert.deepEqual(values(sb, '-global'), ['driver=cfi.pflash01,property=secure,value=on']);
  const plain = buildArgv(base, rt);
  assert.deepEqual(values(plain, '-machine'), ['q35']);
  assert.deepEqual(values(plain, '-global'), []);
});

test('Hyper-V enlightenments go on the host CPU with KVM only', () => {
  const kvm = buildArgv({ ...base, hyperv: true }, { ...rt, accel: 'kvm' });
  assert.deepEqual(values(kvm, '-cpu'), ['host,hv_relaxed,hv_vapic,hv_spinlocks=0x1fff,hv_time,hv_vpindex,hv_synic,hv_stimer']);
  assert.deepEqual(values(buildArgv({ ...base, hyperv: true }, rt), '-cpu'), []);
  assert.deepEqual(values(buildArgv(base, { ...rt, accel: 'kvm' }), '-cpu'), ['host']);
});

test('sound: no card by default; a card adds the D-Bus audiodev, names it on -display and wires the device to it', () => {
  assert.ok(!buildArgv(base, rt).includes('-audiodev'));
  assert.ok(!buildArgv({ ...base, sound: 'none' }, rt).includes('-audiodev'));
  const cases: Record<string, string[]> = {
    'intel-hda': ['intel-hda,id=kju-hda', 'hda-duplex,bus=kju-hda.0,audiodev=kju-snd0'],
    'ich9-intel-hda': ['ich9-intel-hda,id=kju-hda', 'hda-duplex,bus=kju-hda.0,audiodev=kju-snd0'],
    ac97: ['AC97,audiodev=kju-snd0'],
    sb16: ['sb16,audiodev=kju-snd0'],
    'virtio-sound': ['virtio-sound-pci,audiodev=kju-snd0'],
  };
  for (const [sound, devices] of Object.entries(cases)) {
    const argv = buildArgv({ ...base, sound: sound as VmDescription['sound'] }, rt);
    assert.deepEqual(values(argv, '-audiodev'), ['dbus,id=kju-snd0'], sound);
    assert.deepEqual(values(argv, '-display'), ['dbus,p2p=on,audiodev=kju-snd0'], sound);
    for (const d of devices) assert.ok(values(argv, '-device').includes(d), `${sound}: ${d}`);
  }
});

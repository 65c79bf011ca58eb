import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArgv } from '../qemu/build-argv.js';
import { libraryVmRuntimeDir, runtimeDirAt } from '../qemu/runtime-dir.js';
import { Library } from './library.js';
import { probeRunState } from './run-state.js';
import { createVm } from './vm-create.js';
import { cloneVm } from './vm-clone.js';
import { bundleToVmDescription } from './vm-description-from-bundle.js';

const HOST = { cpus: 4, memoryMiB: 8192 };

async function tempLibrary(t: { after(fn: () => Promise<void>): void }): Promise<{ lib: Library; tmp: string }> {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-desc-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  return { lib: new Library(join(tmp, 'library'), { host: HOST }), tmp };
}

test('a bundle becomes a launcher VmDescription with absolute paths, NIC and UEFI pflash', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const iso = join(tmp, 'setup.iso');
  await writeFile(iso, 'iso');
  const vm = await createVm(lib, { name: 'Win, 11', preset: 'windows', diskSize: '64M', memoryMiB: 1024, iso });
  const desc = bundleToVmDescription(vm);
  assert.equal(desc.name, 'Win, 11');
  assert.deepEqual(desc.disks, [{ path: join(vm.dir, 'disk.qcow2'), format: 'qcow2', bus: 'sata' }]);
  assert.equal(desc.cdrom, iso);
  assert.equal(desc.display, 'std');
  const argv = buildArgv(desc, { runtimeDir: runtimeDirAt(join(tmp, 'run')), accel: 'tcg' });
  assert.ok(argv.includes('user,model=e1000e'), 'the Windows preset has an e1000e (Windows 11 has its driver inbox)');
  assert.ok(argv.some((a) => a.startsWith('if=pflash,format=raw,unit=0,readonly=on,file=/')));
  assert.ok(argv.includes(`if=pflash,format=raw,unit=1,auto-read-only=off,file=${join(vm.dir, 'efi-vars.fd').replaceAll(',', ',,')}`));
});

test('a missing disk is a clear error naming the path', async (t) => {
  const { lib } = await tempLibrary(t);
  const vm = await createVm(lib, { name: 'Gone', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  await rm(join(vm.dir, 'disk.qcow2'));
  assert.throws(
    () => bundleToVmDescription(vm),
    (err: Error & { code: string }) => {
      assert.equal(err.code, 'missing-file');
      assert.match(err.message, new RegExp(`VM "Gone" cannot start: missing disk 1 ${join(vm.dir, 'disk.qcow2')}`));
      return true;
    },
  );
});

test('run-state hook: a live pid in the launcher runtime dir means running; delete is refused', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = join(tmp, 'run');
  t.after(() => {
    if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = saved;
  });
  const vm = await createVm(lib, { name: 'Busy', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  assert.equal(probeRunState(vm), 'stopped');
  const rt = libraryVmRuntimeDir(vm);
  await mkdir(rt.dir, { recursive: true });
  await writeFile(rt.pidFile, `${process.pid}\n`);
  assert.equal(probeRunState(vm), 'running');
  assert.equal((await lib.summaries())[0].state, 'running');
  await assert.rejects(lib.delete('Busy'), /VM "Busy" is running; shut it down first/);
});

/** Runs `fn` with KJU_SWTPM (and PATH) set as given, restoring them after. */
async function withSwtpmEnv<T>(env: { KJU_SWTPM?: string; PATH?: string }, fn: () => Promise<T>): Promise<T> {
  const saved = { KJU_SWTPM: process.env.KJU_SWTPM, PATH: process.env.PATH };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('the Windows 11 preset: q35 + SMM, Secure Boot firmware with MS keys, TPM 2.0, 4 GiB, SATA qcow2, e1000e, tablet, one Intel HD Audio on D-Bus audio, std VGA, Hyper-V with KVM', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const vm = await withSwtpmEnv({ KJU_SWTPM: '/usr/bin/swtpm' }, () => createVm(lib, { name: 'Win11', preset: 'windows', diskSize: '64M' }));
  assert.equal(vm.config.memoryMiB, 4096);
  assert.equal(vm.config.secureBoot, true);
  assert.equal(vm.config.tpm, true);
  assert.ok(statSync(join(vm.dir, 'tpm')).isDirectory(), 'the TPM state directory is in the bundle');
  // the per-VM variable store is a copy of the MS-keys template, not the empty one
  assert.deepEqual(readFileSync(join(vm.dir, 'efi-vars.fd')), readFileSync('/usr/share/OVMF/OVMF_VARS_4M.ms.fd'));
  const rt = runtimeDirAt(join(tmp, 'run'));
  const argv = buildArgv(bundleToVmDescription(vm), { runtimeDir: rt, accel: 'kvm' });
  const after = (flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
  assert.deepEqual(after('-machine'), ['q35,smm=on']);
  assert.deepEqual(after('-global'), ['driver=cfi.pflash01,property=secure,value=on']);
  assert.deepEqual(after('-m'), ['4096M']);
  assert.match(after('-cpu')[0]!, /^host,hv_relaxed,hv_vapic,hv_spinlocks=0x1fff,hv_time/);
  assert.ok(after('-drive').includes('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd'));
  assert.ok(after('-drive').includes(`file=${join(vm.dir, 'disk.qcow2')},format=qcow2,auto-read-only=off,if=none,id=kju-disk0`));
  assert.ok(after('-device').includes('ide-hd,drive=kju-disk0,bus=ide.0'), 'the disk is on q35 AHCI (SATA)');
  assert.deepEqual(after('-nic'), ['user,model=e1000e']);
  assert.deepEqual(after('-vga'), ['std']);
  assert.ok(after('-device').includes('usb-tablet,bus=kju-xhci.0'));
  assert.equal(vm.config.sound, 'intel-hda');
  assert.deepEqual(
    after('-device').filter((d) => /^(ich9-)?intel-hda\b/.test(d)),
    ['intel-hda,id=kju-hda'],
    'one HDA controller',
  );
  assert.ok(after('-device').includes('hda-duplex,bus=kju-hda.0,audiodev=kju-snd0'));
  assert.deepEqual(after('-audiodev'), ['dbus,id=kju-snd0']);
  assert.ok(after('-device').includes('tpm-crb,tpmdev=kju-tpm0'));
  assert.ok(after('-device').includes('ide-cd,drive=kju-cd0,id=kju-cdrom,bus=ide.1'));
  assert.ok(after('-chardev').includes(`socket,id=kju-chrtpm,path=${rt.tpmSocket}`));
  assert.deepEqual(after('-chardev'), [`socket,id=kju-chrtpm,path=${rt.tpmSocket}`], 'no clipboard channel: sharing is opt-in (it would block suspend)');
  assert.equal(bundleToVmDescription(vm).tpmStateDir, join(vm.dir, 'tpm'));
});

test('other presets keep their defaults: no TPM, no Secure Boot, no Hyper-V', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  for (const preset of ['linux', 'dos', 'bsd', 'other'] as const) {
    const vm = await createVm(lib, { name: `P-${preset}`, preset, diskSize: '64M', memoryMiB: 256, cpus: 1 });
    for (const key of ['tpm', 'secureBoot', 'hyperv'] as const) assert.equal(vm.config[key], undefined, `${preset}: ${key}`);
    const argv = buildArgv(bundleToVmDescription(vm), { runtimeDir: runtimeDirAt(join(tmp, 'run')), accel: 'kvm' });
    assert.ok(!argv.includes('-tpmdev') && !argv.includes('-global'), preset);
  }
});

test('--tpm without swtpm is an error naming the package, and nothing is written', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  await assert.rejects(
    withSwtpmEnv({ KJU_SWTPM: undefined, PATH: join(tmp, 'empty-bin') }, () => createVm(lib, { name: 'NoTpm', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1, tpm: true })),
    (err: Error & { code: string }) => {
      assert.equal(err.code, 'no-swtpm');
      assert.match(err.message, /swtpm/);
      assert.match(err.message, /apt install swtpm/);
      return true;
    },
  );
  assert.deepEqual(
    (await lib.list()).map((e) => e.name),
    [],
  );
  const vm = await createVm(lib, { name: 'Later', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  // without qemu-img kju cannot check the disk's chain: the VM shows that, with the package to install
  const noQemuImg = await withSwtpmEnv({ PATH: join(tmp, 'empty-bin') }, () => lib.list());
  assert.match(noQemuImg.find((e) => e.name === 'Later')?.problem ?? '', /cannot check the disks of VM "Later".*install qemu-utils/);
  // a PATH with qemu-img but no swtpm
  const qemuImgOnly = join(tmp, 'qemu-img-only');
  await mkdir(qemuImgOnly);
  await symlink(execFileSync('sh', ['-c', 'command -v qemu-img'], { encoding: 'utf8' }).trim(), join(qemuImgOnly, 'qemu-img'));
  await assert.rejects(
    withSwtpmEnv({ KJU_SWTPM: undefined, PATH: qemuImgOnly }, () => lib.edit('Later', { tpm: true })),
    (err: Error & { code: string }) => err.code === 'no-swtpm',
  );
  assert.equal((await lib.get('Later')).config.tpm, undefined);
  assert.equal(existsSync(join(vm.dir, 'tpm')), false);
});

test('Secure Boot with direct kernel boot is refused up front, saying why', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const kernel = join(tmp, 'vmlinuz');
  await writeFile(kernel, 'k');
  await assert.rejects(createVm(lib, { name: 'SbK', preset: 'linux', diskSize: null, memoryMiB: 256, cpus: 1, secureBoot: true, kernel }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'invalid-argument');
    assert.match(err.message, /Secure Boot cannot check a kernel booted directly/);
    return true;
  });
  await createVm(lib, { name: 'K', preset: 'linux', diskSize: null, memoryMiB: 256, cpus: 1, kernel });
  await assert.rejects(lib.edit('K', { secureBoot: true }), /Secure Boot cannot check a kernel booted directly/);
  assert.deepEqual(
    (await lib.list()).map((e) => e.name),
    ['K'],
  );
});

test('edit --secure-boot turns on UEFI with an MS-keys variable store; --tpm adds the state dir; a clone gets its own copies', async (t) => {
  const { lib } = await tempLibrary(t);
  await createVm(lib, { name: 'Plain', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  const vm = await withSwtpmEnv({ KJU_SWTPM: '/usr/bin/swtpm' }, () => lib.edit('Plain', { secureBoot: true, tpm: true }));
  assert.equal(vm.config.firmware, 'uefi');
  assert.equal(vm.config.secureBoot, true);
  assert.deepEqual(readFileSync(join(vm.dir, 'efi-vars.fd')), readFileSync('/usr/share/OVMF/OVMF_VARS_4M.ms.fd'));
  await writeFile(join(vm.dir, 'tpm', 'tpm2-00.permall'), 'state of Plain');
  const clone = await cloneVm(lib, 'Plain', 'Copy');
  assert.equal(readFileSync(join(clone.dir, 'tpm', 'tpm2-00.permall'), 'utf8'), 'state of Plain');
  await writeFile(join(clone.dir, 'tpm', 'tpm2-00.permall'), 'state of Copy');
  assert.equal(readFileSync(join(vm.dir, 'tpm', 'tpm2-00.permall'), 'utf8'), 'state of Plain', 'the clone has its own copy');
  assert.ok(readFileSync(join(clone.dir, 'efi-vars.fd')).equals(readFileSync(join(vm.dir, 'efi-vars.fd'))));
});

test('sound: the preset card reaches the argv on the D-Bus audiodev; a config without `sound` (older kju) has none', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const vm = await createVm(lib, { name: 'Tune', preset: 'linux', diskSize: null, memoryMiB: 256 });
  assert.equal(vm.config.sound, 'intel-hda');
  const argv = buildArgv(bundleToVmDescription(vm), { runtimeDir: runtimeDirAt(join(tmp, 'run')), accel: 'tcg' });
  assert.ok(argv.includes('dbus,p2p=on,audiodev=kju-snd0'));
  assert.ok(argv.includes('hda-duplex,bus=kju-hda.0,audiodev=kju-snd0'));
  const { sound: _, ...older } = vm.config;
  const oldArgv = buildArgv(bundleToVmDescription({ ...vm, config: older }), { runtimeDir: runtimeDirAt(join(tmp, 'run')), accel: 'tcg' });
  assert.ok(!oldArgv.includes('-audiodev'));
  assert.ok(oldArgv.includes('dbus,p2p=on'));
});

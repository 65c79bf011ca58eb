import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArgv } from '../qemu/build-argv.js';
import { libraryVmRuntimeDir, runtimeDirAt } from '../qemu/runtime-dir.js';
import { Library } from './library.js';
import { probeRunState } from './run-state.js';
import { createVm } from './vm-create.js';
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
  assert.ok(argv.includes('user,model=e1000'));
  assert.ok(argv.some((a) => a.startsWith('if=pflash,format=raw,unit=0,readonly=on,file=/')));
  assert.ok(argv.includes(`if=pflash,format=raw,unit=1,file=${join(vm.dir, 'efi-vars.fd').replaceAll(',', ',,')}`));
});

test('a missing disk is a clear error naming the path', async (t) => {
  const { lib } = await tempLibrary(t);
  const vm = await createVm(lib, { name: 'Gone', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  await rm(join(vm.dir, 'disk.qcow2'));
  assert.throws(() => bundleToVmDescription(vm), (err: Error & { code: string }) => {
    assert.equal(err.code, 'missing-file');
    assert.match(err.message, new RegExp(`VM "Gone" cannot start: missing disk 1 ${join(vm.dir, 'disk.qcow2')}`));
    return true;
  });
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

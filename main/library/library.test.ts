import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_SCHEMA_VERSION, parseBundleConfig } from './bundle-config.js';
import { findUefiFirmware } from './firmware.js';
import { Library } from './library.js';
import { resolveLibraryPath } from './library-location.js';
import { cloneVm } from './vm-clone.js';
import { createVm } from './vm-create.js';
import { bundleToVmDescription } from './vm-description-from-bundle.js';
import { parseProgress } from './qemu-img.js';
import { LIBRARY_KEY_FILE } from './outside-paths.js';
import { DISK_CHAIN_CACHE_FILE } from './disk-chain-cache.js';

const HOST = { cpus: 4, memoryMiB: 8192 };
/** the library's key and its disk chain cache: the library's own, not leftovers */
const LIBRARY_OWN_FILES = [LIBRARY_KEY_FILE, DISK_CHAIN_CACHE_FILE];

async function tempLibrary(t: { after(fn: () => Promise<void>): void }): Promise<{ lib: Library; tmp: string }> {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-lib-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  return { lib: new Library(join(tmp, 'library'), { host: HOST }), tmp };
}

function info(path: string): { format: string; 'virtual-size': number; 'backing-filename'?: string } {
  return JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', path], { encoding: 'utf8' }));
}

test('create makes a bundle with a qcow2 disk, subfolders and a valid config', async (t) => {
  const { lib } = await tempLibrary(t);
  const vm = await createVm(lib, { name: 'Deb', preset: 'linux', memoryMiB: 512, cpus: 1, diskSize: '64M' });
  assert.equal(vm.dir, join(lib.root, 'Deb.kju'));
  assert.deepEqual((await readdir(vm.dir)).sort(), ['config.json', 'disk.qcow2', 'logs', 'screenshots', 'states']);
  const disk = info(join(vm.dir, 'disk.qcow2'));
  assert.equal(disk.format, 'qcow2');
  assert.equal(disk['virtual-size'], 67108864);
  const config = parseBundleConfig(await readFile(join(vm.dir, 'config.json'), 'utf8'), 'config.json');
  assert.equal(config.kju, BUNDLE_SCHEMA_VERSION);
  assert.equal(config.display, 'virtio-vga');
  assert.deepEqual(config.disks, [{ file: 'disk.qcow2', format: 'qcow2', bus: 'virtio' }]);
  assert.equal(config.clipboard, false, 'clipboard sharing is opt-in: QEMU cannot suspend a VM with the vdagent channel');
  assert.deepEqual((await lib.get('deb')).config, config, 'names are case-insensitive');
  assert.deepEqual((await lib.get(config.id)).config, config);
});

test('presets choose hardware the guest has drivers for', async (t) => {
  const { lib } = await tempLibrary(t);
  const dos = await createVm(lib, { name: 'Dos', preset: 'dos', diskSize: '64M' });
  assert.equal(dos.config.machine, 'pc');
  assert.equal(dos.config.display, 'std');
  assert.equal(dos.config.disks[0].bus, 'ide');
  assert.equal(dos.config.tablet, false);
  const win = await createVm(lib, { name: 'Win', preset: 'windows', diskSize: '64M', memoryMiB: 1024 });
  assert.equal(win.config.firmware, 'uefi');
  assert.equal(win.config.disks[0].bus, 'sata');
  assert.equal(win.config.display, 'std');
  assert.ok(existsSync(join(win.dir, 'efi-vars.fd')), 'per-VM UEFI variable store copied');
});

test('UEFI asked with no OVMF on the system is a clear error, and nothing is left behind', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const noFirmware = new Library(lib.root, { host: HOST, firmwareRoot: join(tmp, 'empty') });
  await assert.rejects(createVm(noFirmware, { name: 'W', preset: 'windows', diskSize: '64M' }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'no-uefi-firmware');
    assert.match(err.message, /OVMF.*apt install ovmf/);
    return true;
  });
  assert.deepEqual(await lib.list(), []);
  assert.throws(() => findUefiFirmware(join(tmp, 'empty')), /not found/);
});

test('create refuses more CPUs or memory than the host has, bad names, taken names, bad sizes', async (t) => {
  const { lib } = await tempLibrary(t);
  await assert.rejects(createVm(lib, { name: 'A', preset: 'linux', cpus: 5, diskSize: '64M' }), /5 CPUs asked, but this host has 4/);
  await assert.rejects(createVm(lib, { name: 'A', preset: 'linux', memoryMiB: 9000, diskSize: '64M' }), /9000 MiB .* host has 8192 MiB/);
  await assert.rejects(createVm(lib, { name: 'a/b', preset: 'linux', diskSize: '64M' }), /cannot be a VM name/);
  await assert.rejects(createVm(lib, { name: 'A', preset: 'linux', diskSize: 'lots' }), /not a size like 64M/);
  await createVm(lib, { name: 'A', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  await assert.rejects(createVm(lib, { name: 'a', preset: 'linux', diskSize: '64M' }), /already exists/);
  assert.deepEqual(
    (await readdir(lib.root)).filter((n) => !LIBRARY_OWN_FILES.includes(n)),
    ['A.kju'],
  );
});

test('an existing image can be copied (converted to qcow2 with progress), linked or referenced', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const raw = join(tmp, 'existing.img');
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '32M']);
  const progress: number[] = [];
  const copied = await createVm(lib, { name: 'Copy', preset: 'linux', existingDisk: { path: raw, mode: 'copy' }, onProgress: (p) => progress.push(p) });
  assert.equal(info(join(copied.dir, 'disk.qcow2')).format, 'qcow2');
  assert.equal(progress.at(-1), 100);
  const linked = await createVm(lib, { name: 'Link', preset: 'linux', existingDisk: { path: raw, mode: 'link' } });
  assert.equal(info(join(linked.dir, 'disk.qcow2'))['backing-filename'], raw);
  const ref = await createVm(lib, { name: 'Ref', preset: 'linux', existingDisk: { path: raw, mode: 'reference' } });
  assert.deepEqual(ref.config.disks, [{ file: raw, format: 'raw', bus: 'virtio' }]);
});

test('parseProgress reads qemu-img -p figures', () => {
  assert.deepEqual(parseProgress('    (0.00/100%)\r    (51.20/100%)\r    (100.00/100%)\r\n'), [0, 51.2, 100]);
});

test('edit validates, writes atomically and keeps config.json.bak', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const vm = await createVm(lib, { name: 'E', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  const before = await readFile(join(vm.dir, 'config.json'), 'utf8');
  const iso = join(tmp, 'x.iso');
  await writeFile(iso, 'iso');
  const edited = await lib.edit('E', { memoryMiB: 1024, display: 'std', cdrom: iso });
  assert.equal(edited.config.memoryMiB, 1024);
  assert.equal(edited.config.cdrom, iso);
  assert.equal(await readFile(join(vm.dir, 'config.json.bak'), 'utf8'), before);
  const current = await readFile(join(vm.dir, 'config.json'), 'utf8');
  await assert.rejects(lib.edit('E', { memoryMiB: 4 }), /memoryMiB: at least 16 MiB/);
  await assert.rejects(lib.edit('E', { cpus: 64 }), /64 CPUs asked/);
  await assert.rejects(lib.edit('E', { cdrom: join(tmp, 'nope.iso') }), /nope.iso does not exist/);
  assert.equal(await readFile(join(vm.dir, 'config.json'), 'utf8'), current);
});

test('an edit killed mid-write keeps the old config; the next listing removes its temp file (states/ too)', async (t) => {
  const { lib } = await tempLibrary(t);
  const vm = await createVm(lib, { name: 'K', preset: 'linux', diskSize: null, memoryMiB: 256, cpus: 1 });
  const before = await readFile(join(vm.dir, 'config.json'), 'utf8');
  const module = fileURLToPath(new URL('./library.ts', import.meta.url));
  const script = `const { Library } = await import(${JSON.stringify(module)}); await new Library(${JSON.stringify(lib.root)}, { host: ${JSON.stringify(HOST)} }).edit('K', { memoryMiB: 512 });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, KJU_TEST: '1', KJU_TEST_KILL_AT: 'atomic-write:synced' },
  });
  assert.equal(r.signal, 'SIGKILL', `the edit was killed mid-write: ${r.stderr}`);
  const temps = async () => [...(await readdir(vm.dir)), ...(await readdir(join(vm.dir, 'states')))].filter((n) => n.includes('.tmp-'));
  assert.equal((await temps()).length, 1, 'the kill left its temp file');
  await writeFile(join(vm.dir, 'states', '.suspended.json.tmp-999999999-1-0123abcd'), '{');
  const [entry] = await lib.list();
  assert.equal(entry.problem, undefined);
  assert.equal(await readFile(join(vm.dir, 'config.json'), 'utf8'), before);
  assert.deepEqual(await temps(), [], "the listing removed the dead writers' temp files");
});

test('listing reports broken, newer, duplicate and missing-disk bundles without throwing', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const good = await createVm(lib, { name: 'Good', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  await mkdir(join(lib.root, 'Junk.kju'));
  await writeFile(join(lib.root, 'Junk.kju', 'config.json'), '{ not json');
  await mkdir(join(lib.root, 'Future.kju'));
  await writeFile(join(lib.root, 'Future.kju', 'config.json'), JSON.stringify({ kju: 7, name: 'Future' }));
  await mkdir(join(lib.root, 'Bad.kju'));
  await writeFile(join(lib.root, 'Bad.kju', 'config.json'), JSON.stringify({ ...good.config, id: crypto.randomUUID(), name: 'Bad', memoryMiB: 'lots' }));
  const twin = join(lib.root, 'Twin.kju');
  await cp(good.dir, twin, { recursive: true });
  await writeFile(join(twin, 'config.json'), JSON.stringify({ ...good.config, id: crypto.randomUUID(), name: 'GOOD' }));
  const outside = join(tmp, 'outside.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', outside, '16M']);
  const ref = await createVm(lib, { name: 'Ref', preset: 'linux', existingDisk: { path: outside, mode: 'reference' } });
  await rm(outside);

  const byDir = Object.fromEntries((await lib.list()).map((e) => [e.dir.split('/').pop(), e]));
  assert.match(byDir['Junk.kju'].problem!, /is not valid JSON/);
  assert.match(byDir['Future.kju'].problem!, /made by a newer kju: version 7, this kju reads up to 1/);
  assert.match(byDir['Bad.kju'].problem!, /memoryMiB: /);
  assert.match(byDir['Good.kju'].problem!, /two VMs are named "Good" \(Good.kju and Twin.kju\)/);
  assert.match(byDir['Twin.kju'].problem!, /two VMs are named "GOOD"/);
  assert.equal(byDir['Ref.kju'].problem, undefined, 'a missing disk does not block editing');
  const summaries = await lib.summaries();
  assert.match(summaries.find((s) => s.name === 'Ref')!.problem!, new RegExp(`missing disk 1 ${outside}`));
  assert.throws(
    () => lib.requireFiles(ref),
    (err: Error & { code: string }) => err.code === 'missing-file' && err.message.includes(outside),
  );
  await assert.rejects(lib.get('Good'), /two VMs are named/);
  await assert.rejects(lib.get('Junk'), /not valid JSON/);
  await assert.rejects(lib.get('Nobody'), /no VM named "Nobody"/);
});

test('full and linked clones; linked clones protect their base from deletion', async (t) => {
  const { lib } = await tempLibrary(t);
  const src = await createVm(lib, { name: 'Src', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  const progress: number[] = [];
  const full = await cloneVm(lib, 'Src', 'Full', { onProgress: (p) => progress.push(p) });
  assert.notEqual(full.config.id, src.config.id);
  assert.equal(info(join(full.dir, 'disk.qcow2'))['backing-filename'], undefined);
  assert.equal(progress.at(-1), 100);
  const linked = await cloneVm(lib, 'Src', 'Linked', { linked: true });
  const cloneDisk = info(join(linked.dir, 'disk.qcow2'));
  assert.match(cloneDisk['backing-filename']!, /Src\.kju\/disk\.base-\d+\.qcow2$/);
  assert.match(info(join(src.dir, 'disk.qcow2'))['backing-filename']!, /^disk\.base-\d+\.qcow2$/, 'source now writes to its own overlay');
  assert.deepEqual(linked.config.clonedFrom, { id: src.config.id, name: 'Src', linked: true });
  await assert.rejects(lib.delete('Src'), /linked clones "Linked" read their disks/);
  await assert.rejects(cloneVm(lib, 'Src', 'full'), /already exists/);
});

test('delete moves to .Trash inside the library, or removes with permanent', async (t) => {
  const { lib } = await tempLibrary(t);
  await createVm(lib, { name: 'One', preset: 'other', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  await createVm(lib, { name: 'Two', preset: 'other', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  const { trashedTo } = await lib.delete('One');
  assert.match(trashedTo!, /\.Trash\/One .*\.kju$/);
  assert.ok(existsSync(join(trashedTo!, 'config.json')));
  await lib.delete('Two', { permanent: true });
  assert.deepEqual(
    (await readdir(lib.root)).filter((n) => !LIBRARY_OWN_FILES.includes(n)),
    ['.Trash'],
  );
  assert.deepEqual(await lib.list(), []);
});

test('import validates and refuses duplicates; export copies the bundle as-is', async (t) => {
  const { lib, tmp } = await tempLibrary(t);
  const vm = await createVm(lib, { name: 'Port', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  const out = join(tmp, 'out');
  await mkdir(out);
  const exported = await lib.exportBundle('Port', out);
  assert.equal(exported, join(out, 'Port.kju'));
  await assert.rejects(lib.importBundle(exported), /already has this bundle's id/);
  const other = new Library(join(tmp, 'other'), { host: HOST });
  const imported = await other.importBundle(exported);
  assert.deepEqual(imported.config, vm.config);
  assert.equal(info(join(imported.dir, 'disk.qcow2'))['virtual-size'], 67108864);
  await writeFile(join(exported, 'config.json'), '[]');
  await assert.rejects(new Library(join(tmp, 'third'), { host: HOST }).importBundle(exported), /not a kju config/);
});

test('library location: KJU_LIBRARY, then settings.json, then XDG_DATA_HOME', async (t) => {
  const { tmp } = await tempLibrary(t);
  const env = { HOME: tmp, XDG_CONFIG_HOME: join(tmp, 'cfg'), XDG_DATA_HOME: join(tmp, 'data') };
  assert.equal(resolveLibraryPath(env), join(tmp, 'data', 'kju', 'library'));
  await mkdir(join(tmp, 'cfg', 'kju'), { recursive: true });
  await writeFile(join(tmp, 'cfg', 'kju', 'settings.json'), JSON.stringify({ libraryPath: '/srv/vms' }));
  assert.equal(resolveLibraryPath(env), '/srv/vms');
  assert.equal(resolveLibraryPath({ ...env, KJU_LIBRARY: join(tmp, 'x') }), join(tmp, 'x'));
  await writeFile(join(tmp, 'cfg', 'kju', 'settings.json'), JSON.stringify({ libraryPath: 'relative' }));
  assert.throws(() => resolveLibraryPath(env), /libraryPath must be an absolute path/);
});

test('share clipboard: on by default, off when asked, edited, shown in the summary and the launch description', async (t) => {
  const { lib } = await tempLibrary(t);
  const off = await createVm(lib, { name: 'Quiet', preset: 'linux', diskSize: null, memoryMiB: 256, cpus: 1, clipboard: false });
  assert.equal(off.config.clipboard, false);
  assert.equal(bundleToVmDescription(off).clipboard, undefined);
  const edited = await lib.edit('Quiet', { clipboard: true });
  assert.equal(edited.config.clipboard, true);
  assert.equal(bundleToVmDescription(edited).clipboard, true);
  assert.equal((await lib.summaries()).find((s) => s.name === 'Quiet')?.clipboard, true);
});

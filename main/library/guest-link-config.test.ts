import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArgv } from '../qemu/build-argv.js';
import { runtimeDirAt } from '../qemu/runtime-dir.js';
import { Library } from './library.js';
import { readLibraryKey, unconfirmedOutsidePaths } from './outside-paths.js';
import { createVm } from './vm-create.js';
import { bundleToVmDescription } from './vm-description-from-bundle.js';

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-links-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  return { tmp, lib: new Library(join(tmp, 'library'), { host: { cpus: 4, memoryMiB: 8192 } }) };
}

test('create and edit keep shared folders and forwards in config.json and in the QEMU argv; --no-share empties', async (t) => {
  const { tmp, lib } = await setup(t);
  const a = join(tmp, 'a');
  const b = join(tmp, 'b');
  await mkdir(a);
  await mkdir(b);
  const forward = { proto: 'tcp' as const, hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 };
  const vm = await createVm(lib, {
    name: 'Links',
    preset: 'linux',
    diskSize: null,
    memoryMiB: 256,
    cpus: 1,
    shares: [
      { path: a, readOnly: false },
      { path: b, readOnly: true },
    ],
    forwards: [forward],
  });
  const onDisk = JSON.parse(await readFile(join(vm.dir, 'config.json'), 'utf8'));
  assert.deepEqual(onDisk.shares, [
    { path: a, readOnly: false },
    { path: b, readOnly: true },
  ]);
  assert.deepEqual(onDisk.forwards, [forward]);
  // named by the user at create: confirmed, so the VM may start
  assert.deepEqual(unconfirmedOutsidePaths(vm.dir, vm.config, readLibraryKey(lib.root)), []);
  const argv = buildArgv(bundleToVmDescription(vm), { runtimeDir: runtimeDirAt(join(tmp, 'run')), accel: 'tcg' });
  assert.ok(argv.includes(`local,id=kju-fs1,path=${b},security_model=mapped-xattr,readonly=on`));
  assert.ok(argv.includes('user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:8080-:80'));
  assert.ok(argv.includes('qemu-xhci,id=kju-xhci'));

  const edited = await lib.edit('Links', { shares: [{ path: b, readOnly: false }] });
  assert.deepEqual(edited.config.shares, [{ path: b, readOnly: false }]);
  const cleared = await lib.edit('Links', { shares: [], forwards: [] });
  assert.equal(cleared.config.shares, undefined);
  assert.equal(cleared.config.forwards, undefined);
  assert.ok(!buildArgv(bundleToVmDescription(cleared), { runtimeDir: runtimeDirAt(join(tmp, 'run')), accel: 'tcg' }).some((x) => x.includes('9p')));
});

test('a shared folder that is missing or a file is refused, and nothing is written', async (t) => {
  const { tmp, lib } = await setup(t);
  const file = join(tmp, 'file');
  await writeFile(file, 'x');
  await assert.rejects(createVm(lib, { name: 'A', preset: 'linux', diskSize: null, shares: [{ path: join(tmp, 'nope'), readOnly: false }] }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'missing-file');
    assert.match(err.message, /shared folder .*nope \(share0\) does not exist/);
    return true;
  });
  await assert.rejects(createVm(lib, { name: 'A', preset: 'linux', diskSize: null, shares: [{ path: file, readOnly: false }] }), /is not a folder/);
  assert.deepEqual(await lib.list(), []);
  const vm = await createVm(lib, { name: 'B', preset: 'linux', diskSize: null, memoryMiB: 256, cpus: 1 });
  await assert.rejects(lib.edit('B', { shares: [{ path: file, readOnly: true }] }), /is not a folder/);
  await assert.rejects(
    lib.edit('B', {
      forwards: [
        { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 1, guestPort: 2 },
        { proto: 'tcp', hostAddr: '0.0.0.0', hostPort: 1, guestPort: 3 },
      ],
    }),
    /two forwards take host tcp port 1/,
  );
  assert.equal(JSON.parse(await readFile(join(vm.dir, 'config.json'), 'utf8')).shares, undefined);
});

test('a shared folder a copied-in config names on its own is an unconfirmed outside path', async (t) => {
  const { tmp, lib } = await setup(t);
  const secret = join(tmp, 'secret');
  await mkdir(secret);
  const vm = await createVm(lib, { name: 'C', preset: 'linux', diskSize: null, memoryMiB: 256, cpus: 1 });
  const forged = { ...vm.config, shares: [{ path: secret, readOnly: false }] };
  assert.deepEqual(unconfirmedOutsidePaths(vm.dir, forged, readLibraryKey(lib.root)), [{ role: 'shared folder 0 (share0)', path: secret }]);
});

test('a share may not be the library, lie inside it (a bundle) or contain it: refused at create and edit, and a hand-written one shows in list and blocks get until edited', async (t) => {
  const { tmp, lib } = await setup(t);
  const vm = await createVm(lib, { name: 'Host', preset: 'linux', diskSize: null, memoryMiB: 256, cpus: 1 });
  const bad = [tmp, lib.root, vm.dir, join(vm.dir, 'disks')];
  await mkdir(join(vm.dir, 'disks'), { recursive: true });
  for (const path of bad) {
    await assert.rejects(createVm(lib, { name: 'Evil', preset: 'linux', diskSize: null, memoryMiB: 256, cpus: 1, shares: [{ path, readOnly: false }] }), /the kju library .*share another folder/);
    await assert.rejects(lib.edit('Host', { shares: [{ path, readOnly: true }] }), /the kju library/);
  }
  assert.equal(
    (await lib.list()).some((e) => e.name === 'Evil'),
    false,
  );
  // a config written by hand (or by a guest) naming the library
  const configPath = join(vm.dir, 'config.json');
  const config = JSON.parse(await readFile(configPath, 'utf8'));
  await writeFile(configPath, JSON.stringify({ ...config, shares: [{ path: lib.root, readOnly: false }] }));
  const entry = (await lib.list()).find((e) => e.name === 'Host');
  assert.match(entry?.problem ?? '', /contains the kju library|lies inside/);
  await assert.rejects(lib.get('Host'), /the kju library/);
  const elsewhere = join(tmp, 'elsewhere');
  await mkdir(elsewhere);
  await lib.edit('Host', { shares: [{ path: elsewhere, readOnly: false }] });
  assert.equal((await lib.list()).find((e) => e.name === 'Host')?.problem, undefined);
});

// Bundles from elsewhere naming host files outside the bundle (issue 13 item 6, library part).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Library } from './library.js';
import { createVm } from './vm-create.js';

const HOST = { cpus: 4, memoryMiB: 8192 };
const small = { preset: 'other' as const, memoryMiB: 64, cpus: 1 };

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-outside-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const secret = join(tmp, 'secret');
  await writeFile(secret, 'host secret\n');
  return { tmp, secret, lib: new Library(join(tmp, 'library'), { host: HOST }), other: new Library(join(tmp, 'elsewhere'), { host: HOST }) };
}

/** A bundle as someone else could hand it over: `edit` rewrites its config. */
async function foreignBundle(lib: Library, name: string, edit: (c: Record<string, unknown>) => Record<string, unknown>): Promise<string> {
  const vm = await createVm(lib, { ...small, name, diskSize: '1M' });
  const c = JSON.parse(await readFile(join(vm.dir, 'config.json'), 'utf8'));
  await writeFile(join(vm.dir, 'config.json'), JSON.stringify(edit(c)));
  return vm.dir;
}

test('importing a bundle whose disk path leads outside it is refused, naming the path; accepting it imports', async (t) => {
  const { secret, lib, other } = await setup(t);
  const bundle = await foreignBundle(other, 'Evil', (c) => ({ ...c, disks: [{ file: secret, format: 'raw', bus: 'virtio' }] }));
  await assert.rejects(lib.importBundle(bundle), (err: Error & { code: string }) => {
    assert.equal(err.code, 'outside-path');
    assert.ok(err.message.includes(`disk 1 ${secret} outside its bundle`), err.message);
    assert.match(err.message, /if you trust it: import it again accepting that path/);
    return true;
  });
  assert.equal(existsSync(lib.root) ? (await readdir(lib.root)).filter((n) => !n.startsWith('.kju-')).length : 0, 0, 'nothing imported');
  const imported = await lib.importBundle(bundle, { acceptOutside: [secret] });
  assert.deepEqual(
    (await lib.list()).map((e) => [e.name, e.problem]),
    [['Evil', undefined]],
  );
  assert.equal(imported.config.disks[0].file, secret);
});

test('confirmations made in another library do not count here, an ISO path included', async (t) => {
  const { tmp, secret, lib, other } = await setup(t);
  const iso = join(tmp, 'boot.iso');
  await writeFile(iso, 'iso');
  const made = await createVm(other, { ...small, name: 'Iso', diskSize: null, iso });
  assert.deepEqual(
    (await other.list()).map((e) => e.problem),
    [undefined],
    'the ISO the user gave is confirmed where it was given',
  );
  await assert.rejects(lib.importBundle(made.dir), (err: Error & { code: string }) => err.code === 'outside-path' && err.message.includes(`cdrom ${iso}`));
  // the same tags pasted onto another path do not confirm it either
  const forged = await foreignBundle(other, 'Forged', (c) => ({ ...c, cdrom: secret, outsideConfirmed: { [secret]: Object.values(made.config.outsideConfirmed!)[0] } }));
  assert.match((await other.list()).find((e) => e.dir === forged)!.problem!, new RegExp(`cdrom ${secret} outside its bundle`));
});

test('a bundle dropped into the library naming outside files, or a symlink out of it, is blocked until accepted; reference disks keep working', async (t) => {
  const { tmp, secret, lib, other } = await setup(t);
  const disk = join(tmp, 'mine.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '1M']);
  await createVm(lib, { ...small, name: 'Ref', existingDisk: { path: disk, mode: 'reference' } });
  const dropped = await foreignBundle(other, 'Dropped', (c) => ({ ...c, kernel: secret }));
  await cp(dropped, join(lib.root, 'Dropped.kju'), { recursive: true });
  const linked = await foreignBundle(other, 'Linky', (c) => c);
  await rm(join(linked, 'disk.qcow2'));
  await symlink(secret, join(linked, 'disk.qcow2'));
  await cp(linked, join(lib.root, 'Linky.kju'), { recursive: true, verbatimSymlinks: true });

  const problems = Object.fromEntries((await lib.list()).map((e) => [e.name, [e.problemCode, e.problem]]));
  assert.deepEqual(problems.Ref, [undefined, undefined], 'a reference disk made here is confirmed');
  assert.equal(problems.Dropped[0], 'outside-path');
  assert.ok(problems.Dropped[1]!.includes(`kernel ${secret} outside its bundle`), problems.Dropped[1]);
  assert.match(problems.Dropped[1]!, /kju edit "Dropped" --accept-outside PATH/);
  assert.equal(problems.Linky[0], 'outside-path');
  assert.ok(problems.Linky[1]!.includes(`disk 1 ${join(lib.root, 'Linky.kju', 'disk.qcow2')}`));
  await assert.rejects(lib.get('Dropped'), (err: Error & { code: string }) => err.code === 'outside-path');
  await assert.rejects(lib.edit('Dropped', { memoryMiB: 128 }), (err: Error & { code: string }) => err.code === 'outside-path');
  await assert.rejects(lib.edit('Dropped', {}, { acceptOutside: [join(tmp, 'other')] }), /names no unconfirmed outside path/);

  await lib.edit('Dropped', {}, { acceptOutside: [secret] });
  assert.equal((await lib.get('Dropped')).config.kernel, secret);
  assert.equal((await lib.get('Ref')).config.disks[0].file, disk);
});

test('importing a bundle whose own disk has a backing file outside it is refused', async (t) => {
  const { secret, lib, other } = await setup(t);
  const vm = await createVm(other, { ...small, name: 'Backed', diskSize: '1M' });
  execFileSync('qemu-img', ['rebase', '-u', '-f', 'qcow2', '-b', secret, '-F', 'raw', join(vm.dir, 'disk.qcow2')]);
  await assert.rejects(lib.importBundle(vm.dir), (err: Error & { code: string }) => err.code === 'untrusted-backing' && err.message.includes(secret));
  assert.deepEqual(
    (await readdir(lib.root)).filter((n) => !n.startsWith('.kju-')),
    [],
  );
});

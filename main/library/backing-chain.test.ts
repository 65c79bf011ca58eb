// Images whose header names another host file (backing or data file), with the real qemu-img.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Library } from './library.js';
import { createVm } from './vm-create.js';
import { cloneVm } from './vm-clone.js';

const HOST = { cpus: 4, memoryMiB: 8192 };
const SECRET = 'TOP-SECRET-HOST-FILE-CONTENT\n';

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-backing-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const secret = join(tmp, 'secret');
  await writeFile(secret, SECRET.padEnd(512, '\0'));
  const evil = join(tmp, 'evil.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', secret, '-F', 'raw', evil, '64K']);
  return { tmp, secret, evil, lib: new Library(join(tmp, 'library'), { host: HOST }) };
}

/** The guest-visible bytes of an image, via qemu-img convert to raw. */
async function guestBytes(tmp: string, image: string): Promise<string> {
  const raw = join(tmp, `read-${Date.now()}.raw`);
  execFileSync('qemu-img', ['convert', '-U', '-O', 'raw', image, raw]);
  return readFile(raw, 'latin1');
}

async function libraryFiles(lib: Library): Promise<string[]> {
  return existsSync(lib.root) ? readdir(lib.root) : [];
}

test('an image whose backing file the user did not name is refused in every disk mode, and nothing is written', async (t) => {
  const { secret, evil, lib } = await setup(t);
  for (const mode of ['copy', 'link', 'reference'] as const) {
    await assert.rejects(createVm(lib, { name: `E-${mode}`, preset: 'linux', existingDisk: { path: evil, mode } }), (err: Error & { code: string; path?: string }) => {
      assert.equal(err.code, 'untrusted-backing');
      assert.ok(err.message.includes(`the backing file ${secret}`), err.message);
      assert.match(err.message, /qemu-img convert -O qcow2 .*evil\.qcow2 flat\.qcow2/);
      assert.match(err.message, new RegExp(`--trust-backing ${secret}`));
      return true;
    });
  }
  assert.deepEqual(await libraryFiles(lib), [], 'no bundle and no staging directory left');
});

test('a backing file deeper in the chain and a qcow2 external data file are refused too', async (t) => {
  const { tmp, secret, evil, lib } = await setup(t);
  const top = join(tmp, 'top.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', evil, '-F', 'qcow2', top, '64K']);
  await assert.rejects(
    createVm(lib, { name: 'Deep', preset: 'linux', existingDisk: { path: top, mode: 'copy', trustedBacking: [evil] } }),
    (err: Error & { code: string }) => err.code === 'untrusted-backing' && err.message.includes(secret) && err.message.includes(`through ${evil}`),
  );
  const withData = join(tmp, 'data.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${secret},data_file_raw=on`, withData, '64K']);
  await assert.rejects(
    createVm(lib, { name: 'Data', preset: 'linux', existingDisk: { path: withData, mode: 'copy' } }),
    (err: Error & { code: string }) => err.code === 'untrusted-backing' && err.message.includes(`the external data file ${secret}`),
  );
  assert.deepEqual(await libraryFiles(lib), []);
});

test('a backing file the user named is flattened into a copy (and said so) or kept by link', async (t) => {
  const { tmp, secret, evil, lib } = await setup(t);
  const notices: string[] = [];
  const copy = await createVm(lib, { name: 'Copy', preset: 'linux', existingDisk: { path: evil, mode: 'copy', trustedBacking: [secret] }, onNotice: (m) => notices.push(m) });
  const disk = join(copy.dir, 'disk.qcow2');
  const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', disk], { encoding: 'utf8' }));
  assert.equal(info['backing-filename'], undefined, 'the copy stands alone');
  assert.ok((await guestBytes(tmp, disk)).startsWith(SECRET), 'the chosen backing content is in the copy');
  assert.equal(notices.length, 1);
  assert.match(notices[0], new RegExp(`reads from ${secret}: the copy holds the flattened result`));
  const linked = await createVm(lib, { name: 'Link', preset: 'linux', existingDisk: { path: evil, mode: 'link', trustedBacking: [secret] } });
  assert.equal(linked.config.disks[0].file, 'disk.qcow2');
});

test('a full clone will not copy a disk whose backing file points outside the library', async (t) => {
  const { tmp, secret, lib } = await setup(t);
  const vm = await createVm(lib, { name: 'Src', preset: 'linux', diskSize: '64M', memoryMiB: 256, cpus: 1 });
  // a header rewritten behind kju's back (e.g. a bundle from elsewhere): now backed by a host file
  execFileSync('qemu-img', ['rebase', '-u', '-f', 'qcow2', '-b', secret, '-F', 'raw', join(vm.dir, 'disk.qcow2')]);
  await assert.rejects(cloneVm(lib, 'Src', 'Copy'), (err: Error & { code: string }) => err.code === 'untrusted-backing' && err.message.includes(secret));
  assert.deepEqual(
    (await readdir(lib.root)).filter((n) => !n.startsWith('.kju-')),
    ['Src.kju'],
    'no clone, no staging left',
  );
  assert.ok(tmp);
});

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  RuntimeDirError,
  ensurePrivateDir,
  fileVmRuntimeDir,
  libraryVmRuntimeDir,
  listRuntimeDirs,
  prepareRuntimeDir,
  readRuntimeVmName,
  runtimeBase,
  runtimeDirAt,
  sanitizeVmName,
} from './runtime-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-rtdir-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('sanitizeVmName', () => {
  assert.equal(sanitizeVmName('Debian 12 (test)'), 'Debian-12-test');
  assert.equal(sanitizeVmName('../../etc'), 'etc');
  assert.equal(sanitizeVmName('Ünïcode ✓'), 'Unicode');
  assert.equal(sanitizeVmName('///'), 'vm');
  assert.equal(sanitizeVmName('a'.repeat(100)).length, 64);
});

test('runtimeBase: XDG_RUNTIME_DIR, else /tmp/kju-<uid>', () => {
  assert.equal(runtimeBase({ XDG_RUNTIME_DIR: '/run/user/5' }), '/run/user/5/kju');
  assert.equal(runtimeBase({}), join(tmpdir(), `kju-${process.getuid!()}`, 'kju'));
});

test('prepareRuntimeDir creates base and VM dir 0700, and fixes a loose mode', () => {
  const base = join(dir, 'base');
  const rt = libraryVmRuntimeDir(vm('My VM', ID1), base);
  assert.equal(prepareRuntimeDir(rt), rt);
  assert.match(rt.dir, new RegExp(`^${base}/My-VM-[0-9a-f]{12}$`));
  assert.equal(statSync(base).mode & 0o777, 0o700);
  assert.equal(statSync(rt.dir).mode & 0o777, 0o700);
  chmodSync(rt.dir, 0o755);
  prepareRuntimeDir(rt);
  assert.equal(statSync(rt.dir).mode & 0o777, 0o700);
});

test('a symlink or a file in the way is refused', () => {
  writeFileSync(join(dir, 'file'), '');
  assert.throws(
    () => ensurePrivateDir(join(dir, 'file')),
    (e: unknown) => e instanceof Error,
  );
  symlinkSync(dir, join(dir, 'link'));
  assert.throws(
    () => ensurePrivateDir(join(dir, 'link')),
    (e: unknown) => e instanceof RuntimeDirError && /symlink/.test(e.message),
  );
});

const ID1 = '6f1c3a52-58a4-4b8e-9d0e-2f4f5d6a7b8c';
const ID2 = '0b7e1e2a-1c55-4a4f-8a77-3f0a5c1b9d21';
const vm = (name: string, id: string, library = '/home/u/.local/share/kju/library') => ({ dir: join(library, `${name}.kju`), config: { id, name } });

test('runtimeDirAt: every file kju and QEMU keep in a runtime dir', () => {
  assert.deepEqual(runtimeDirAt('/r'), {
    dir: '/r',
    qmpSocket: '/r/qmp.sock',
    serialSocket: '/r/serial.sock',
    pidFile: '/r/qemu.pid',
    launchStamp: '/r/qemu.launch',
    lockNote: '/r/lock-op.json',
    vmJson: '/r/vm.json',
    ownerSocket: '/r/kju.sock',
    tpmSocket: '/r/swtpm.sock',
    swtpmPidFile: '/r/swtpm.pid',
  });
});

test('names that sanitize alike get different runtime dirs ("My VM"/"My-VM", Тест/Работа)', () => {
  const base = '/run/user/1000/kju';
  assert.equal(sanitizeVmName('My VM'), sanitizeVmName('My-VM'));
  assert.equal(sanitizeVmName('Тест'), sanitizeVmName('Работа'));
  const dirs = [vm('My VM', ID1), vm('My-VM', ID2), vm('Тест', ID1, '/other/library'), vm('Работа', ID2, '/other/library')].map((v) => libraryVmRuntimeDir(v, base).dir);
  assert.equal(new Set(dirs).size, 4, dirs.join(' '));
  assert.match(dirs[0], /\/My-VM-[0-9a-f]{12}$/);
  assert.match(dirs[2], /\/vm-[0-9a-f]{12}$/);
});

test('a library VM keeps its dir (same library, same id); another library or id gets another', () => {
  const base = '/b';
  const a = libraryVmRuntimeDir(vm('Alpha', ID1), base).dir;
  assert.equal(libraryVmRuntimeDir(vm('Alpha', ID1), base).dir, a);
  assert.equal(libraryVmRuntimeDir({ dir: '/home/u/.local/share/kju/library/../library/Alpha.kju', config: { id: ID1, name: 'Alpha' } }, base).dir, a, 'the library path is resolved');
  assert.notEqual(libraryVmRuntimeDir(vm('Alpha', ID2), base).dir, a);
  assert.notEqual(libraryVmRuntimeDir(vm('Alpha', ID1, '/elsewhere'), base).dir, a);
});

test('a file VM is keyed by its absolute file path, never like a library VM of the same name', () => {
  const base = '/b';
  const f = fileVmRuntimeDir('/vms/demo.json', 'demo', base).dir;
  assert.equal(fileVmRuntimeDir('/vms/./demo.json', 'demo', base).dir, f);
  assert.notEqual(fileVmRuntimeDir('/other/demo.json', 'demo', base).dir, f);
  assert.notEqual(libraryVmRuntimeDir({ dir: '/vms/demo.kju', config: { id: 'demo.json', name: 'demo' } }, base).dir, f);
});

test('socket paths fit sun_path (107 bytes) with a 200-character name and a 60-byte runtime base', () => {
  const base = runtimeBase({ XDG_RUNTIME_DIR: `/var/folders/zz/${'x'.repeat(38)}/T` }); // macOS-like
  assert.equal(base.length, 60);
  const rt = libraryVmRuntimeDir(vm('A very long name '.repeat(12), ID1), base);
  for (const p of [rt.qmpSocket, rt.serialSocket, rt.ownerSocket, join(rt.dir, 'display-share-0.sock')]) assert.ok(Buffer.byteLength(p) <= 107, `${p}: ${Buffer.byteLength(p)} bytes`);
  // the usual base (/run/user/<uid>/kju) leaves plenty of room
  assert.ok(Buffer.byteLength(join(libraryVmRuntimeDir(vm('x'.repeat(200), ID1), '/run/user/1000/kju').dir, 'display-share-0.sock')) < 80);
});

test('listRuntimeDirs and readRuntimeVmName: a scan finds a file VM by the name in its vm.json', () => {
  const base = join(dir, 'scan');
  const rt = prepareRuntimeDir(fileVmRuntimeDir('/vms/demo.json', 'demo', base));
  writeFileSync(rt.vmJson, JSON.stringify({ name: 'demo', memoryMiB: 64, cpus: 1 }));
  prepareRuntimeDir(libraryVmRuntimeDir(vm('Empty', ID1), base));
  const found = listRuntimeDirs(base);
  assert.equal(found.length, 2);
  assert.deepEqual(
    found.filter((r) => readRuntimeVmName(r) === 'demo'),
    [rt],
  );
  assert.deepEqual(listRuntimeDirs(join(dir, 'missing')), []);
});

// reattachAll's scan: it must not remove the dir of a VM that another process is launching right now
// (vm.json written, no pid file yet), must remove one that is old and dead, and must not take the QMP
// of a live VM whose start still holds the VM's lock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Library } from '../library/library.js';
import { createServer } from 'node:net';
import { lockVm } from '../library/vm-lock.js';
import { createVm } from '../library/vm-create.js';
import { libraryVmRuntimeDir, prepareRuntimeDir, runtimeBase } from '../qemu/runtime-dir.js';
import { reattachAll } from './reattach.js';
import { RunningVmTable } from './running-vms.js';

test('the sweep leaves a launching VM (fresh dir, no pid yet) alone and removes an old dead one', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'kju-reattach-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = join(tmp, 'run');
  t.after(() => (saved === undefined ? delete process.env.XDG_RUNTIME_DIR : (process.env.XDG_RUNTIME_DIR = saved)));
  const base = runtimeBase();
  const launching = join(base, 'launching-0123456789ab');
  const dead = join(base, 'dead-0123456789ab');
  for (const d of [launching, dead]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
    writeFileSync(join(d, 'vm.json'), '{"name":"x"}\n');
  }
  const old = (Date.now() - 120_000) / 1000;
  utimesSync(dead, old, old);
  const library = Library.open({ KJU_LIBRARY: join(tmp, 'library') });
  const report = await reattachAll(library, new RunningVmTable({ changed: () => {}, serveOwnerSocket: false }));
  assert.deepEqual(report.removed, [dead]);
  assert.equal(existsSync(launching), true, 'a dir written seconds ago may be a start in progress');
  assert.equal(existsSync(dead), false);
});

test('the scan leaves a live VM alone while its lock is held (a start in progress keeps QMP), and tries to adopt it once the lock is free', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'kju-reattach-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = join(tmp, 'run');
  t.after(() => (saved === undefined ? delete process.env.XDG_RUNTIME_DIR : (process.env.XDG_RUNTIME_DIR = saved)));
  const library = Library.open({ KJU_LIBRARY: join(tmp, 'library') });
  const vm = await createVm(library, { name: 'Starting', preset: 'linux', diskSize: null });
  const rt = libraryVmRuntimeDir(vm);
  prepareRuntimeDir(rt);
  writeFileSync(rt.pidFile, `${process.pid}\n`); // a live pid, as a launched QEMU's
  // QEMU's QMP socket as the starter sees it: each connection taken from it is one the starter waits behind
  let taken = 0;
  const qmp = createServer((c) => {
    taken++;
    c.destroy();
  });
  await new Promise<void>((r) => qmp.listen(rt.qmpSocket, r));
  t.after(() => qmp.close());
  const table = new RunningVmTable({ changed: () => {}, serveOwnerSocket: false });

  const lock = lockVm(vm, 'starting');
  const during = await reattachAll(library, table);
  assert.equal(taken, 0, 'the scan connected to the QMP of a VM being started');
  assert.deepEqual(during.busy, ['Starting']);
  assert.deepEqual(during.attached, []);
  lock.release();

  const after = await reattachAll(library, table);
  assert.ok(taken > 0, 'with the lock free, the scan tries to adopt the orphan');
  assert.deepEqual(after.busy, []);
});

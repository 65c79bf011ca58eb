// The VM lock's loser: a holder that only looks (the reattach scan takes the lock for an instant,
// writing no note) must not make an operation fail; a holder that works says what it does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLock } from '../../native/index.js';
import { lockVm, withVmLock, VmBusyError } from './vm-lock.js';

function scratchVm(t: { after(fn: () => void): void }) {
  const tmp = mkdtempSync(join(tmpdir(), 'kju-vm-lock-'));
  const saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = join(tmp, 'run');
  t.after(() => {
    if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = saved;
    rmSync(tmp, { recursive: true, force: true });
  });
  const dir = join(tmp, 'A.kju');
  mkdirSync(dir);
  return { dir, config: { id: '0b7c2d4e-1f3a-4b5c-8d9e-0a1b2c3d4e5f', name: 'A' } };
}

test('an instant look at the lock (no note) does not make an operation fail: it tries again', async (t) => {
  const vm = scratchVm(t);
  const look = FileLock.tryAcquire(vm.dir, { directory: true });
  assert.ok(look);
  setTimeout(() => look.release(), 20);
  assert.equal(await withVmLock(vm, 'stopping', async () => 'done'), 'done');
});

test('a holder that works makes the loser fail naming what it does', async (t) => {
  const vm = scratchVm(t);
  const held = lockVm(vm, 'starting');
  t.after(() => held.release());
  await assert.rejects(
    withVmLock(vm, 'stopping', async () => 'done'),
    (err: unknown) => err instanceof VmBusyError && err.holder === 'starting' && /is starting/.test(err.message),
  );
});

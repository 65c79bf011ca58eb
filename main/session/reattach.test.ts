// reattachAll's sweep of dead runtime dirs: it must not remove the dir of a VM that another process
// is launching right now (vm.json written, no pid file yet), and must remove one that is old and dead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Library } from '../library/library.js';
import { runtimeBase } from '../qemu/runtime-dir.js';
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

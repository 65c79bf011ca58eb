// Same-name and same-name-but-case races through the library lock, in one process and across
// kju processes; a lock left by a killed holder is broken, one held by a live process is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Library } from './library.js';
import { DISK_CHAIN_CACHE_FILE } from './disk-chain-cache.js';
import { LIBRARY_LOCK_FILE, withLibraryLock } from './library-lock.js';
import { ownerStamp } from './owner-stamp.js';
import { createVm } from './vm-create.js';

const HOST = { cpus: 4, memoryMiB: 8192 };
const root = fileURLToPath(new URL('../../', import.meta.url));

async function tempLibrary(t: { after(fn: () => Promise<void>): void }): Promise<Library> {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-lock-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  return new Library(join(tmp, 'library'), { host: HOST });
}

const small = { preset: 'other' as const, diskSize: null, memoryMiB: 64, cpus: 1 };

test('10 racing pairs of case1/CASE1 and of one same name: exactly one of each pair wins, the loser gets NAME_TAKEN', async (t) => {
  const lib = await tempLibrary(t);
  for (let i = 0; i < 10; i++) {
    for (const [a, b] of [
      [`case${i}`, `CASE${i}`],
      [`same${i}`, `same${i}`],
    ]) {
      const results = await Promise.allSettled([createVm(lib, { ...small, name: a }), createVm(lib, { ...small, name: b })]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `${a} & ${b}`);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal(lost.reason.code, 'name-taken', String(lost.reason));
    }
  }
  const entries = await lib.list();
  assert.equal(entries.length, 20);
  assert.deepEqual(
    entries.filter((e) => e.problem),
    [],
    'no two bundles block each other',
  );
  assert.deepEqual(
    (await readdir(lib.root)).filter((n) => n.startsWith('.') && n !== '.kju-key' && n !== DISK_CHAIN_CACHE_FILE),
    [],
    'no staging dir or lock left',
  );
});

// Across processes the lock file is what serialises; process start-up jitter makes the race rare
// here, so the in-process test above is the one that fails without the lock.
test('kju create case1 & kju create CASE1 as separate processes: one wins', async (t) => {
  const lib = await tempLibrary(t);
  const run = (name: string) =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'main/cli/kju.ts', 'create', name, '--no-disk', '--memory', '64', '--cpus', '1'], {
        cwd: root,
        env: { ...process.env, KJU_LIBRARY: lib.root },
        stdio: 'ignore',
      });
      child.on('close', (code) => resolve(code ?? -1));
    });
  for (let i = 0; i < 3; i++) {
    const codes = await Promise.all([run(`case${i}`), run(`CASE${i}`)]);
    assert.deepEqual(codes.sort(), [0, 1], `pair ${i}`);
  }
  assert.equal((await lib.list()).length, 3);
});

test('a lock whose holder is dead is broken; a live holder makes the taker wait, then BUSY', async (t) => {
  const lib = await tempLibrary(t);
  await lib.ensureRoot();
  const lock = join(lib.root, LIBRARY_LOCK_FILE);
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('close', r));
  await writeFile(lock, `${dead.pid}-1`);
  assert.equal(await withLibraryLock(lib.root, async () => 'taken', 2000), 'taken');

  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
  t.after(() => live.kill('SIGKILL'));
  const start = (await import('./owner-stamp.js')).processStartTime(live.pid!);
  await writeFile(lock, `${live.pid}-${start}`);
  const t0 = Date.now();
  await assert.rejects(
    withLibraryLock(lib.root, async () => 'never', 300),
    (err: Error & { code: string }) => {
      assert.equal(err.code, 'busy');
      assert.match(err.message, new RegExp(`another kju \\(pid ${live.pid}\\) is changing the library`));
      return true;
    },
  );
  assert.ok(Date.now() - t0 >= 300);
  assert.notEqual(ownerStamp(), `${live.pid}-${start}`);
});

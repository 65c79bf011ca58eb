import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backupPathOf, removeStaleTemps, writeFileAtomic } from './atomic-write.js';
import { ownerStamp } from './owner-stamp.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kju-atomic-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('writes a new file, then replaces it and keeps the previous version as .bak', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'config.json');
  await writeFileAtomic(file, 'one');
  assert.equal(await readFile(file, 'utf8'), 'one');
  await writeFileAtomic(file, 'two');
  assert.equal(await readFile(file, 'utf8'), 'two');
  assert.equal(await readFile(backupPathOf(file), 'utf8'), 'one');
  assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'config.json.bak']);
});

test('a serializer that throws leaves the old file and its backup untouched', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'config.json');
  await writeFileAtomic(file, 'old');
  await writeFileAtomic(file, 'current');
  await assert.rejects(
    writeFileAtomic(file, () => {
      throw new Error('cannot serialize');
    }),
    /cannot serialize/,
  );
  assert.equal(await readFile(file, 'utf8'), 'current');
  assert.equal(await readFile(backupPathOf(file), 'utf8'), 'old');
  assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'config.json.bak']);
});

test('a write that runs out of space midway leaves the old file intact and no temp file', async (t) => {
  // A child with a 1 KiB file-size limit gets EFBIG part way through the temp file: the same
  // failure path as a full disk, without needing root or a small mount.
  const dir = await tempDir(t);
  const file = join(dir, 'config.json');
  await writeFile(file, '{"kju":1}');
  const module = fileURLToPath(new URL('./atomic-write.ts', import.meta.url));
  const script = `
    const { writeFileAtomic } = await import(${JSON.stringify(module)});
    try { await writeFileAtomic(${JSON.stringify(file)}, 'x'.repeat(1 << 20)); console.log('wrote'); }
    catch (e) { console.log('failed', e.code); }`;
  const r = spawnSync('bash', ['-c', 'ulimit -f 1; exec "$0" --import tsx --input-type=module -e "$1"', process.execPath, script], {
    encoding: 'utf8',
  });
  assert.equal(r.stdout.trim(), 'failed EFBIG', r.stderr);
  assert.equal(await readFile(file, 'utf8'), '{"kju":1}');
  assert.deepEqual(await readdir(dir), ['config.json']);
});

test("a writer killed mid-write leaves the old file and a temp that removeStaleTemps removes; a live writer's temp is kept", async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'config.json');
  await writeFile(file, 'old');
  const module = fileURLToPath(new URL('./atomic-write.ts', import.meta.url));
  const script = `const { writeFileAtomic } = await import(${JSON.stringify(module)}); await writeFileAtomic(${JSON.stringify(file)}, 'new');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, KJU_TEST: '1', KJU_TEST_KILL_AT: 'atomic-write:synced' },
  });
  assert.equal(r.signal, 'SIGKILL', `the writer was killed at its point: ${r.stderr}`);
  assert.equal(await readFile(file, 'utf8'), 'old');
  const leftover = (await readdir(dir)).filter((n) => n !== 'config.json');
  assert.equal(leftover.length, 1, `one temp left by the kill: ${leftover}`);
  assert.match(leftover[0], /^\.config\.json\.tmp-\d+-\d+-[0-9a-f]{8}$/);
  const live = `.config.json.tmp-${ownerStamp()}-0123abcd`;
  await writeFile(join(dir, live), 'in progress');
  await writeFile(join(dir, 'notes.tmp-1-2'), 'not ours');
  await removeStaleTemps(dir);
  assert.deepEqual((await readdir(dir)).sort(), [live, 'config.json', 'notes.tmp-1-2'].sort());
  await removeStaleTemps(join(dir, 'missing')); // never throws
});

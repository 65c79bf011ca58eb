// qemu-img must not outlive kju: a real kill -9 of a node process in the middle of a copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../qemu/pid-alive.js';
import { Library } from './library.js';

async function waitFor(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('kill -9 during create --disk-mode copy: qemu-img dies with kju, the half-built bundle goes at the next listing', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-kill-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const library = join(tmp, 'library');
  const image = join(tmp, 'big.raw');
  await writeFile(image, randomBytes(8 * 1024 * 1024));
  // qemu-img itself, rate-limited so the copy takes seconds; it records its pid (exec keeps it)
  const pidFile = join(tmp, 'qemu-img.pid');
  const slowImg = join(tmp, 'slow-qemu-img');
  const real = execFileSync('sh', ['-c', 'command -v qemu-img'], { encoding: 'utf8' }).trim();
  await writeFile(slowImg, `#!/bin/sh\nif [ "$1" = convert ]; then echo $$ > ${pidFile}; shift; exec ${real} convert -r 512K "$@"; fi\nexec ${real} "$@"\n`);
  await chmod(slowImg, 0o755);
  const script = join(tmp, 'create.mts');
  await writeFile(
    script,
    `import { Library } from ${JSON.stringify(new URL('./library.ts', import.meta.url).href)};\n` +
      `import { createVm } from ${JSON.stringify(new URL('./vm-create.ts', import.meta.url).href)};\n` +
      `await createVm(new Library(${JSON.stringify(library)}), { name: 'Big', preset: 'other', memoryMiB: 64, cpus: 1, existingDisk: { path: ${JSON.stringify(image)}, mode: 'copy' } });\n`,
  );
  const kju = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, KJU_QEMU_IMG: slowImg }, stdio: 'ignore' });
  t.after(() => kju.kill('SIGKILL'));
  await waitFor('qemu-img convert to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 20_000);
  const qemuImg = Number(readFileSync(pidFile, 'utf8'));
  t.after(() => {
    if (isAlive(qemuImg)) process.kill(qemuImg, 'SIGKILL');
  });
  const staged = (await readdir(library)).filter((n) => n.startsWith('.creating-'));
  assert.equal(staged.length, 1, 'the copy is being built in a hidden staging dir');
  assert.ok(isAlive(qemuImg));

  kju.kill('SIGKILL');
  await new Promise((r) => kju.once('close', r));
  await waitFor('qemu-img to die with its parent', () => !isAlive(qemuImg), 3_000);

  const lib = new Library(library);
  assert.deepEqual(await lib.list(), []);
  assert.deepEqual(
    (await readdir(library)).filter((n) => n.startsWith('.creating-')),
    [],
    'stale staging dir removed',
  );
});

test('a staging dir of a live process is left alone by the listing', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-kill-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const lib = new Library(join(tmp, 'library'));
  await lib.ensureRoot();
  const mine = lib.stagingDir('creating');
  execFileSync('mkdir', [mine]);
  await lib.list();
  assert.ok(existsSync(mine));
});

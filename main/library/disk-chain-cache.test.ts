// The library's disk chain cache: an unchanged disk is not read by qemu-img again, a changed disk
// or backing file is, and a corrupt or forged cache is ignored. Real qemu-img, counted through a
// KJU_QEMU_IMG wrapper; decoy files only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISK_CHAIN_CACHE_FILE } from './disk-chain-cache.js';
import { Library } from './library.js';
import { cloneVm } from './vm-clone.js';
import { createVm } from './vm-create.js';

const HOST = { cpus: 4, memoryMiB: 8192 };
const MARGIN_MS = 100;

interface Fixture {
  lib: Library;
  tmp: string;
  decoy: string;
  /** qemu-img info --backing-chain runs so far */
  chainReads(): Promise<number>;
}

async function fixture(t: { after(fn: () => Promise<void> | void): void }): Promise<Fixture> {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-chains-'));
  const log = join(tmp, 'qemu-img.log');
  const wrapper = join(tmp, 'qemu-img');
  const real = execFileSync('sh', ['-c', 'command -v qemu-img'], { encoding: 'utf8' }).trim();
  await writeFile(wrapper, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const before = process.env.KJU_QEMU_IMG;
  process.env.KJU_QEMU_IMG = wrapper;
  t.after(async () => {
    if (before === undefined) delete process.env.KJU_QEMU_IMG;
    else process.env.KJU_QEMU_IMG = before;
    await rm(tmp, { recursive: true, force: true });
  });
  const decoy = join(tmp, 'decoy');
  await writeFile(decoy, 'decoy, not a secret\n');
  const chainReads = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l.includes('--backing-chain')).length;
  return { lib: new Library(join(tmp, 'library'), { host: HOST, diskChainCache: { freshMarginMs: MARGIN_MS } }), tmp, decoy, chainReads };
}

/** Polls until every file under the library last changed more than the cache's margin ago. */
async function settled(lib: Library): Promise<void> {
  const files = execFileSync('find', [lib.root, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (;;) {
    if (files.every((f) => Date.now() - statSync(f).ctimeMs > MARGIN_MS * 2)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Plain VM "Plain", VM "Base" and its linked clone "Linked": both their disks are overlays on the
 * frozen base image in Base's bundle, returned. No cache yet.
 */
async function threeVms(f: Fixture): Promise<string> {
  await createVm(f.lib, { name: 'Plain', preset: 'linux', memoryMiB: 256, cpus: 1, diskSize: '16M' });
  await createVm(f.lib, { name: 'Base', preset: 'linux', memoryMiB: 256, cpus: 1, diskSize: '16M' });
  await cloneVm(f.lib, 'Base', 'Linked', { linked: true });
  await rm(join(f.lib.root, DISK_CHAIN_CACHE_FILE), { force: true });
  await settled(f.lib);
  const info = (disk: string) => JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', disk], { encoding: 'utf8' }))['full-backing-filename'] as string;
  const frozen = info(join(f.lib.root, 'Linked.kju', 'disk.qcow2'));
  assert.equal(info(join(f.lib.root, 'Base.kju', 'disk.qcow2')), frozen);
  assert.ok(frozen.startsWith(join(f.lib.root, 'Base.kju')));
  return frozen;
}

function problems(entries: Awaited<ReturnType<Library['list']>>): Record<string, string | undefined> {
  return Object.fromEntries(entries.map((e) => [e.name, e.problemCode]));
}

test('an unchanged disk is not read by qemu-img again; the cache is private to the user', async (t) => {
  const f = await fixture(t);
  await threeVms(f);
  const start = await f.chainReads();
  assert.deepEqual(problems(await f.lib.list()), { Base: undefined, Linked: undefined, Plain: undefined });
  assert.equal((await f.chainReads()) - start, 3, 'the first list reads each disk');
  const written = await stat(join(f.lib.root, DISK_CHAIN_CACHE_FILE), { bigint: true });
  assert.deepEqual(problems(await f.lib.list()), { Base: undefined, Linked: undefined, Plain: undefined });
  assert.deepEqual(problems(await f.lib.list()), { Base: undefined, Linked: undefined, Plain: undefined });
  assert.equal((await f.chainReads()) - start, 3, 'later lists read none');
  const kept = await stat(join(f.lib.root, DISK_CHAIN_CACHE_FILE), { bigint: true });
  assert.equal(kept.mode & 0o777n, 0o600n);
  assert.deepEqual([kept.ino, kept.ctimeNs], [written.ino, written.ctimeNs], 'an unchanged cache is not written again');
});

test('a disk or a backing file changed after a trusted verdict is read again and shows untrusted-backing', async (t) => {
  const f = await fixture(t);
  const base = await threeVms(f);
  assert.deepEqual(problems(await f.lib.list()), { Base: undefined, Linked: undefined, Plain: undefined });
  const start = await f.chainReads();
  // same files, same sizes (qcow2 headers rewritten in place), now naming the decoy
  const plain = join(f.lib.root, 'Plain.kju', 'disk.qcow2');
  const sizes = [(await stat(base)).size, (await stat(plain)).size];
  for (const disk of [base, plain]) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', f.decoy, '-F', 'raw', disk, '16M']);
  assert.deepEqual([(await stat(base)).size, (await stat(plain)).size], sizes, 'the rewrite keeps the size: only the timestamps tell');
  const entries = await f.lib.list();
  assert.deepEqual(problems(entries), { Base: 'untrusted-backing', Linked: 'untrusted-backing', Plain: 'untrusted-backing' });
  assert.match(entries.find((e) => e.name === 'Linked')!.problem!, new RegExp(`backing file ${f.decoy}`), 'found through the changed backing file');
  assert.equal((await f.chainReads()) - start, 3);
});

test('a corrupt cache is ignored and rebuilt; a cache not made with the library key is ignored', async (t) => {
  const f = await fixture(t);
  await threeVms(f);
  await f.lib.list();
  const cacheFile = join(f.lib.root, DISK_CHAIN_CACHE_FILE);
  const good = await readFile(cacheFile, 'utf8');

  let start = await f.chainReads();
  await writeFile(cacheFile, good.slice(0, good.length / 2), { mode: 0o600 });
  assert.deepEqual(problems(await f.lib.list()), { Base: undefined, Linked: undefined, Plain: undefined });
  assert.equal((await f.chainReads()) - start, 3, 'a torn cache is not used');
  await f.lib.list();
  assert.equal((await f.chainReads()) - start, 3, 'and was rebuilt');

  await writeFile(cacheFile, '\0\xff not a cache', { mode: 0o600 });
  start = await f.chainReads();
  assert.deepEqual(problems(await f.lib.list()), { Base: undefined, Linked: undefined, Plain: undefined });
  assert.equal((await f.chainReads()) - start, 3, 'garbage is not used');

  // Poisoned disk plus a cache claiming its old, clean chain with the new file's stamps, tagged
  // under some other key (a crafted bundle's author does not have this library's key).
  const plain = join(f.lib.root, 'Plain.kju', 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', f.decoy, '-F', 'raw', plain, '16M']);
  const s = await stat(plain, { bigint: true });
  const body = JSON.parse(good.slice(good.indexOf('\n') + 1));
  body.disks[plain].stamps[plain] = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  const otherKey = createHmac('sha256', randomBytes(32)).update('kju disk chain cache').digest();
  const text = JSON.stringify(body);
  await writeFile(cacheFile, `${createHmac('sha256', otherKey).update(text).digest('hex')}\n${text}`, { mode: 0o600 });
  assert.equal(problems(await f.lib.list()).Plain, 'untrusted-backing');
});

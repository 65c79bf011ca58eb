// A bundle's own disks naming host files (backing, json: spec, external data file, deeper in the
// chain) are refused at start, snapshot revert and clone, and shown by `kju list`, through the
// built CLI (bin/kju.mjs) and the session manager the backend uses. Decoy files only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(join(root, 'app/out/kju.js'));

function kju(library: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/kju.mjs', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, KJU_LIBRARY: library, KJU_ACCEL: 'tcg' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function qemuImg(...args: string[]): void {
  execFileSync('qemu-img', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function fingerprint(path: string): Promise<string> {
  const s = await stat(path);
  return `${createHash('sha256')
    .update(await readFile(path))
    .digest('hex')} ${s.mtimeMs} ${s.size}`;
}

/** Processes that hold `path` open (any process: /proc/PID/fd). */
function holders(path: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) out.push(pid);
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

type Case = { label: string; poison(disk: string, decoy: string, tmp: string): void; named: (decoy: string) => string };
const CASES: Case[] = [
  { label: 'backing file', poison: (disk, decoy) => qemuImg('create', '-q', '-f', 'qcow2', '-b', decoy, '-F', 'raw', disk, '1M'), named: (d) => d },
  {
    label: 'json: backing spec',
    poison: (disk, decoy) => qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', `json:{"driver":"raw","file":{"driver":"file","filename":"${decoy}"}}`, '-F', 'raw', disk, '1M'),
    named: () => 'json:',
  },
  {
    label: 'external data file',
    // data_file truncates the file it names: it names a decoy made for it, fingerprinted afterwards
    poison: (disk, decoy) => qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${decoy},data_file_raw=on`, disk, '1M'),
    named: (d) => d,
  },
  {
    label: 'backing file two deep',
    poison: (disk, decoy, tmp) => {
      const mid = join(tmp, 'mid.qcow2');
      qemuImg('create', '-q', '-f', 'qcow2', '-b', decoy, '-F', 'raw', mid, '1M');
      qemuImg('create', '-q', '-f', 'qcow2', '-b', mid, '-F', 'qcow2', disk, '1M');
    },
    named: (d) => d,
  },
];

for (const c of CASES) {
  test(`a bundle disk whose ${c.label} is a host file is shown by list and refused by start, revert and clone`, { skip: !built && 'app/out not built (node scripts/build.mjs)' }, async (t) => {
    const tmp = await mkdtemp(join(tmpdir(), 'kju-disktrust-'));
    t.after(() => rm(tmp, { recursive: true, force: true }));
    const library = join(tmp, 'library');
    const decoy = join(tmp, 'decoy');
    assert.equal(kju(library, 'create', 'evil', '--memory', '64', '--cpus', '1', '--disk-size', '1M').code, 0);
    const disk = join(library, 'evil.kju', 'disk.qcow2');
    await rm(disk);
    if (c.label === 'external data file') c.poison(disk, decoy, tmp);
    await writeFile(decoy, 'DECOY-SECRET\n'.padEnd(1 << 20, '\0'));
    if (c.label !== 'external data file') c.poison(disk, decoy, tmp);
    const before = await fingerprint(decoy);

    const list = JSON.parse(kju(library, 'list', '--json').stdout) as Array<{ name: string; problem?: string }>;
    const entry = list.find((e) => e.name === 'evil');
    assert.ok(entry?.problem?.includes(c.named(decoy)), JSON.stringify(list));
    assert.match(entry!.problem!, /not confirmed in this library/);

    for (const args of [
      ['start', 'evil'],
      ['snapshot', 'revert', 'evil', 'snap'],
      ['clone', 'evil', 'copy'],
      ['clone', 'evil', 'link', '--linked'],
    ]) {
      const r = kju(library, ...args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.ok(r.stderr.includes(c.named(decoy)), r.stderr);
      assert.match(r.stderr, c.named(decoy) === 'json:' ? /flatten the disk/ : new RegExp(`--trust-backing ${decoy}`));
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    assert.ok(!existsSync(join(library, 'copy.kju')) && !existsSync(join(library, 'link.kju')));
    assert.deepEqual(holders(decoy), []);
    assert.equal(await fingerprint(decoy), before);

    if (c.named(decoy) !== 'json:') {
      // the way past it: the user names the file; the tag is this library's, so list is clean
      const trust = [decoy, ...(c.label === 'backing file two deep' ? [join(tmp, 'mid.qcow2')] : [])];
      const ok = kju(library, 'edit', 'evil', ...trust.flatMap((f) => ['--trust-backing', f]));
      assert.equal(ok.code, 0, ok.stderr);
      const again = JSON.parse(kju(library, 'list', '--json').stdout) as Array<{ name: string; problem?: string }>;
      assert.equal(again.find((e) => e.name === 'evil')?.problem, undefined);
      assert.equal(await fingerprint(decoy), before);
    }
  });
}

test('the session manager (what serve and the app call) refuses such a bundle before QEMU starts', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-disktrust-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const library = join(tmp, 'library');
  const decoy = join(tmp, 'decoy');
  await writeFile(decoy, 'DECOY'.padEnd(1 << 20, '\0'));
  const before = await fingerprint(decoy);
  const { Library } = await import('../library/library.js');
  const { createVm } = await import('../library/vm-create.js');
  const { SessionManager } = await import('./session-manager.js');
  const lib = new Library(library, { host: { cpus: 4, memoryMiB: 8192 } });
  const vm = await createVm(lib, { name: 'evil', preset: 'linux', memoryMiB: 64, cpus: 1, diskSize: '1M' });
  await rm(join(vm.dir, 'disk.qcow2'));
  qemuImg('create', '-q', '-f', 'qcow2', '-b', decoy, '-F', 'raw', join(vm.dir, 'disk.qcow2'), '1M');
  const sessions = SessionManager.create({ library: lib, passive: true });
  await assert.rejects(sessions.start('evil'), (err: Error & { code: string }) => err.code === 'untrusted-backing' && err.message.includes(decoy));
  const summary = (await sessions.list()).find((s) => s.name === 'evil');
  assert.ok(summary?.problem?.includes(decoy), JSON.stringify(summary));
  assert.deepEqual(holders(decoy), []);
  assert.equal(await fingerprint(decoy), before);
});

test('chains inside the bundle keep working: internal snapshot, overlay on a base in the bundle, a linked clone', { skip: !built && 'app/out not built' }, async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-disktrust-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const library = join(tmp, 'library');
  assert.equal(kju(library, 'create', 'a', '--memory', '64', '--cpus', '1', '--disk-size', '1M').code, 0);
  qemuImg('snapshot', '-c', 's1', join(library, 'a.kju', 'disk.qcow2'));
  assert.equal(kju(library, 'create', 'b', '--memory', '64', '--cpus', '1', '--disk-size', '1M').code, 0);
  const b = join(library, 'b.kju');
  qemuImg('create', '-q', '-f', 'qcow2', join(b, 'base.qcow2'), '1M');
  await rm(join(b, 'disk.qcow2'));
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', 'disk.qcow2', '1M'], { cwd: b });
  const revert = kju(library, 'snapshot', 'revert', 'a', 's1');
  assert.equal(revert.code, 0, revert.stderr);
  // a linked clone would hide the snapshot in its base (linked-clone-snapshots test): it goes first
  assert.equal(kju(library, 'snapshot', 'delete', 'a', 's1').code, 0);
  const linked = kju(library, 'clone', 'a', 'c', '--linked');
  assert.equal(linked.code, 0, linked.stderr);
  // a second linked clone: a's disk now sits on the first base, so the new base has a base of its own
  const again = kju(library, 'clone', 'a', 'd', '--linked');
  assert.equal(again.code, 0, again.stderr);
  const list = JSON.parse(kju(library, 'list', '--json').stdout) as Array<{ name: string; problem?: string }>;
  assert.deepEqual(list.map((e) => [e.name, e.problem]).sort(), [
    ['a', undefined],
    ['b', undefined],
    ['c', undefined],
    ['d', undefined],
  ]);
});

// Integration (real QEMU under TCG, the CLI from sources, one VM that needs no guest to boot): a
// start race's loser exits 3 whatever the timing, `kju stop` leaves no runtime files behind,
// `forward remove tcp:PORT` finds a forward on any address, `resize` says a clamp once, and a
// SIGSTOPped owning `kju run` is named as such instead of "QEMU not responding".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { until } from '../../testing/until.js';
import { kjuScratch, repoRoot } from '../../testing/kju-scratch.js';

const s = kjuScratch('kju-running-it');
// no kernel, no disk: QEMU runs its firmware, which is all these commands need
s.ok('create', 'R', '--no-disk', '--memory', '64', '--cpus', '1');
after(() => {
  s.kju('stop', 'R', '--force');
  s.remove();
});

const { kjuAsync } = s;

const runtimeFiles = () => {
  const base = join(s.runtime, 'kju');
  return existsSync(base) ? readdirSync(base).flatMap((d) => readdirSync(join(base, d)).map((f) => `${d}/${f}`)) : [];
};

test('parallel starts: one starts, the other exits 3 (already running or starting); kju stop leaves no runtime files', async () => {
  for (let i = 0; i < 3; i++) {
    const rs = await Promise.all([kjuAsync('start', 'R'), kjuAsync('start', 'R')]);
    const codes = rs.map((r) => r.code).sort();
    assert.deepEqual(codes, [0, 3], rs.map((r) => r.stderr).join('\n'));
    assert.match(rs.find((r) => r.code === 3)!.stderr, /is (already running|starting)/);
    s.ok('stop', 'R', '--force');
    assert.deepEqual(runtimeFiles(), [], 'right after kju stop: nothing left in the runtime dir');
  }
});

test('forward remove tcp:PORT finds a forward on 0.0.0.0 or the default address, in either order; resize says a clamp once', async () => {
  s.ok('start', 'R');
  s.ok('forward', 'add', 'R', 'tcp:0.0.0.0:18082:80');
  s.ok('forward', 'add', 'R', 'tcp:18083:80');
  assert.match(s.ok('forward', 'remove', 'R', 'tcp:18083'), /removed tcp:18083/);
  assert.match(s.ok('forward', 'remove', 'R', 'tcp:18082'), /removed tcp:18082/);
  assert.equal(s.ok('forward', 'list', 'R').trim(), '');
  s.ok('forward', 'add', 'R', 'tcp:18082:80');
  const wrong = s.kju('forward', 'remove', 'R', 'tcp:0.0.0.0:18082');
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /no forward of host tcp port 18082 on 0\.0\.0\.0/);
  s.ok('forward', 'remove', 'R', 'tcp:127.0.0.1:18082');

  const r = s.kju('resize', 'R', '10x10');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.match(/clamped to 64x64/g)?.length, 1, r.stderr);
  s.ok('stop', 'R', '--force');
  assert.deepEqual(runtimeFiles(), []);
});

test('a SIGSTOPped owning kju run is reported as stopped, with the kill -CONT that continues it', async (t) => {
  const owner = spawn(process.execPath, s.argv('run', 'R'), { cwd: repoRoot, env: s.env, stdio: 'ignore' });
  const pid = owner.pid!;
  const exited = new Promise((r) => owner.on('exit', r));
  t.after(async () => {
    process.kill(pid, 'SIGCONT');
    s.kju('stop', 'R', '--force');
    await exited;
  });
  const list = () => JSON.parse(s.ok('list', '--json')) as { name: string; state: string; problem?: string }[];
  await until('kju run to own R', () => existsSync(join(s.runtime, 'kju')) && runtimeFiles().some((f) => f.endsWith('/kju.sock')) && list()[0].state === 'running', 60_000);
  process.kill(pid, 'SIGSTOP');
  const want = new RegExp(`the kju process owning VM "R" \\(pid ${pid}\\) is stopped \\(SIGSTOP\\): continue it with kill -CONT ${pid}`);
  assert.match(list()[0].problem ?? '', want);
  const shot = s.kju('screenshot', 'R', join(s.dir, 'x.png'));
  assert.equal(shot.code, 1, shot.stderr);
  assert.match(shot.stderr, want);
  process.kill(pid, 'SIGCONT');
  assert.equal(list()[0].problem, undefined);
});

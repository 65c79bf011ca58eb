// Integration (real QEMU under TCG, the demo guest, a temp library), issue 13: two starts at once
// leave exactly one tracked QEMU (the per-VM lock), and a force stop ends a SIGSTOPped QEMU or one
// whose qmp.sock another process holds (SIGKILL of the verified pid).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDemoGuest, type DemoGuest } from '../testing/guest.js';
import { isAlive, readPidFile } from '../qemu/pid-alive.js';
import { Library } from '../library/library.js';
import { SessionManager } from './session-manager.js';
import { kjuScratch, repoRoot } from '../testing/kju-scratch.js';
import { SerialConsole } from '../testing/serial-console.js';
import { statePaths } from './saved-state.js';
import { existsSync } from 'node:fs';

const home = kjuScratch('kju-faults');
const { kju, kjuAsync, ok, runtimeDirOf, runtime, library, env, dir: scratch } = home;
Object.assign(process.env, { XDG_RUNTIME_DIR: runtime, XDG_STATE_HOME: join(scratch, 'state'), KJU_LIBRARY: library, KJU_ACCEL: 'tcg' });

function listed(name: string): { state: string; problem?: string } {
  return (JSON.parse(ok('list', '--json')) as { name: string; state: string; problem?: string }[]).find((v) => v.name === name)!;
}
function qemuPids(): number[] {
  const r = spawnSync('pgrep', ['-f', `qemu-system.*${runtime}`], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => isAlive(p));
}
let guest: DemoGuest;
function create(name: string, memory = '128'): void {
  ok('create', name, '--memory', memory, '--cpus', '1', '--nic', 'none', '--display', 'none', '--kernel', guest.kernel, '--initrd', guest.initrd, '--append', guest.append);
}

describe('integration: starts that cannot race, stops that cannot hang', () => {
  before(async () => {
    guest = await ensureDemoGuest();
  });
  after(() => {
    for (const pid of qemuPids()) {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    }
    home.remove();
  });

  test('10 parallel pairs of starts (two SessionManagers, then two CLIs): one QEMU each time, tracked, stopped by stop --force', async () => {
    create('race');
    const losers: string[] = [];
    for (let i = 0; i < 10; i++) {
      let results: PromiseSettledResult<unknown>[];
      if (i < 8) {
        const a = SessionManager.create({ passive: true });
        const b = SessionManager.create({ passive: true });
        results = await Promise.allSettled([a.start('race'), b.start('race')]);
        a.close();
        b.close();
      } else {
        const rs = await Promise.all([kjuAsync('start', 'race'), kjuAsync('start', 'race')]);
        results = rs.map((r) => (r.code === 0 ? { status: 'fulfilled', value: r } : { status: 'rejected', reason: new Error(r.stderr.trim()) }));
      }
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `pair ${i}: exactly one start wins: ${JSON.stringify(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok')))}`);
      const lost = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
      assert.match(lost.message, /VM "race" is starting \(another kju process (holds|is starting) it\)|VM "race" is already running/);
      losers.push(lost.message);
      const pids = qemuPids();
      assert.equal(pids.length, 1, `pair ${i}: one QEMU, not ${pids.length}`);
      const rt = await runtimeDirOf('race');
      assert.equal(readPidFile(rt.pidFile), pids[0], 'the running QEMU is the one its pid file names (the loser deleted nothing)');
      assert.notEqual(listed('race').state, 'stopped', 'kju list sees it');
      ok('stop', 'race', '--force');
      assert.deepEqual(qemuPids(), [], `pair ${i}: stop --force reached it`);
    }
    console.log(`start race: 10 pairs, losers said: ${[...new Set(losers.map((m) => m.replace(/^kju: /, '')))].join(' | ')}`);
  });

  test('kju stop --force ends a SIGSTOPped QEMU (SIGKILL of the verified pid) within seconds', async () => {
    create('hung');
    ok('start', 'hung');
    const rt = await runtimeDirOf('hung');
    const pid = readPidFile(rt.pidFile)!;
    process.kill(pid, 'SIGSTOP');
    const shown = listed('hung');
    assert.match(shown.problem ?? '', /not responding/, `kju list flags the hung VM: ${JSON.stringify(shown)}`);
    const t0 = Date.now();
    const r = kju('stop', 'hung', '--force');
    const took = Date.now() - t0;
    assert.equal(r.code, 0, `stop --force: ${r.stderr}`);
    assert.equal(isAlive(pid), false, 'QEMU is gone');
    assert.ok(took < 20_000, `took ${took} ms`);
    assert.equal(listed('hung').state, 'stopped');
    console.log(`hung QEMU: stop --force took ${took} ms`);
  });

  test('kju stop --force ends a QEMU whose qmp.sock another process holds', async () => {
    create('held');
    ok('start', 'held');
    const rt = await runtimeDirOf('held');
    const pid = readPidFile(rt.pidFile)!;
    const holder: Socket = connect(rt.qmpSocket);
    await once(holder, 'data'); // the greeting: we are QEMU's one QMP client now
    try {
      const r = kju('stop', 'held', '--force');
      assert.equal(r.code, 0, `stop --force: ${r.stderr}`);
      assert.equal(isAlive(pid), false, 'QEMU is gone');
    } finally {
      holder.destroy();
    }
  });

  test('kju suspend killed at every step leaves the VM running or resumable, with its memory', async () => {
    create('susp', '192');
    ok('start', 'susp');
    const rt = await runtimeDirOf('susp');
    const bundle = (await Library.open().get('susp')).dir;
    const shell = async () => {
      const s = await SerialConsole.connect(rt.serialSocket);
      s.write('\n');
      await s.waitFor(/kju# /, 120_000);
      return s;
    };
    let serial = await shell();
    await serial.run('echo 0 > /tmp/round');
    serial.close();
    const outcomes: string[] = [];
    // the points: after the state is saved, after it is recorded, after QEMU quit; plus a timed kill mid-save
    const points: { name: string; env: NodeJS.ProcessEnv; killAfterMs?: number }[] = [
      { name: 'suspend:saved', env: { KJU_TEST: '1', KJU_TEST_KILL_AT: 'suspend:saved' } },
      { name: 'suspend:recorded', env: { KJU_TEST: '1', KJU_TEST_KILL_AT: 'suspend:recorded' } },
      { name: 'suspend:quit', env: { KJU_TEST: '1', KJU_TEST_KILL_AT: 'suspend:quit' } },
      { name: 'timed 1.2 s', env: {}, killAfterMs: 1_200 },
    ];
    for (const [round, p] of points.entries()) {
      if (p.killAfterMs === undefined) {
        const r = home.run(['suspend', 'susp'], { env: p.env });
        assert.equal(r.signal ?? r.code, 'SIGKILL', `${p.name}: the suspend was killed at its point (${r.stderr})`);
      } else {
        const child = spawn(process.execPath, home.argv('suspend', 'susp'), { cwd: repoRoot, env, stdio: 'ignore' });
        setTimeout(() => child.kill('SIGKILL'), p.killAfterMs);
        await once(child, 'exit');
      }
      const after = listed('susp').state;
      assert.ok(['running', 'paused', 'suspended'].includes(after), `${p.name}: running or resumable, not ${after}`);
      if (after !== 'running') ok('resume', 'susp');
      assert.equal(listed('susp').state, 'running', `${p.name}: kju resume brought it back`);
      serial = await shell();
      assert.equal((await serial.run('cat /tmp/round')).trim(), String(round), `${p.name}: the guest kept its memory`);
      await serial.run(`echo ${round + 1} > /tmp/round`);
      serial.close();
      assert.equal(existsSync(statePaths(bundle).partial), false, `${p.name}: no partial state left behind`);
      assert.equal(qemuPids().length, 1, `${p.name}: one QEMU`);
      outcomes.push(`${p.name} → ${after} → resumed`);
    }
    console.log(`suspend kill points: ${outcomes.join('; ')}`);
    ok('stop', 'susp', '--force');
  });

  test('kju resume killed before the saved state is loaded: listed suspended (not starting forever), and kju resume resumes it', async () => {
    create('resk');
    ok('start', 'resk');
    ok('suspend', 'resk');
    assert.equal(listed('resk').state, 'suspended');
    const r = home.run(['resume', 'resk'], { env: { KJU_TEST: '1', KJU_TEST_KILL_AT: 'resume:launched' } });
    assert.equal(r.signal ?? r.code, 'SIGKILL', `the resume was killed at its point (${r.stderr})`);
    const pids = qemuPids();
    assert.equal(pids.length, 1, 'the QEMU waiting for the state is still there');
    assert.equal(readPidFile((await runtimeDirOf('resk')).pidFile), pids[0], 'and tracked by its pid file');
    assert.equal(listed('resk').state, 'suspended', 'the list shows what kju resume can do');
    ok('resume', 'resk');
    assert.equal(listed('resk').state, 'running');
    assert.equal(qemuPids().length, 1, 'the waiting QEMU was ended, one QEMU runs the resumed VM');
    ok('stop', 'resk', '--force');
    assert.deepEqual(qemuPids(), []);
  });
});

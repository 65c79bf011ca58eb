// Integration (real QEMU under TCG, the demo guest, the bundled CLI bin/kju.mjs, a temp library),
// issue 13: kju is SIGKILLed at random points (seeded: KJU_FAULT_SEED replays a run) during
// create, edit, clone, delete, start, suspend and resume, and after each kill the library and the
// running QEMUs are checked: no torn config, no untracked QEMU, no lost VM or saved state, and no
// half-built bundle left once the next listing has run. Prints the kills per operation.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { seededRandom } from '../../common/seeded-random.js';
import { ensureDemoGuest, type DemoGuest } from '../testing/guest.js';
import { kjuScratch, repoRoot as repo } from '../testing/kju-scratch.js';
import { SerialConsole } from '../testing/serial-console.js';
import { libraryVmRuntimeDir } from '../qemu/runtime-dir.js';
import { isAlive, readPidFile } from '../qemu/pid-alive.js';
import { Library } from '../library/library.js';
import { statePaths } from './saved-state.js';

const home = kjuScratch('kju-fault-injection', { bundle: true });
const { runtime, library: libraryRoot, env, dir: scratch } = home;
delete env.KJU_TEST_KILL_AT;
Object.assign(process.env, { XDG_RUNTIME_DIR: runtime, XDG_STATE_HOME: join(scratch, 'state'), KJU_LIBRARY: libraryRoot, KJU_ACCEL: 'tcg' });

const seed = Number(process.env.KJU_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = seededRandom(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}
function kju(args: string[], extra: NodeJS.ProcessEnv = {}): Run {
  const t0 = Date.now();
  return { ...home.run(args, { env: extra }), ms: Date.now() - t0 };
}
function ok(...args: string[]): string {
  const r = kju(args);
  assert.equal(r.code, 0, `kju ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
/** Runs `kju args` and SIGKILLs it after `delayMs`; `killed` is false when it had already finished. */
async function killAfter(args: string[], delayMs: number): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, home.argv(...args), { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { killed: signal === 'SIGKILL', code, stderr };
}

interface Listed {
  name: string;
  state: string;
  problem?: string;
  bundle: string;
}
function kjuList(): Listed[] {
  return JSON.parse(ok('list', '--json')) as Listed[];
}
function qemuPids(): number[] {
  const r = spawnSync('pgrep', ['-f', `qemu-system.*${runtime}`], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => isAlive(p));
}
function qemuImgPids(): number[] {
  const r = spawnSync('pgrep', ['-f', `qemu-img.*${scratch}`], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => isAlive(p));
}
/** Files a kill may leave behind that must be gone once the library was listed again. */
function strays(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === '.Trash') continue;
      const p = join(dir, e.name);
      if (/^\.(creating|cloning|importing|deleting)-/.test(e.name) || /\.partial$/.test(e.name) || /\.tmp-\d+-/.test(e.name)) found.push(p);
      if (e.isDirectory() && depth < 3) walk(p, depth + 1);
    }
  };
  if (existsSync(libraryRoot)) walk(libraryRoot, 0);
  return found;
}

const figures = { kills: {} as Record<string, number>, lost: 0, torn: 0, untracked: 0, strays: 0, halfMade: 0, leftQemuImg: 0, outcomes: {} as Record<string, number> };
const count = (what: string, into: Record<string, number> = figures.kills) => (into[what] = (into[what] ?? 0) + 1);

/**
 * The checks after a kill of a library operation: the next listing (in-process, the same code
 * `kju list` runs) shows every VM that must be there, each with a valid config; only `maybe`
 * (the VM being created, cloned or deleted) may be there or not; nothing half-made remains.
 */
async function checkLibrary(must: Set<string>, maybe: string | undefined, op: string): Promise<Set<string>> {
  const entries = await new Library(libraryRoot).list();
  const names = new Set(entries.map((e) => e.name));
  for (const e of entries) {
    if (e.problemCode === 'invalid-config') figures.torn++;
    assert.equal(e.problem, undefined, `${op}: ${e.name} has a problem after the kill: ${e.problem}`);
  }
  for (const n of must) if (!names.has(n)) figures.lost++;
  assert.deepEqual(
    [...must].filter((n) => !names.has(n)),
    [],
    `${op}: every VM that was there is listed`,
  );
  const extra = [...names].filter((n) => !must.has(n) && n !== maybe);
  figures.halfMade += extra.length;
  assert.deepEqual(extra, [], `${op}: no VM appears that nobody made`);
  const left = strays();
  figures.strays += left.length;
  assert.deepEqual(left, [], `${op}: nothing half-made left after the next listing`);
  // qemu-img dies with the kju that ran it (pdeathsig); give the kernel a moment to deliver it
  for (let i = 0; i < 20 && qemuImgPids().length; i++) await new Promise((r) => setTimeout(r, 50));
  figures.leftQemuImg += qemuImgPids().length;
  assert.deepEqual(qemuImgPids(), [], `${op}: no qemu-img outlives its kju`);
  return names;
}

/** Every live QEMU of this test is the one a listed running VM's pid file names. */
function checkQemuTracked(op: string): Listed[] {
  const listed = kjuList();
  const tracked = new Map<number, string>();
  for (const v of listed) {
    // 'suspended' with a live QEMU: a suspend killed after its record (the next start or stop --force ends that QEMU)
    if (!['running', 'paused', 'starting', 'shutting-down', 'suspended'].includes(v.state)) continue;
    const config = JSON.parse(readFileSync(join(v.bundle, 'config.json'), 'utf8')) as { id: string; name: string };
    const pid = readPidFile(libraryVmRuntimeDir({ dir: v.bundle, config }, join(runtime, 'kju')).pidFile);
    if (pid !== undefined) tracked.set(pid, v.name);
  }
  const untracked = qemuPids().filter((p) => !tracked.has(p));
  figures.untracked += untracked.length;
  assert.deepEqual(untracked, [], `${op}: every QEMU is tracked by kju list (${JSON.stringify(listed.map((v) => [v.name, v.state]))})`);
  return listed;
}

let guest: DemoGuest;
let bigDisk: string;
const bootArgs = () => ['--memory', '128', '--cpus', '1', '--nic', 'none', '--display', 'none', '--kernel', guest.kernel, '--initrd', guest.initrd, '--append', guest.append];

describe('integration: kju killed at random points loses nothing', () => {
  before(async () => {
    console.log(`fault injection seed: ${seed} (replay with KJU_FAULT_SEED=${seed})`);
    const built = spawnSync(process.execPath, [join(repo, 'scripts/build.mjs')], { cwd: repo, encoding: 'utf8' });
    assert.equal(built.status, 0, `node scripts/build.mjs: ${built.stderr}`);
    guest = await ensureDemoGuest();
    // incompressible data, so `create --disk … --disk-mode copy` and `clone` take long enough to be killed mid-copy
    bigDisk = join(scratch, 'big.raw');
    const chunk = Buffer.alloc(1 << 20);
    const bytes = seededRandom(seed ^ 0x5eed);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE(Math.floor(bytes() * 2 ** 32), i);
    writeFileSync(bigDisk, Buffer.concat(Array.from({ length: 64 }, (_, i) => (chunk.writeUInt32LE(i, 0), Buffer.from(chunk)))));
  });
  after(() => {
    for (const pid of qemuPids()) process.kill(pid, 'SIGKILL');
    home.remove();
    console.log(
      `fault injection (seed ${seed}): kills ${JSON.stringify(figures.kills)} = ${Object.values(figures.kills).reduce((a, b) => a + b, 0)}; ` +
        `outcomes ${JSON.stringify(figures.outcomes)}; lost VMs/states ${figures.lost}, torn configs ${figures.torn}, untracked QEMU ${figures.untracked}, ` +
        `half-made VMs ${figures.halfMade}, stray files ${figures.strays}, qemu-img left ${figures.leftQemuImg}`,
    );
  });

  test('create, edit, clone and delete killed at random points (≥ 100 kills)', async () => {
    ok('create', 'base', '--disk', bigDisk, '--disk-mode', 'copy', ...bootArgs());
    const must = new Set(['base']);
    // each operation's window, measured on a full run, so the random delays fall inside it
    const window = {
      create: kju(['create', 'w-create', '--disk', bigDisk, '--disk-mode', 'copy', ...bootArgs()]).ms,
      clone: kju(['clone', 'base', 'w-clone']).ms,
      edit: kju(['edit', 'base', '--memory', '144']).ms,
      delete: kju(['delete', 'w-clone', '--permanent']).ms,
    };
    ok('delete', 'w-create');
    console.log(`operation windows (ms): ${JSON.stringify(window)}`);
    const target = { create: 25, edit: 30, clone: 20, delete: 25 };
    const done = { create: 0, edit: 0, clone: 0, delete: 0 };
    let serial = 0;
    let attempts = 0;
    while ((Object.keys(target) as (keyof typeof target)[]).some((k) => done[k] < target[k])) {
      assert.ok(++attempts < 1000, `too many kills missed their operation: ${JSON.stringify(done)}`);
      const op = pick((Object.keys(target) as (keyof typeof target)[]).filter((k) => done[k] < target[k]));
      // late in the window more often: the commit (rename, config write) is at its end
      const delay = Math.floor(window[op] * (0.3 + 0.85 * random()));
      const existing = [...must];
      let args: string[];
      let maybe: string | undefined;
      let before: string | undefined;
      if (op === 'create') {
        maybe = `c${serial++}`;
        args = ['create', maybe, ...(random() < 0.8 ? ['--disk', bigDisk, '--disk-mode', 'copy'] : ['--disk-size', '64M']), ...bootArgs()];
      } else if (op === 'clone') {
        maybe = `k${serial++}`;
        // linked clones only of base, which is never deleted (a linked clone's source cannot be)
        const linked = random() < 0.25;
        args = ['clone', linked ? 'base' : pick(existing), maybe, ...(linked ? ['--linked'] : [])];
      } else if (op === 'edit') {
        const vm = pick(existing);
        before = readFileSync(join(libraryRoot, `${vm}.kju`, 'config.json'), 'utf8');
        args = ['edit', vm, '--memory', String(128 + 16 * Math.floor(random() * 8)), '--notes', `edit ${serial++}`];
      } else {
        const victims = existing.filter((n) => n !== 'base');
        if (!victims.length) {
          // something to delete: a quick create, not killed
          const v = `d${serial++}`;
          ok('create', v, '--disk-size', '64M', ...bootArgs());
          must.add(v);
          continue;
        }
        maybe = pick(victims);
        args = ['delete', maybe, ...(random() < 0.5 ? ['--permanent'] : [])];
      }
      const r = await killAfter(args, delay);
      if (!r.killed) {
        assert.equal(r.code, 0, `kju ${args.join(' ')} failed without a kill: ${r.stderr}`);
      } else {
        done[op]++;
        count(op);
      }
      if (op === 'delete') must.delete(maybe!);
      const names = await checkLibrary(must, maybe, `${op} killed after ${delay} ms (${args.join(' ')})`);
      if (maybe && names.has(maybe)) must.add(maybe);
      if (r.killed)
        count(
          `${op}:${op === 'edit' ? (readFileSync(join(libraryRoot, `${args[1]}.kju`, 'config.json'), 'utf8') === before ? 'old' : 'new') : names.has(maybe!) ? 'present' : 'absent'}`,
          figures.outcomes,
        );
      // the list the user sees agrees (every tenth kill: a CLI run is the slow part here)
      if (attempts % 10 === 0)
        assert.deepEqual(
          kjuList()
            .map((v) => v.name)
            .sort(),
          [...must].sort(),
        );
      // the library stays small: most created VMs are deleted again in later rounds
      if (must.size > 8) {
        const extra = [...must].find((n) => n !== 'base')!;
        ok('delete', extra, '--permanent');
        must.delete(extra);
      }
    }
    assert.deepEqual(
      kjuList()
        .map((v) => v.name)
        .sort(),
      [...must].sort(),
      'kju list shows every VM at the end',
    );
    // every surviving VM still works as a VM: an edit that completes
    for (const n of must) ok('edit', n, '--notes', 'after the kills');
  });

  test('kju start killed at random points: no QEMU or a tracked one, and the next start works', async () => {
    ok('create', 'sv', ...bootArgs());
    const t = kju(['start', 'sv']);
    assert.equal(t.code, 0, t.stderr);
    ok('stop', 'sv', '--force');
    let kills = 0;
    for (let i = 0; kills < 10; i++) {
      assert.ok(i < 25, `10 kills of kju start within 25 tries (${kills} so far)`);
      const delay = Math.floor(random() * t.ms);
      const r = await killAfter(['start', 'sv'], delay);
      if (r.killed) {
        count('start');
        kills++;
      }
      const listed = checkQemuTracked(`start killed after ${delay} ms`);
      const state = listed.find((v) => v.name === 'sv')!.state;
      const pids = qemuPids();
      assert.ok(pids.length <= 1, `one QEMU at most, not ${pids.length}`);
      count(`start:${r.killed ? (pids.length ? `left ${state}` : 'no QEMU') : 'finished'}`, figures.outcomes);
      if (pids.length || state !== 'stopped') ok('stop', 'sv', '--force');
      assert.deepEqual(qemuPids(), [], `start killed after ${delay} ms: stop --force ended its QEMU`);
      assert.equal(kjuList().find((v) => v.name === 'sv')!.state, 'stopped');
      ok('start', 'sv');
      assert.equal(kjuList().find((v) => v.name === 'sv')!.state, 'running', 'the next start works');
      ok('stop', 'sv', '--force');
    }
    ok('delete', 'sv', '--permanent');
  });

  test('kju suspend and kju resume killed at random points (timed and at each kill point): the guest keeps its memory', async (t) => {
    ok('create', 'sr', ...bootArgs());
    ok('start', 'sr');
    const vm = await new Library(libraryRoot).get('sr');
    const rt = libraryVmRuntimeDir(vm, join(runtime, 'kju'));
    const state = () => kjuList().find((v) => v.name === 'sr')!.state;
    const shell = async () => {
      const s = await SerialConsole.connect(rt.serialSocket);
      s.write('\n');
      await s.waitFor(/kju# /, 180_000);
      return s;
    };
    let mark = 0;
    /** The guest still holds the last mark (its RAM survived), then gets the next one. */
    const checkMemory = async (op: string) => {
      const s = await shell();
      try {
        const got = (await s.run('cat /tmp/mark')).trim();
        if (got !== String(mark)) figures.lost++;
        assert.equal(got, String(mark), `${op}: the guest kept its memory`);
        await s.run(`echo ${++mark} > /tmp/mark`);
      } finally {
        s.close();
      }
    };
    const s = await shell();
    await s.run(`echo ${mark} > /tmp/mark`);
    s.close();
    const suspendMs = kju(['suspend', 'sr']).ms;
    const resumeRun = kju(['resume', 'sr']);
    assert.equal(resumeRun.code, 0, resumeRun.stderr);
    await checkMemory('full suspend and resume');
    console.log(`suspend window ${suspendMs} ms, resume window ${resumeRun.ms} ms`);
    const points = ['suspend:saved', 'suspend:recorded', 'suspend:quit'];
    /** Whatever the kill left, kju resume (or nothing) brings the guest back running with its memory. */
    const recover = async (op: string) => {
      let now = state();
      assert.ok(['running', 'paused', 'suspended'].includes(now), `${op}: running or resumable, not ${now}`);
      if (now === 'suspended' && qemuPids().length && random() < 0.5) {
        // a suspend killed after its record leaves its paused QEMU: stop --force ends it, the saved state stays
        ok('stop', 'sr', '--force');
        assert.deepEqual(qemuPids(), [], `${op}: stop --force ended the suspended VM's QEMU`);
        count('stop --force of a suspended-in-progress QEMU', figures.outcomes);
        now = state();
        assert.equal(now, 'suspended', `${op}: still resumable after stop --force`);
      }
      if (now !== 'running') ok('resume', 'sr');
      assert.equal(state(), 'running', `${op}: resumed`);
      assert.equal(existsSync(statePaths(vm.dir).partial), false, `${op}: no partial state left`);
      await checkMemory(op);
    };
    await t.test('a resume killed before its state is loaded shows suspended (not starting forever), and kju resume resumes it', async () => {
      ok('suspend', 'sr');
      const r = kju(['resume', 'sr'], { KJU_TEST: '1', KJU_TEST_KILL_AT: 'resume:launched' });
      assert.equal(r.signal, 'SIGKILL', `killed at resume:launched (${r.stderr})`);
      count('resume');
      assert.equal(qemuPids().length, 1, 'the QEMU waiting for the state is still there');
      checkQemuTracked('resume killed at resume:launched');
      assert.equal(state(), 'suspended', 'the list shows what kju resume can do');
      count(`resume:launched → ${state()}`, figures.outcomes);
      await recover('resume killed at resume:launched');
    });
    const resumePoints = ['resume:launched'];
    for (let round = 0; round < 18; round++) {
      if (random() < 0.5) {
        // kill the suspend: at one of its kill points, or after a random delay inside its window
        const point = random() < 0.4 ? pick(points) : undefined;
        let op: string;
        if (point) {
          const r = kju(['suspend', 'sr'], { KJU_TEST: '1', KJU_TEST_KILL_AT: point });
          assert.equal(r.signal, 'SIGKILL', `${point}: killed at its point (${r.stderr})`);
          op = `suspend killed at ${point}`;
          count('suspend');
        } else {
          const delay = Math.floor(random() * suspendMs * 1.1);
          const r = await killAfter(['suspend', 'sr'], delay);
          if (r.killed) count('suspend');
          op = `suspend killed after ${delay} ms`;
        }
        checkQemuTracked(op);
        count(`suspend:${state()}`, figures.outcomes);
        await recover(op);
      } else {
        // a complete suspend, then kill the resume at a random delay inside its window
        ok('suspend', 'sr');
        let op: string;
        if (random() < 0.25) {
          const point = pick(resumePoints);
          const r = kju(['resume', 'sr'], { KJU_TEST: '1', KJU_TEST_KILL_AT: point });
          assert.equal(r.signal, 'SIGKILL', `${point}: killed at its point (${r.stderr})`);
          count('resume');
          op = `resume killed at ${point}`;
        } else {
          const delay = Math.floor(random() * resumeRun.ms * 1.1);
          const r = await killAfter(['resume', 'sr'], delay);
          if (r.killed) count('resume');
          op = `resume killed after ${delay} ms`;
        }
        checkQemuTracked(op);
        count(`resume:${state()}`, figures.outcomes);
        await recover(op);
      }
    }
    ok('stop', 'sr', '--force');
    assert.deepEqual(qemuPids(), []);
    const total = Object.values(figures.kills).reduce((a, b) => a + b, 0);
    assert.ok(total >= 100, `≥ 100 kills, not ${total}`);
    assert.equal(figures.lost + figures.torn + figures.untracked + figures.halfMade + figures.strays + figures.leftQemuImg, 0);
  });
});

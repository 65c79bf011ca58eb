// Integration (real QEMU under TCG, the demo guest, real bundles in a temp library): the CLI's
// start/suspend/resume/pause/snapshot, SessionManager re-attaching after its owner was SIGKILLed,
// and bad bundles refused without a byte changed.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDemoGuest, type DemoGuest } from '../testing/guest.js';
import { kjuScratch, repoRoot as repo } from '../testing/kju-scratch.js';
import { SerialConsole } from '../testing/serial-console.js';
import { decodePpm, diffImages, surfaceToRgb } from '../display/screenshot.js';
import { screendumpToFile } from '../display/screendump.js';
import type { DbusDisplay } from '../display/dbus-display.js';

const home = kjuScratch('kju-sm');
const { kju, ok, runtimeDirOf, runtime, library, env, dir: scratch } = home;
Object.assign(process.env, { XDG_RUNTIME_DIR: runtime, KJU_LIBRARY: library, KJU_ACCEL: 'tcg' });

function state(name: string): string {
  return (JSON.parse(ok('list', '--json')) as { name: string; state: string }[]).find((v) => v.name === name)!.state;
}
/** Every file under `dir` with a hash of its bytes. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}
function qemuPids(): number[] {
  const r = spawnSync('pgrep', ['-f', `qemu-system.*${runtime}`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}
function sock(name: string): string {
  return runtimeDirOf(name).serialSocket;
}

let guest: DemoGuest;
function create(name: string, ...extra: string[]): string {
  const out = ok(
    'create',
    name,
    '--memory',
    '256',
    '--cpus',
    '1',
    '--nic',
    'none',
    '--display',
    'virtio-vga',
    '--kernel',
    guest.kernel,
    '--initrd',
    guest.initrd,
    '--append',
    guest.append,
    '--json',
    ...extra,
  );
  return (JSON.parse(out) as { bundle: string }).bundle;
}

describe('integration: VM lifecycle from the library', () => {
  before(async () => {
    guest = await ensureDemoGuest();
  });
  after(() => {
    for (const pid of qemuPids()) process.kill(pid, 'SIGKILL');
    home.remove();
  });

  test('create with a 64 MiB qcow2 disk, start it detached, list shows it running, stop it', () => {
    const bundle = create('Alpha', '--disk-size', '64M');
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', join(bundle, 'disk.qcow2')], { encoding: 'utf8' }));
    assert.equal(info.format, 'qcow2');
    assert.equal(info['virtual-size'], 64 * 1024 * 1024);
    const started = JSON.parse(ok('start', 'Alpha', '--json'));
    assert.equal(started.state, 'running');
    assert.equal(started.logFile, join(bundle, 'logs', 'Alpha.log'));
    assert.ok(existsSync(started.logFile));
    assert.equal(state('Alpha'), 'running');
    const again = kju('start', 'Alpha');
    assert.equal(again.code, 3);
    assert.match(again.stderr, /already running/);
    ok('stop', 'Alpha', '--force');
    assert.equal(state('Alpha'), 'stopped');
  });

  test('suspend to disk, no kju process left, resume: the same guest session carries on', async () => {
    create('Beta', '--disk-size', '64M');
    ok('start', 'Beta');
    let serial = await SerialConsole.connect(sock('Beta'));
    serial.write('\n');
    await serial.waitFor(/kju# /, 90_000);
    await serial.run('export KJU_MARK=before-suspend-42; echo tmpfs-mark > /tmp/mark');
    const up1 = Number((await serial.run('cut -d" " -f1 /proc/uptime')).trim());
    serial.close();

    ok('pause', 'Beta');
    assert.equal(state('Beta'), 'paused');
    ok('resume', 'Beta');
    assert.equal(state('Beta'), 'running');

    const t0 = Date.now();
    const s = JSON.parse(ok('suspend', 'Beta', '--json'));
    const suspendMs = Date.now() - t0;
    assert.equal(s.state, 'suspended');
    assert.ok(existsSync(s.stateFile) && statSync(s.stateFile).size > 1 << 20);
    assert.deepEqual(qemuPids(), [], 'QEMU has exited');
    assert.equal(state('Beta'), 'suspended');
    const snap = kju('snapshot', 'create', 'Beta', 'x');
    assert.equal(snap.code, 1);
    assert.match(snap.stderr, /suspended/);

    const t1 = Date.now();
    const r = JSON.parse(ok('resume', 'Beta', '--json'));
    const resumeMs = Date.now() - t1;
    assert.equal(r.how, 'restored from disk');
    assert.equal(state('Beta'), 'running');
    assert.ok(!existsSync(s.stateFile), 'the state file is gone after resume');
    serial = await SerialConsole.connect(sock('Beta'));
    serial.write('\n');
    assert.equal(await serial.run('echo $KJU_MARK; cat /tmp/mark'), 'before-suspend-42\ntmpfs-mark');
    const up2 = Number((await serial.run('cut -d" " -f1 /proc/uptime')).trim());
    assert.ok(up2 >= up1 && up2 < up1 + 60, `uptime continues: ${up1} → ${up2}`);
    // keyboard input after resume reaches tty1's shell
    ok('type', 'Beta', 'echo typed-after-resume > /tmp/typed\n');
    let typed = '';
    for (let i = 0; i < 50 && !typed.includes('typed-after-resume'); i++) {
      typed = await serial.run('cat /tmp/typed 2>/dev/null', { allowFailure: true });
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(typed, 'typed-after-resume');
    serial.close();
    console.log(`suspend ${suspendMs} ms, resume ${resumeMs} ms (CLI processes included)`);
    ok('stop', 'Beta', '--force');
  });

  test('snapshots: offline and live create/list/revert/delete on qcow2; raw disks are refused', async () => {
    const bundle = create('Gamma', '--disk-size', '64M');
    ok('snapshot', 'create', 'Gamma', 'clean');
    assert.deepEqual(
      JSON.parse(ok('snapshot', 'list', 'Gamma', '--json')).map((s: { name: string; vmStateBytes: number }) => [s.name, s.vmStateBytes]),
      [['clean', 0]],
    );
    assert.match(kju('snapshot', 'create', 'Gamma', 'clean').stderr, /already has a snapshot/);
    assert.match(kju('snapshot', 'revert', 'Gamma', 'nope').stderr, /no snapshot named "nope"/);
    ok('snapshot', 'revert', 'Gamma', 'clean');

    ok('start', 'Gamma');
    const serial = await SerialConsole.connect(sock('Gamma'));
    serial.write('\n');
    await serial.waitFor(/kju# /, 90_000);
    await serial.run('echo one > /tmp/state');
    assert.match(ok('snapshot', 'create', 'Gamma', 'live-one'), /live/);
    await serial.run('echo two > /tmp/state');
    ok('snapshot', 'revert', 'Gamma', 'live-one');
    serial.write('\n');
    assert.equal(await serial.run('cat /tmp/state'), 'one', 'memory came back with the live snapshot');
    const list = JSON.parse(ok('snapshot', 'list', 'Gamma', '--json')) as { name: string; vmStateBytes: number }[];
    assert.deepEqual(
      list.map((s) => s.name),
      ['clean', 'live-one'],
    );
    assert.ok(list[1].vmStateBytes > 0);
    ok('snapshot', 'delete', 'Gamma', 'live-one');
    serial.close();
    ok('stop', 'Gamma', '--force');
    ok('snapshot', 'delete', 'Gamma', 'clean');
    assert.deepEqual(JSON.parse(ok('snapshot', 'list', 'Gamma', '--json')), []);
    assert.ok(existsSync(bundle));

    const raw = join(scratch, 'raw.img');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '16M']);
    create('Delta', '--disk', raw, '--disk-mode', 'reference');
    const before = createHash('sha256').update(readFileSync(raw)).digest('hex');
    const r = kju('snapshot', 'create', 'Delta', 'x');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /snapshots need qcow2 disks.*qemu-img convert/);
    assert.equal(createHash('sha256').update(readFileSync(raw)).digest('hex'), before);
  });

  test('the owner is SIGKILLed: a new SessionManager re-attaches, the display comes back equal to screendump', async (t) => {
    create('Epsilon', '--no-disk');
    const script = join(scratch, 'owner.mts');
    writeFileSync(
      script,
      `import { SessionManager } from ${JSON.stringify(join(repo, 'main/session/session-manager.ts'))};
const { manager } = await SessionManager.open();
await manager.start('Epsilon');
console.log('owning');
setInterval(() => {}, 1000);`,
    );
    const owner = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    owner.stdout.on('data', (c) => (out += c));
    owner.stderr.on('data', (c) => (out += c));
    await new Promise<void>((res, rej) => {
      const iv = setInterval(() => out.includes('owning') && (clearInterval(iv), res()), 50);
      owner.once('exit', (code) => rej(new Error(`owner exited ${code}: ${out}`)));
    });
    const qemuBefore = qemuPids();
    assert.equal(qemuBefore.length, 1);
    // the owner answers on kju.sock: another manager sees it as owned elsewhere
    const { SessionManager } = await import('./session-manager.js');
    const probe = await SessionManager.open();
    assert.deepEqual(probe.reattached.ownedElsewhere, ['Epsilon']);
    probe.manager.close();

    owner.kill('SIGKILL');
    await new Promise((res) => owner.once('exit', res));
    assert.deepEqual(qemuPids(), qemuBefore, 'QEMU outlived its owner');

    const { manager, reattached } = await SessionManager.open();
    t.after(() => manager.close());
    assert.deepEqual(reattached.attached, ['Epsilon']);
    const vm = (await manager.list()).find((v) => v.name === 'Epsilon')!;
    assert.equal(vm.state, 'running');
    const serial = await SerialConsole.connect(sock('Epsilon'));
    serial.write('\n');
    await serial.waitFor(/kju# /, 90_000);
    serial.close();
    const display = (await manager.openDisplay(vm.id, 0)) as DbusDisplay;
    t.after(() => display.close());
    const session = manager.sessionOf(vm.id)!;
    await display.waitForSurface(30_000);
    await display.waitForQuiet(500, 30_000);
    await manager.pause(vm.id); // a still screen to compare
    await new Promise((res) => setTimeout(res, 300));
    const surface = display.surface!;
    const ppm = join(scratch, 'dump.ppm');
    await screendumpToFile(session.qmp, ppm);
    const diff = diffImages(surfaceToRgb(surface), decodePpm(readFileSync(ppm)));
    assert.equal(diff.differing, 0, JSON.stringify(diff.first));
    const paused = (await manager.list()).find((v) => v.id === vm.id)!;
    assert.equal(paused.state, 'paused');
    // What it runs with, for the status bar: the accelerator from the runtime dir (written at launch
    // by the first owner, read by this one), the transport from the display opened here.
    assert.equal(paused.accelerator, 'tcg');
    assert.equal(paused.transport, surface.transport);
    await manager.unpause(vm.id);
    const stopped = await manager.stop(vm.id, { force: true });
    assert.equal(stopped.stopped, true);
    assert.equal(stopped.summary.state, 'stopped');
    const left = existsSync(runtimeDirOf('Epsilon').dir) ? readdirSync(runtimeDirOf('Epsilon').dir) : [];
    assert.deepEqual(left, [], 'runtime dir cleaned up');
  });

  test('Тест and Работа (one sanitized name) run at once, each reached as itself; list() adopts nothing, reattach() and the timer do', async (t) => {
    create('Тест', '--no-disk');
    create('Работа', '--no-disk');
    const { SessionManager } = await import('./session-manager.js');
    // this process owns the VMs and serves their kju.sock: CLI calls must not block its loop
    const okAsync = async (...args: string[]): Promise<string> => {
      const r = await home.kjuAsync(...args);
      assert.equal(r.code, 0, `kju ${args.join(' ')}: ${r.code} ${r.stderr}`);
      return r.stdout;
    };
    const stateAsync = async (name: string) => (JSON.parse(await okAsync('list', '--json')) as { name: string; state: string }[]).find((v) => v.name === name)!.state;
    const { manager } = await SessionManager.open({ reattachEveryMs: 0 });
    let owner = manager;
    t.after(() => owner.close());
    ok('start', 'Тест');
    ok('start', 'Работа');
    const rt = { a: runtimeDirOf('Тест'), b: runtimeDirOf('Работа') };
    assert.notEqual(rt.a.dir, rt.b.dir);
    const ids = Object.fromEntries((await manager.list()).map((v) => [v.name, v.id]));
    assert.deepEqual(
      (await manager.list()).filter((v) => v.name === 'Тест' || v.name === 'Работа').map((v) => v.state),
      ['running', 'running'],
    );
    assert.equal(manager.sessionOf(ids['Тест']), undefined, 'list() took no VM over');
    assert.equal(manager.sessionOf(ids['Работа']), undefined, 'list() took no VM over');
    assert.deepEqual((await manager.reattach()).attached.sort(), ['Работа', 'Тест']);
    assert.ok(manager.sessionOf(ids['Тест']) && manager.sessionOf(ids['Работа']));

    const serial = { a: await SerialConsole.connect(rt.a.serialSocket), b: await SerialConsole.connect(rt.b.serialSocket) };
    for (const [k, s] of Object.entries(serial)) {
      s.write('\n');
      await s.waitFor(/kju# /, 120_000);
      await s.run(`echo side-${k} > /tmp/who`);
    }
    // kju type, over the kju.sock this process now serves for each, lands in the right guest
    for (const [name, k] of [
      ['Тест', 'a'],
      ['Работа', 'b'],
    ] as const) {
      const seen = serial[k].waitFor(new RegExp(`typed-into-side-${k}`), 30_000);
      await okAsync('type', name, 'echo typed-into-$(cat /tmp/who) > /dev/ttyS0\n');
      await seen;
    }

    // Тест's RAM goes into Тест's bundle (issue 13: it went into Работа's); Работа runs on
    const s = JSON.parse(await okAsync('suspend', 'Тест', '--json'));
    assert.equal(s.stateFile.startsWith(JSON.parse(await okAsync('list', '--json')).find((v: { name: string }) => v.name === 'Тест').bundle), true, s.stateFile);
    assert.equal(await stateAsync('Тест'), 'suspended');
    assert.equal(await stateAsync('Работа'), 'running');
    serial.a.close();

    // a new owner adopts Работа at open, and Тест (resumed by the CLI) on its timer
    manager.close();
    const next = await SessionManager.open({ reattachEveryMs: 300 });
    owner = next.manager;
    assert.deepEqual(next.reattached.attached, ['Работа']);
    await okAsync('resume', 'Тест');
    for (let i = 0; i < 100 && !owner.sessionOf(ids['Тест']); i++) await new Promise((res) => setTimeout(res, 100));
    assert.ok(owner.sessionOf(ids['Тест']), 'the timer adopted the VM `kju resume` started');
    const a = await SerialConsole.connect(rt.a.serialSocket);
    a.write('\n');
    assert.equal(await a.run('cat /tmp/who'), 'side-a', 'Тест came back with its own memory');
    a.close();
    assert.equal(await serial.b.run('cat /tmp/who'), 'side-b');
    serial.b.close();
    for (const id of [ids['Тест'], ids['Работа']]) assert.equal((await owner.stop(id, { force: true })).stopped, true);
  });

  test('a VM that shares its clipboard is not suspended or snapshotted live (QEMU cannot save vdagent): a clear error, the VM keeps running', () => {
    create('Clippy', '--no-disk', '--clipboard');
    ok('start', 'Clippy');
    const r = kju('suspend', 'Clippy');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /shares its clipboard, and QEMU cannot save its clipboard channel/);
    assert.match(r.stderr, /turn off "Share clipboard" in the VM's Edit dialog \(or kju edit "Clippy" --no-clipboard\)/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assert.equal(state('Clippy'), 'running');
    ok('stop', 'Clippy', '--force');
  });

  test('bad bundles: each start fails with a clear message and changes nothing', () => {
    const bundles: Record<string, [string, RegExp]> = {};
    const mk = (name: string, edit: (dir: string) => void, re: RegExp) => {
      const dir = create(name, '--no-disk');
      edit(dir);
      bundles[name] = [dir, re];
    };
    mk('Corrupt', (d) => writeFileSync(join(d, 'config.json'), '{ "kju": 1, "name": '), /not valid JSON/);
    mk(
      'Future',
      (d) => {
        const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
        writeFileSync(join(d, 'config.json'), JSON.stringify({ ...c, kju: 99 }));
      },
      /newer kju: version 99/,
    );
    const gone = join(scratch, 'gone.qcow2');
    mk(
      'Outside',
      (d) => {
        const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
        writeFileSync(join(d, 'config.json'), JSON.stringify({ ...c, disks: [{ file: gone, format: 'qcow2', bus: 'virtio' }] }));
      },
      /missing disk 1 .*gone\.qcow2/,
    );
    mk(
      'Nodisk',
      (d) => {
        const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
        writeFileSync(join(d, 'config.json'), JSON.stringify({ ...c, disks: [{ file: 'disk.qcow2', format: 'qcow2', bus: 'virtio' }] }));
      },
      /missing disk 1 .*Nodisk\.kju\/disk\.qcow2/,
    );
    const twin = create('Twin', '--no-disk');
    execFileSync('cp', ['-r', twin, join(library, 'Twin2.kju')]);
    const c2 = JSON.parse(readFileSync(join(library, 'Twin2.kju', 'config.json'), 'utf8'));
    writeFileSync(join(library, 'Twin2.kju', 'config.json'), JSON.stringify({ ...c2, id: '6f1c3a52-58a4-4b8e-9d0e-2f4f5d6a7b8c' }));
    bundles.Twin = [twin, /two VMs are named "Twin"/];

    const before = tree(library);
    for (const [name, [, re]] of Object.entries(bundles)) {
      const r = kju('start', name);
      assert.equal(r.code, 1, `${name}: ${r.stdout}`);
      assert.match(r.stderr, re, name);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    assert.deepEqual(tree(library), before, 'no file in the library changed');
    assert.deepEqual(qemuPids(), []);
  });
});

// Integration (real QEMU under TCG, the demo guest, the bundled CLI as `npx kju` runs it):
// kju run owns a VM described by a JSON file; kju type/screenshot/resize/stop reach it through
// kju.sock. The guest runs kju-modeset (kju.modeset), so it takes the size kju resize asks for.
// A second QMP monitor (extraArgs) gives the test QEMU's own screendump to compare with.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ensureDemoGuest } from '../../testing/guest.js';
import { SerialConsole } from '../../testing/serial-console.js';
import { QmpClient } from '../../qmp/qmp-client.js';
import { fileVmRuntimeDir } from '../../qemu/runtime-dir.js';
import { decodePng, decodePpm, diffImages } from '../../display/screenshot.js';
import { screendumpToFile } from '../../display/screendump.js';
import { SessionManager } from '../../session/session-manager.js';
import { Library } from '../../library/library.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const kjuBin = join(repo, 'bin/kju.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'kju-cli-it-'));
const runtime = join(scratch, 'run');
mkdirSync(runtime, { mode: 0o700 });
const env = { ...process.env, XDG_RUNTIME_DIR: runtime, XDG_STATE_HOME: join(scratch, 'state'), KJU_LIBRARY: join(scratch, 'library'), KJU_ACCEL: 'tcg' };

function kju(args: string[]) {
  const r = spawnSync(process.execPath, [kjuBin, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('integration: the kju CLI on a running demo guest', () => {
  let runProc: ChildProcess;
  let runOutput = '';
  let vmJson: string;
  let serial: SerialConsole;
  let testQmp: QmpClient;

  before(async () => {
    const guest = await ensureDemoGuest();
    vmJson = join(scratch, 'demo.json');
    writeFileSync(
      vmJson,
      JSON.stringify({
        name: 'cli-demo',
        memoryMiB: 256,
        cpus: 1,
        display: 'virtio-vga',
        kernel: guest.kernel,
        initrd: guest.initrd,
        append: `${guest.append} kju.modeset`,
        extraArgs: ['-chardev', `socket,id=testmon,path=${join(scratch, 'test-qmp.sock')},server=on,wait=off`, '-mon', 'chardev=testmon,mode=control'],
      }),
    );
  });

  after(async () => {
    testQmp?.close();
    serial?.close?.();
    if (runProc && runProc.exitCode === null) runProc.kill('SIGKILL');
    spawnSync('pkill', ['-9', '-f', join(runtime, 'kju')]);
    rmSync(scratch, { recursive: true, force: true });
  });

  test('kju run starts the VM and owns it; the guest reaches its prompt', async () => {
    runProc = spawn(process.execPath, [kjuBin, 'run', vmJson], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    runProc.stdout!.on('data', (d: Buffer) => (runOutput += d.toString()));
    runProc.stderr!.on('data', (d: Buffer) => (runOutput += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/started \(QEMU pid \d+\)/.test(runOutput)) {
      if (Date.now() > deadline || runProc.exitCode !== null) throw new Error(`kju run did not start: ${runOutput}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    serial = await SerialConsole.connect(fileVmRuntimeDir(vmJson, 'cli-demo', join(runtime, 'kju')).serialSocket);
    await serial.waitFor(/kju# /, 60_000);
    testQmp = await QmpClient.connect(join(scratch, 'test-qmp.sock'));
    while (!/screen 1280x800, transport map/.test(runOutput)) {
      if (Date.now() > deadline) throw new Error(`no 1280x800 map surface: ${runOutput}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  test('kju type reaches the guest shell (paced keys, none lost)', async () => {
    const marker = 'kju-cli-typed-0123456789-abcdefghijklmnopqrstuvwxyz';
    const seen = serial.waitFor(new RegExp(marker.replace(/-/g, '.')), 30_000);
    const r = kju(['type', vmJson, `echo ${marker.replace(/-/g, '"-"')} > /dev/ttyS0\\n`]);
    assert.equal(r.code, 0, r.stderr);
    await seen;
  });

  test('kju screenshot equals QEMU screendump pixel for pixel', async () => {
    await new Promise((r) => setTimeout(r, 1500)); // let the echo's output settle on screen
    const png = join(scratch, 'shot.png');
    const r = kju(['screenshot', 'cli-demo', png]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1280x800/);
    const ppm = join(scratch, 'dump.ppm');
    await screendumpToFile(testQmp, ppm);
    const diff = diffImages(decodePng(readFileSync(png)), decodePpm(readFileSync(ppm)));
    assert.equal(diff.differing, 0, `pixels differ: ${JSON.stringify(diff.first)}`);
  });

  test('kju key presses chords in the guest (shift-minus gives an underscore)', async () => {
    // The tty1 shell's output goes to the serial port from here on, so the test can read it.
    assert.equal(kju(['type', vmJson, 'exec >/dev/ttyS0\\n']).code, 0);
    assert.equal(kju(['type', vmJson, 'echo kju']).code, 0);
    const seen = serial.waitFor(/kju_key/, 30_000);
    const r = kju(['key', vmJson, 'shift-minus', 'k', 'e', 'y', 'enter', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { keys: 5 });
    await seen;
  });

  test('kju resize makes the guest take 1000x700; kju screenshot then equals QEMU screendump', async () => {
    const r = kju(['resize', 'cli-demo', '1000x700']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'head 0: 1000x700');
    const png = join(scratch, 'resized.png');
    const shot = kju(['screenshot', vmJson, png, '--json']);
    assert.equal(shot.code, 0, shot.stderr);
    assert.deepEqual((({ width, height, head }) => ({ width, height, head }))(JSON.parse(shot.stdout)), { width: 1000, height: 700, head: 0 });
    const ppm = join(scratch, 'resized.ppm');
    await screendumpToFile(testQmp, ppm);
    const diff = diffImages(decodePng(readFileSync(png)), decodePpm(readFileSync(ppm)));
    assert.equal(diff.differing, 0, `pixels differ: ${JSON.stringify(diff.first)}`);
    const zero = kju(['resize', 'cli-demo', '0x0']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /'0x0' is not a size/);
    const noHead = kju(['screenshot', 'cli-demo', join(scratch, 'h1.png'), '--head', '1']);
    assert.notEqual(noHead.code, 0);
    assert.match(noHead.stderr, /has no display head 1 \(it has 1; see its displays setting\)/);
    assert.equal(kju(['resize', 'cli-demo', '1280x800']).stdout.trim(), 'head 0: 1280x800');
  });

  test('bad arguments are clear errors with non-zero exits, and touch nothing', () => {
    const noArgs = kju(['screenshot']);
    assert.equal(noArgs.code, 2);
    assert.match(noArgs.stderr, /usage: kju screenshot/);
    const notPng = kju(['screenshot', vmJson, join(scratch, 'x.jpg')]);
    assert.equal(notPng.code, 2);
    assert.match(notPng.stderr, /ending in \.png/);
    const badChar = kju(['type', vmJson, 'café']);
    assert.equal(badChar.code, 1);
    assert.match(badChar.stderr, /cannot type character "é"/);
    const badChord = kju(['key', vmJson, 'ctrl-banana']);
    assert.equal(badChord.code, 1);
    assert.match(badChord.stderr, /unknown key 'banana'/);
    const unknownVm = kju(['screenshot', 'no-such-vm', join(scratch, 'y.png')]);
    assert.equal(unknownVm.code, 1);
    assert.match(unknownVm.stderr, /no VM named "no-such-vm"/);
    const broken = join(scratch, 'broken.json');
    writeFileSync(broken, JSON.stringify({ name: 'broken', memoryMiB: 'lots', cpus: 1 }));
    const bad = kju(['run', broken]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /memoryMiB/);
    const missing = kju(['run', join(scratch, 'missing.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such file/);
    const twice = kju(['run', vmJson]);
    assert.equal(twice.code, 3); // 3: the VM is already running
    assert.match(twice.stderr, /already running/);
    const unknown = kju(['frobnicate']);
    assert.equal(unknown.code, 2);
  });

  test('kju list shows the running VM started from a file, marked as not in the library', () => {
    const table = kju(['list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^cli-demo \(file\)\s+running\s+256 MiB\s+1\s+virtio-vga$/m);
    assert.ok(table.stdout.includes(`not in the library: started with "kju run ${vmJson}"`), table.stdout);
    const json = kju(['list', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const listed = (JSON.parse(json.stdout) as { id: string; name: string; state: string; fromFile?: string; accelerator?: string; bundle?: string }[]).filter((v) => v.name === 'cli-demo');
    assert.equal(listed.length, 1, json.stdout);
    assert.deepEqual(
      { id: listed[0].id, state: listed[0].state, fromFile: listed[0].fromFile, accelerator: listed[0].accelerator, bundle: listed[0].bundle },
      { id: `file:${vmJson}`, state: 'running', fromFile: vmJson, accelerator: 'tcg', bundle: undefined },
    );
  });

  test('the session manager (what serve and the app list) shows the file VM; a window for it is refused plainly', async () => {
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime; // runtimeBase() reads it at each call
    const sessions = SessionManager.create({ library: Library.open({ ...env }), passive: true });
    try {
      const listed = (await sessions.list()).filter((v) => v.fromFile);
      assert.deepEqual(
        listed.map((v) => [v.id, v.name, v.state, v.fromFile]),
        [[`file:${vmJson}`, 'cli-demo', 'running', vmJson]],
      );
      await assert.rejects(sessions.openDisplay(`file:${vmJson}`), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'owned-elsewhere');
        assert.match(err.message, new RegExp(`the VM started from ${vmJson.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not in the library; the "kju run" that started it owns it`));
        return true;
      });
      await assert.rejects(sessions.start(`file:${vmJson}`), /already running/);
    } finally {
      sessions.close();
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });

  test('kju stop --force ends the VM and the owning kju run exits', async () => {
    const exited = new Promise<number | null>((resolve) => runProc.once('exit', (code) => resolve(code)));
    const r = kju(['stop', vmJson, '--force']);
    assert.equal(r.code, 0, r.stderr);
    const code = await exited;
    assert.equal(code, 0, runOutput);
    const again = kju(['stop', vmJson]);
    assert.equal(again.code, 3, 'not running: the one CLI mapping gives every command exit 3 for it (kju pause and suspend did already)');
    assert.match(again.stderr, /not running/);
    assert.ok(!kju(['list']).stdout.includes('cli-demo'), 'a stopped file VM leaves the list');
  });
});

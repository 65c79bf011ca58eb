// Integration (real QEMU, TCG): launching the demo guest and the ways a launch fails.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootDemoGuest, ensureDemoGuest } from '../testing/guest.js';
import { QmpClosedError } from '../qmp/qmp-client.js';
import { QemuLaunchError, attachQemu, launchQemu } from './launch.js';
import type { VmDescription } from './vm-description.js';
import { runtimeDirAt, type RuntimeDir } from './runtime-dir.js';

function tempDirs(t: { after(fn: () => void): void }): { runtimeDir: RuntimeDir; logDir: string } {
  const tmp = mkdtempSync(join(tmpdir(), 'kju-launch-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  return { runtimeDir: runtimeDirAt(join(tmp, 'run')), logDir: join(tmp, 'log') };
}

test('integration: the demo guest launches; QMP greets, runs, shows the dbus display, quits', async (t) => {
  const g = await bootDemoGuest({ displayDevice: 'virtio-vga', waitForPrompt: false });
  t.after(() => g.stop());
  assert.ok(g.qemu.pid > 0);
  assert.equal(Number(readFileSync(g.qemu.runtimeDir.pidFile, 'utf8')), g.qemu.pid);
  assert.equal(JSON.parse(readFileSync(g.qemu.runtimeDir.vmJson, 'utf8')).name, g.desc.name);
  assert.equal(statSync(g.qemu.runtimeDir.dir).mode & 0o777, 0o700);
  assert.ok(g.qmp.greeting && g.qmp.greeting.QMP.version.qemu.major >= 7);
  assert.deepEqual(await g.qmp.execute('query-status'), { status: 'running', running: true });
  const display = await g.qmp.execute('query-display-options');
  assert.equal(display.type, 'dbus');
  assert.equal(display.p2p, true);

  const attached = attachQemu(g.qemu.runtimeDir, { logFile: g.qemu.logFile, pollMs: 50 });
  assert.equal(attached?.pid, g.qemu.pid);

  const shutdown = g.qmp.waitForEvent('SHUTDOWN', 10_000);
  await g.qmp.execute('quit');
  await shutdown;
  const exit = await g.qemu.exited;
  assert.equal(exit.code, 0);
  assert.equal(exit.signal, null);
  const attachedExit = await attached!.exited;
  assert.equal(attachedExit.code, null);
  assert.equal(attached!.running, false);
});

test('integration: the guest boots to its serial shell and reports its framebuffer', async (t) => {
  const g = await bootDemoGuest({ displayDevice: 'std' });
  t.after(() => g.stop());
  t.diagnostic(`std VGA: boot to prompt ${g.bootMs} ms`);
  assert.equal(await g.serial.run('cat /sys/class/graphics/fb0/name'), 'bochs-drmdrmfb');
  assert.match(await g.serial.run('cat /sys/class/graphics/fb0/stride'), /^\d+$/);
  assert.equal(await g.serial.run('echo "a b"; echo c >&2'), 'a b\nc');
  assert.equal(await g.serial.run('false', { allowFailure: true }), '');
  await assert.rejects(g.serial.run('exit 3 | true; ls /nonexistent'), /status 1/);
});

test('a nonexistent kernel fails before spawning, naming the path', async (t) => {
  const dirs = tempDirs(t);
  const desc: VmDescription = { name: 'nokernel', memoryMiB: 128, cpus: 1, kernel: '/nonexistent/vmlinuz' };
  await assert.rejects(launchQemu(desc, { ...dirs, accel: 'tcg' }), (e: unknown) => {
    assert.ok(e instanceof QemuLaunchError);
    assert.match(e.message, /kernel file not found: \/nonexistent\/vmlinuz/);
    assert.equal(e.exit, undefined);
    return true;
  });
  assert.ok(!existsSync(join(dirs.logDir, 'nokernel.log')), 'nothing was spawned');
});

test('integration: QEMU dying at startup rejects with its exit status and message', async (t) => {
  const dirs = tempDirs(t);
  const guest = await ensureDemoGuest();
  const desc: VmDescription = { name: 'bogus', memoryMiB: 128, cpus: 1, kernel: guest.kernel, extraArgs: ['-bogus'] };
  const started = Date.now();
  await assert.rejects(launchQemu(desc, { ...dirs, accel: 'tcg' }), (e: unknown) => {
    assert.ok(e instanceof QemuLaunchError);
    assert.match(e.message, /exited during startup \(exit status 1\)/);
    assert.match(e.message, /invalid option/);
    assert.ok(e.exit?.logTail.some((l) => l.includes('-bogus')));
    return true;
  });
  assert.ok(Date.now() - started < 10_000);
  assert.match(readFileSync(join(dirs.logDir, 'bogus.log'), 'utf8'), /--- kju .*-bogus/);
});

test('integration: SIGKILL while a QMP command is pending rejects it with QmpClosedError quickly', async (t) => {
  const g = await bootDemoGuest({ displayDevice: 'virtio-vga', waitForPrompt: false });
  t.after(() => g.stop());
  // SIGSTOP first so QEMU cannot answer: the command is surely pending when SIGKILL lands.
  g.qemu.kill('SIGSTOP');
  const pending = g.qmp.execute('query-status');
  const other = g.qmp.execute('query-name');
  await new Promise((r) => setTimeout(r, 100));
  const killedAt = Date.now();
  g.qemu.kill('SIGKILL');
  await assert.rejects(pending, (e: unknown) => e instanceof QmpClosedError && /query-status got no reply/.test(e.message));
  await assert.rejects(other, QmpClosedError);
  assert.ok(Date.now() - killedAt < 3000, `rejected after ${Date.now() - killedAt} ms`);
  await assert.rejects(g.qmp.execute('query-status'), QmpClosedError);
  const exit = await g.qemu.exited;
  assert.equal(exit.signal, 'SIGKILL');
});

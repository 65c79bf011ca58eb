// The automatic accelerator, the way a newcomer meets it: no KJU_ACCEL (run-tests.mjs sets it to tcg
// for every other test; it is deleted here, for this process and its children) and a private cache,
// so the accelerator check runs fresh. `kju run` of the demo guest and the app's Start through kju
// serve (the local backend, real React app in Chromium) both reach the guest's shell. What they must
// say depends on this machine, read from the check's cached record: KVM that fails its check → TCG
// and the notice in the CLI, the library banner and the VM window's status bar; KVM that passes →
// KVM and no notice; no accelerator offered → TCG, no check, no notice.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ensureDemoGuest } from '../main/testing/guest.js';
import { SerialConsole } from '../main/testing/serial-console.js';
import { accelCheckCacheFile, fallbackNotice, type AccelCheckRecord } from '../main/qemu/accel-check.js';
import { fileVmRuntimeDir, libraryVmRuntimeDir, readRuntimeVmInfo } from '../main/qemu/runtime-dir.js';
import type { LocalBackend } from '../main/backend/local-backend.js';
import type { ServeHandle } from '../main/serve/serve.js';
import { CHROMIUM, CHROMIUM_ARGS, root, until } from './helpers/real-serve.js';

const tmp = mkdtempSync(join(tmpdir(), 'kju-auto-accel-'));
const runtime = join(tmp, 'run');
mkdirSync(runtime, { mode: 0o700 });
// The demo guest comes from the usual cache (KJU_CACHE as given); the accelerator check gets its own.
const checkCache = join(tmp, 'cache');
delete process.env.KJU_ACCEL;
const cliEnv: NodeJS.ProcessEnv = {
  ...process.env,
  KJU_CACHE: checkCache,
  XDG_CACHE_HOME: checkCache,
  XDG_RUNTIME_DIR: runtime,
  XDG_STATE_HOME: join(tmp, 'state'),
  KJU_LIBRARY: join(tmp, 'cli-library'),
};
delete cliEnv.KJU_ACCEL;

let runProc: ChildProcess | undefined;
let serial: SerialConsole | undefined;
let backend: LocalBackend | undefined;
let serve: ServeHandle | undefined;
let browser: Browser | undefined;

after(async () => {
  serial?.close();
  if (runProc && runProc.exitCode === null) runProc.kill('SIGKILL');
  await browser?.close().catch(() => {});
  await backend?.call('stopVm', { id: 'Auto', force: true }).catch(() => {});
  await serve?.close();
  backend?.close();
  spawnSync('pkill', ['-9', '-f', join(runtime, 'kju')]);
  rmSync(tmp, { recursive: true, force: true });
});

/** What this machine must show, from the check record the first launch left (none: no accelerator offered). */
function expectation(): { accel: 'kvm' | 'hvf' | 'tcg'; notice?: string; record?: AccelCheckRecord } {
  const file = accelCheckCacheFile({ KJU_CACHE: checkCache });
  if (!existsSync(file)) return { accel: 'tcg' };
  const record = JSON.parse(readFileSync(file, 'utf8')) as AccelCheckRecord;
  return record.works ? { accel: record.key.accel, record } : { accel: 'tcg', notice: fallbackNotice(record.key.accel), record };
}

async function shellOf(serialSocket: string): Promise<SerialConsole> {
  const s = await SerialConsole.connect(serialSocket);
  await until(
    'the guest shell',
    () =>
      s.run('true', { timeoutMs: 3_000 }).then(
        () => true,
        () => false,
      ),
    180_000,
    500,
  );
  return s;
}

test('kju run with the automatic accelerator reaches the shell, and says so when it fell back to TCG', async (t) => {
  const g = await ensureDemoGuest(); // before KJU_CACHE points at the check's private cache
  const vmJson = join(tmp, 'auto.json');
  writeFileSync(vmJson, JSON.stringify({ name: 'auto-cli', memoryMiB: 256, cpus: 1, display: 'virtio-vga', kernel: g.kernel, initrd: g.initrd, append: g.append }));
  let out = '';
  runProc = spawn(process.execPath, [join(root, 'bin/kju.mjs'), 'run', vmJson], { env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  runProc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  runProc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await until(
    'kju run to start QEMU',
    () => {
      if (runProc!.exitCode !== null) throw new Error(`kju run exited: ${out}`);
      return /started \(QEMU pid \d+\)/.test(out);
    },
    120_000,
    100,
  );
  const rt = fileVmRuntimeDir(vmJson, 'auto-cli', join(runtime, 'kju'));
  serial = await shellOf(rt.serialSocket);
  assert.equal(await serial.run('echo $((6*7))'), '42');

  const want = expectation();
  t.diagnostic(`this machine: ${want.record ? `${want.record.key.accel} check ${want.record.works ? 'passed' : `failed (${want.record.reason})`}` : 'no accelerator offered'} → ${want.accel}`);
  assert.equal(readRuntimeVmInfo(rt)?.accelerator, want.accel, out);
  if (want.notice) assert.ok(out.includes(`kju: ${want.notice}`), `the CLI printed the notice:\n${out}`);
  else assert.ok(!/software emulation/.test(out), `no notice:\n${out}`);

  serial.close();
  serial = undefined;
  const exited = new Promise<number | null>((resolve) => runProc!.once('exit', resolve));
  const stop = spawnSync(process.execPath, [join(root, 'bin/kju.mjs'), 'stop', vmJson, '--force'], { env: cliEnv, encoding: 'utf8', timeout: 60_000 });
  assert.equal(stop.status, 0, stop.stderr);
  assert.equal(await exited, 0, out);
});

test('the app’s Start through kju serve with the automatic accelerator reaches the shell; the status bar says what it runs on', async () => {
  const g = await ensureDemoGuest(); // before KJU_CACHE points at the check's private cache
  // This process is the serve side: the same environment as the CLI above (the check is cached now).
  Object.assign(process.env, { KJU_CACHE: checkCache, XDG_CACHE_HOME: checkCache, XDG_RUNTIME_DIR: runtime, KJU_LIBRARY: join(tmp, 'library') });
  const { createLocalBackend } = await import('../main/backend/local-backend.js');
  const { startServe } = await import('../main/serve/serve.js');
  backend = await createLocalBackend({ allow: [dirname(g.kernel), dirname(g.initrd)] });
  serve = await startServe({ backend, staticDir: join(root, 'app/out/renderer'), log: () => {} });
  const created = await backend.call('createVm', {
    name: 'Auto',
    preset: 'linux',
    memoryMiB: 256,
    cpus: 1,
    displayDevice: 'virtio-vga',
    disk: { kind: 'none' },
    kernel: g.kernel,
    initrd: g.initrd,
    append: g.append,
  });
  assert.ok(created.ok, JSON.stringify(created));
  const vm = await backend.sessions.library.get('Auto');

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(serve.url);
  const row = page.locator('.vm-row[data-vm-name="Auto"]');
  await row.getByRole('button', { name: 'Start' }).click();
  await until('Auto to show Running', async () => (await row.locator('.badge').innerText()) === 'Running', 120_000, 200);
  serial = await shellOf(libraryVmRuntimeDir(vm).serialSocket);
  assert.equal(await serial.run('echo $((6*7))'), '42');

  const want = expectation();
  const listed = await backend.call('listVms', {});
  assert.ok(listed.ok);
  const summary = listed.value.find((v) => v.id === vm.config.id);
  assert.equal(summary?.accelerator, want.accel);
  assert.equal(summary?.acceleratorNotice, want.notice);

  await page.goto(`${serve.origin}/#/vm/${vm.config.id}?token=${serve.token}`);
  await page.getByTestId('vm-state').waitFor();
  await until('the window to show the VM running', async () => (await page.getByTestId('vm-state').innerText()) === 'running', 30_000, 200);
  const notice = page.getByTestId('accel-notice');
  if (want.notice) {
    await notice.waitFor({ timeout: 20_000 });
    assert.equal(await notice.innerText(), `⚠ ${want.notice}`);
  } else {
    assert.equal(await notice.count(), 0, 'no notice when the accelerator runs guests');
  }
  assert.deepEqual(errors, []);
});

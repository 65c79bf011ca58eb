// The Electron app end to end with playwright's _electron: library window, a VM window showing the
// guest (zero-copy on and off) and taking typed keys, closing it leaves QEMU running, one window
// per head, the quit dialog, sound, and the clipboard both ways through Electron main's clipboard
// (the guest side through its serial shell and kju-vdagent, as in the serve clipboard test). `npm run test:electron` runs only these. Needs an Electron binary
// (node_modules/electron/dist) and the built bundles (node scripts/build.mjs); the VM specs also
// need the demo guest and a backend wired into main/electron/main/main.ts (main/backend/local-backend.ts).
// The canvas is compared with the screenshot taken through kju.sock (the display utility's own
// surface): QMP cannot be used from the test because QEMU serves one QMP client at a time and the
// app's display utility holds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import type { VmSummary } from '../common/contract.js';
import { decodePng, diffImages } from '../main/display/screenshot.js';
import { listRuntimeDirs, readRuntimeVmName, runtimeBase, type RuntimeDir } from '../main/qemu/runtime-dir.js';
import { callOwner } from '../main/session/owner-client.js';
import { ensureDemoGuest } from '../main/testing/guest.js';
import { SerialConsole } from '../main/testing/serial-console.js';
import { peakFrequency } from './helpers/sound-probe.js';
import { openMoreMenu } from './helpers/chromium.js';
import { guestAgentOutputHex, guestClipboardAgent, octal } from './helpers/guest-clipboard.js';
import { until } from './helpers/real-serve.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const execFileP = promisify(execFile);
const ELECTRON_DIST = join(root, 'node_modules/electron/dist');
const MAIN_BUNDLE = join(root, 'app/out/electron-main.js');
const SKIP = !existsSync(ELECTRON_DIST)
  ? 'Electron binary not installed (node_modules/electron/dist missing: its download is not reachable from this machine)'
  : !existsSync(MAIN_BUNDLE)
    ? 'app/out/electron-main.js missing: run node scripts/build.mjs first'
    : undefined;

interface Ctx {
  library: string;
  runtime: string;
  app: ElectronApplication;
  page: Page;
}

async function kju(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const r = await execFileP('node', [join(root, 'bin/kju.mjs'), ...args], { env, cwd: root });
  return r.stdout;
}

async function withApp(fn: (c: Ctx) => Promise<void>, prepare?: (env: NodeJS.ProcessEnv) => Promise<void>): Promise<void> {
  const library = mkdtempSync(join(tmpdir(), 'kju-e2e-lib-'));
  const runtime = mkdtempSync(join(tmpdir(), 'kju-e2e-run-'));
  const env = { ...process.env, KJU_LIBRARY: library, XDG_RUNTIME_DIR: runtime } as NodeJS.ProcessEnv;
  await prepare?.(env);
  const app = await _electron.launch({ args: [MAIN_BUNDLE], env: env as Record<string, string>, cwd: root });
  try {
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    await fn({ library, runtime, app, page });
  } finally {
    await app.close().catch(() => {});
    rmSync(library, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  }
}

async function createDemoVm(env: NodeJS.ProcessEnv, name: string): Promise<string> {
  const g = await ensureDemoGuest();
  const out = await kju(env, 'create', name, '--no-disk', '--kernel', g.kernel, '--initrd', g.initrd, '--append', g.append, '--display', 'virtio-vga', '--nic', 'none', '--memory', '256', '--json');
  return (JSON.parse(out) as { id: string }).id;
}

const listVms = (page: Page) => page.evaluate(async () => (window as unknown as { kju: { call(m: string, a: object): Promise<{ ok: boolean; value?: VmSummary[] }> } }).kju.call('listVms', {}));
const startVm = (page: Page, id: string) =>
  page.evaluate(async (vmId) => (window as unknown as { kju: { call(m: string, a: object): Promise<{ ok: boolean; message?: string }> } }).kju.call('startVm', { id: vmId }), id);

/** Starts the VM from the library window and resolves with the VM window it opens. */
async function startVmWindow(app: ElectronApplication, page: Page, id: string): Promise<Page> {
  const vmWindow = app.waitForEvent('window', { predicate: (p) => p.url().includes('#/vm/'), timeout: 60_000 });
  const r = await startVm(page, id);
  assert.ok(r.ok, r.message);
  return vmWindow;
}

/** The VM's runtime dir: the one whose vm.json names it (dirs are keyed by library and VM id). */
function vmRuntimeDir(runtimeRoot: string, name: string): RuntimeDir {
  const rt = listRuntimeDirs(runtimeBase({ XDG_RUNTIME_DIR: runtimeRoot })).find((d) => readRuntimeVmName(d) === name);
  if (!rt) throw new Error(`no runtime dir for VM "${name}" under ${runtimeRoot}`);
  return rt;
}

function qemuAlive(runtimeRoot: string, name: string): boolean {
  const pid = Number(readFileSync(vmRuntimeDir(runtimeRoot, name).pidFile, 'utf8').trim());
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The guest's serial shell (the app does not use the serial socket), once its prompt is up. */
async function guestShell(runtimeRoot: string, name: string): Promise<SerialConsole> {
  const serial = await SerialConsole.connect(vmRuntimeDir(runtimeRoot, name).serialSocket, 30_000);
  serial.write('\n');
  await serial.waitFor(/kju# /, 120_000);
  return serial;
}

async function stopQemu(runtimeRoot: string, name: string): Promise<void> {
  const sock = vmRuntimeDir(runtimeRoot, name).ownerSocket;
  await callOwner(sock, 'stop', { force: true }).catch(() => {});
}

test('the library window opens, is isolated, and lists a VM created with the CLI', { skip: SKIP }, async () => {
  await withApp(
    async ({ page }) => {
      assert.match(page.url(), /^app:\/\/kju\/index\.html#\/$/);
      assert.equal(await page.evaluate(() => crossOriginIsolated), true);
      assert.equal(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined');
      const r = await listVms(page);
      assert.ok(r.ok && r.value!.some((v) => v.name === 'Listed'), JSON.stringify(r));
      await page.getByText('Listed').first().waitFor({ timeout: 10_000 });
    },
    async (env) => void (await kju(env, 'create', 'Listed', '--no-disk', '--nic', 'none')),
  );
});

for (const zeroCopy of [false, true])
  test(
    `zero-copy ${zeroCopy ? 'on' : 'off'}: starting the demo VM opens a VM window whose canvas shows the guest; typing reaches the guest; closing it leaves QEMU running`,
    { skip: SKIP, timeout: 240_000 },
    async () => {
      let vmId = '';
      await withApp(
        async ({ app, page, runtime }) => {
          const vmPage = await startVmWindow(app, page, vmId);
          assert.match(vmPage.url(), new RegExp(`#/vm/${vmId}$`));
          const canvas = vmPage.locator('canvas').first();
          await canvas.waitFor({ timeout: 60_000 });
          // This spec sizes the window to the guest; the guest must not chase the window back.
          await (await openMoreMenu(vmPage)).getByTestId('guest-size-setting').selectOption('scale');
          // The demo guest prints a shell prompt on tty1 after ~8 s under TCG; wait until the screen is still.
          const sock = vmRuntimeDir(runtime, 'Demo').ownerSocket;
          let diff = { differing: -1 } as ReturnType<typeof diffImages>;
          const shot = join(runtime, 'guest.png');
          for (let i = 0; i < 30; i++) {
            await new Promise((res) => setTimeout(res, 2000));
            const s = await callOwner(sock, 'screenshot', { path: shot });
            // Show the guest 1:1 so the element screenshot is the surface, pixel for pixel.
            await vmPage.setViewportSize({ width: s.width, height: s.height }).catch(() => {});
            const png = await canvas.screenshot({ animations: 'disabled', scale: 'css' });
            diff = diffImages(decodePng(png), decodePng(readFileSync(shot)));
            if (diff.differing === 0) break;
          }
          // Tolerance: the screen may change between the two captures (cursor blink), nothing more.
          assert.ok(diff.differing >= 0 && diff.differing < 200, `canvas and guest differ in ${diff.differing} pixels, first ${JSON.stringify(diff.first)}`);

          // Typing in the window reaches the guest: tty1 echoes it, so kju screenshot changes, and the
          // canvas follows. Keys are paced (the guest's PS/2 queue is 16 bytes under TCG).
          const before = decodePng(readFileSync(shot));
          await canvas.click();
          for (const key of ['KeyE', 'KeyC', 'KeyH', 'KeyO', 'Space', 'KeyK', 'KeyJ', 'KeyU']) {
            await vmPage.keyboard.press(key);
            await new Promise((res) => setTimeout(res, 60));
          }
          let typed = { differing: -1 } as ReturnType<typeof diffImages>;
          for (let i = 0; i < 30 && typed.differing !== 0; i++) {
            await new Promise((res) => setTimeout(res, 1000));
            await callOwner(sock, 'screenshot', { path: shot });
            const after = decodePng(readFileSync(shot));
            if (diffImages(before, after).differing === 0) continue;
            typed = diffImages(decodePng(await canvas.screenshot({ animations: 'disabled', scale: 'css' })), after);
          }
          assert.ok(typed.differing >= 0 && typed.differing < 200, `after typing, the canvas and the guest differ in ${typed.differing} pixels (-1: the guest screen never changed)`);

          await vmPage.close();
          await new Promise((res) => setTimeout(res, 2000));
          assert.ok(qemuAlive(runtime, 'Demo'), 'QEMU stopped when its window closed');
          const listed = await listVms(page);
          assert.equal(listed.value?.find((v) => v.id === vmId)?.state, 'running');
          await stopQemu(runtime, 'Demo');
        },
        async (env) => {
          env.KJU_ZERO_COPY = zeroCopy ? '1' : '0';
          vmId = await createDemoVm(env, 'Demo');
        },
      );
    },
  );

test('a VM with displays: 2 opens one window per head; head 1 shows what kju screenshot --head 1 sees', { skip: SKIP, timeout: 240_000 }, async () => {
  let vmId = '';
  await withApp(
    async ({ app, page, runtime }) => {
      const head0 = app.waitForEvent('window', { predicate: (p) => /#\/vm\/[^?]+$/.test(p.url()), timeout: 60_000 });
      const head1 = app.waitForEvent('window', { predicate: (p) => p.url().includes('?head=1'), timeout: 60_000 });
      const r = await startVm(page, vmId);
      assert.ok(r.ok, r.message);
      const [w0, w1] = await Promise.all([head0, head1]);
      assert.equal(await w0.getByTestId('head').textContent({ timeout: 60_000 }), 'display 1 of 2');
      assert.equal(await w1.getByTestId('head').textContent({ timeout: 60_000 }), 'display 2 of 2');
      await (await openMoreMenu(w1)).getByTestId('guest-size-setting').selectOption('scale');
      const sock = vmRuntimeDir(runtime, 'Heads').ownerSocket;
      const shot = join(runtime, 'head1.png');
      const canvas = w1.locator('canvas').first();
      let diff = { differing: -1 } as ReturnType<typeof diffImages>;
      for (let i = 0; i < 30; i++) {
        await new Promise((res) => setTimeout(res, 2000));
        const s = await callOwner(sock, 'screenshot', { path: shot, head: 1 }).catch(() => null);
        if (!s) continue;
        await w1.setViewportSize({ width: s.width, height: s.height }).catch(() => {});
        diff = diffImages(decodePng(await canvas.screenshot({ animations: 'disabled', scale: 'css' })), decodePng(readFileSync(shot)));
        if (diff.differing === 0) break;
      }
      assert.equal(diff.differing, 0, `head 1's window and kju screenshot --head 1 differ, first ${JSON.stringify(diff.first)}`);
      await stopQemu(runtime, 'Heads');
    },
    async (env) => {
      const g = await ensureDemoGuest();
      const out = await kju(
        env,
        'create',
        'Heads',
        '--no-disk',
        '--kernel',
        g.kernel,
        '--initrd',
        g.initrd,
        '--append',
        `${g.append} kju.modeset=all`,
        '--display',
        'virtio-vga',
        '--displays',
        '2',
        '--nic',
        'none',
        '--memory',
        '256',
        '--json',
      );
      vmId = (JSON.parse(out) as { id: string }).id;
    },
  );
});

test('quitting with a running VM asks keep running / suspend all / shut down all', { skip: SKIP, timeout: 240_000 }, async () => {
  let vmId = '';
  await withApp(
    async ({ app, page, runtime }) => {
      assert.ok((await startVm(page, vmId)).ok);
      await app.evaluate(({ dialog }) => {
        const g = globalThis as { kjuDialogs?: unknown[] };
        g.kjuDialogs = [];
        // Answer "Keep Running" and record what was asked.
        dialog.showMessageBox = (async (...args: unknown[]) => {
          g.kjuDialogs!.push(args.at(-1));
          return { response: 0, checkboxChecked: false };
        }) as typeof dialog.showMessageBox;
      });
      const closed = app.waitForEvent('close', { timeout: 30_000 });
      await app.evaluate(({ app: a }) => a.quit());
      await closed;
      // The app is gone; the dialog's record went with it, so the evidence is the VM: kept running.
      assert.ok(qemuAlive(runtime, 'Quitter'), 'Keep Running was chosen, yet QEMU stopped');
      await stopQemu(runtime, 'Quitter');
    },
    async (env) => void (vmId = await createDemoVm(env, 'Quitter')),
  );
});

test('the quit dialog offers the three choices and Cancel keeps the app open', { skip: SKIP, timeout: 240_000 }, async () => {
  let vmId = '';
  await withApp(
    async ({ app, page, runtime }) => {
      assert.ok((await startVm(page, vmId)).ok);
      await app.evaluate(({ dialog }) => {
        const g = globalThis as { kjuDialogs?: Array<{ buttons?: string[] }> };
        g.kjuDialogs = [];
        dialog.showMessageBox = (async (...args: unknown[]) => {
          g.kjuDialogs!.push(args.at(-1) as { buttons?: string[] });
          return { response: 3, checkboxChecked: false }; // Cancel
        }) as typeof dialog.showMessageBox;
      });
      await app.evaluate(({ app: a }) => a.quit());
      await new Promise((res) => setTimeout(res, 1500));
      const asked = await app.evaluate(() => (globalThis as { kjuDialogs?: Array<{ buttons?: string[] }> }).kjuDialogs);
      assert.deepEqual(asked?.[0]?.buttons, ['Keep Running', 'Suspend All', 'Shut Down All', 'Cancel']);
      assert.ok(await page.evaluate(() => true), 'the app quit although Cancel was chosen');
      await stopQemu(runtime, 'Asked');
    },
    async (env) => void (vmId = await createDemoVm(env, 'Asked')),
  );
});

test("sound plays in the VM window: its analyser peaks at the guest tone's 1000 Hz (the same relay as kju serve's)", { skip: SKIP, timeout: 240_000 }, async () => {
  let vmId = '';
  await withApp(
    async ({ app, page, runtime }) => {
      const vmPage = await startVmWindow(app, page, vmId);
      // ?test=1 shows the AudioPlayer's analyser to the test (e2e/helpers/sound-probe.ts); the reload reopens the display and the sound.
      await vmPage.evaluate(() => {
        location.hash = `${location.hash}?test=1`;
        location.reload();
      });
      const canvas = vmPage.locator('canvas').first();
      await canvas.waitFor({ timeout: 60_000 });
      await canvas.click(); // the first click lets the page start sound
      const serial = await guestShell(runtime, 'Demo');
      try {
        // the tone comes from the serial shell; the window is polled until its analyser hears it
        const playing = serial.run('tone-play -s 20 1000 2>&1', { timeoutMs: 90_000 });
        playing.catch(() => undefined); // awaited below; a failed poll must not leave it unhandled
        const seen: string[] = [];
        await until(
          "the VM window's analyser to peak at 1000 Hz",
          async () => {
            const p = await peakFrequency(vmPage);
            seen.push(p ? `${p.freq.toFixed(1)} Hz ${p.state}` : 'silent');
            return !!p && Math.abs(p.freq - 1000) < 20;
          },
          30_000,
          250,
        ).catch((err: Error) => assert.fail(`${err.message}; heard: ${seen.slice(-10).join(', ')}`));
        assert.match(await playing, /tone-play: done/);
      } finally {
        serial.close();
        await stopQemu(runtime, 'Demo');
      }
    },
    async (env) => {
      vmId = await createDemoVm(env, 'Demo');
      await kju(env, 'edit', 'Demo', '--sound', 'intel-hda');
    },
  );
});

test(
  'clipboard both ways in the VM window: Electron\'s clipboard reaches the guest byte-exact, the guest\'s text lands in it ("Share clipboard" in the More menu)',
  { skip: SKIP, timeout: 240_000 },
  async () => {
    let vmId = '';
    await withApp(
      async ({ app, page, runtime }) => {
        const vmPage = await startVmWindow(app, page, vmId);
        await vmPage.locator('canvas').first().waitFor({ timeout: 60_000 });
        const serial = await guestShell(runtime, 'Clip');
        try {
          const agent = guestClipboardAgent(serial);
          const hostText = 'Grüße aus Electron, 世界 ✓';
          await app.evaluate(({ clipboard }, t) => clipboard.writeText(t), hostText);
          const menu = await openMoreMenu(vmPage);
          assert.equal(await menu.getByTestId('clipboard-state').textContent(), 'Clipboard: off');
          const get = await agent('get');
          await vmPage.bringToFront(); // main reads the clipboard for the focused VM window only
          await menu.getByTestId('clipboard-share').click();
          await until('the VM window to show clipboard on', async () => (await vmPage.getByTestId('clipboard-state').textContent()) === 'Clipboard: on');
          assert.equal(await get.done(), '0');
          assert.equal(await guestAgentOutputHex(serial, get), Buffer.from(hostText, 'utf8').toString('hex'));

          const guestText = 'vom Gast: Grüße ✓ «kju»';
          const set = await agent('set -', `printf '${octal(guestText)}' | `);
          await until("Electron's clipboard to hold the guest's text", async () => (await app.evaluate(({ clipboard }) => clipboard.readText())) === guestText, 20_000, 200);
          assert.equal(await set.done(), '0');
        } finally {
          serial.close();
          await stopQemu(runtime, 'Clip');
        }
      },
      async (env) => {
        vmId = await createDemoVm(env, 'Clip');
        await kju(env, 'edit', 'Clip', '--clipboard');
      },
    );
  },
);

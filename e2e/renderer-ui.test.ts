// The real React UI in Chromium with a fake bridge made by the test page (the page boundary):
// the library lists and updates VMs; the VM view sends the right InputMessages for real key events.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, serveDir } from './helpers/chromium.js';
import type { InputMessage, VmSummary } from '../common/contract.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface UiProbe {
  calls: Array<{ method: string; args: unknown }>;
  inputs: InputMessage[];
  pulls(): number;
  pushVms(vms: VmSummary[]): void;
}
declare global {
  interface Window { kjuUi: UiProbe }
}

let dir: string;
let server: Server;
let browser: Browser;
let page: Page;
let base: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kju-ui-'));
  await build({ entryPoints: { ui: join(root, 'renderer/testing/ui-page.tsx') }, outdir: dir, bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', jsx: 'automatic', loader: { '.css': 'css' }, logLevel: 'warning' });
  // Same CSP as renderer/index.html: the UI must work under it.
  const csp = readFileSync(join(root, 'renderer/index.html'), 'utf8').match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
  assert.ok(csp, 'index.html carries a CSP');
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><link rel="stylesheet" href="ui.css"><div id="root"></div><script type="module" src="ui.js"></script>`);
  ({ server, base } = await serveDir(dir));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('404')) console.error('console:', m.text()); });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('library view lists the VMs from the bridge, with state badges and actions', async () => {
  await page.goto(`${base}#/`);
  const rows = page.locator('.vm-row');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2);
  const deb = page.locator('.vm-row[data-vm-id="deb"]');
  assert.match(await deb.innerText(), /Debian 12[\s\S]*Running[\s\S]*2 CPU · 2048 MiB · virtio-vga/);
  assert.equal(await deb.getByRole('button', { name: 'Pause' }).count(), 1);
  assert.equal(await deb.getByRole('button', { name: 'Open' }).isEnabled(), true);
  // Shut Down / Force Off live in the row's menu.
  await deb.getByRole('button', { name: 'More actions for Debian 12' }).click();
  assert.equal(await page.getByRole('menuitem', { name: 'Shut Down' }).isEnabled(), true);
  assert.equal(await page.getByRole('menuitem', { name: 'Delete…' }).isEnabled(), false, 'a running VM cannot be deleted');
  await deb.getByRole('button', { name: 'More actions for Debian 12' }).click();
  const win = page.locator('.vm-row[data-vm-id="win"]');
  assert.match(await win.innerText(), /Windows 11[\s\S]*Stopped[\s\S]*disk image missing/);
  assert.equal(await win.getByRole('button', { name: 'Open' }).count(), 0, 'a stopped VM has nothing to open');

  await win.getByRole('button', { name: 'Start' }).click();
  await win.locator('.badge-starting').waitFor();
  const calls = await page.evaluate(() => window.kjuUi.calls);
  assert.deepEqual(calls.map((c) => c.method), ['listVms', 'startVm']);
  assert.deepEqual(calls[1].args, { id: 'win' });
});

test('library view follows onVmsChanged', async () => {
  await page.evaluate(() => window.kjuUi.pushVms([
    { id: 'deb', name: 'Debian 12', state: 'paused', displayDevice: 'virtio-vga', memoryMiB: 2048, cpus: 2 },
    { id: 'new', name: 'Alpine', state: 'running', displayDevice: 'std', memoryMiB: 512, cpus: 1 },
  ]));
  await page.locator('.vm-row[data-vm-id="new"]').waitFor();
  assert.equal(await page.locator('.vm-row').count(), 2);
  assert.match(await page.locator('.vm-row[data-vm-id="deb"] .badge').innerText(), /Paused/);
});

test('VM view: key events on the canvas become QEMU key numbers; Ctrl+Alt toggles the grab', async () => {
  await page.goto(`${base}#/vm/deb`);
  const canvas = page.getByTestId('screen');
  await canvas.waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="resolution"]')?.textContent === '64×48');
  assert.equal(await page.getByTestId('transport').innerText(), 'copy');
  await canvas.focus();
  const since = await page.evaluate(() => window.kjuUi.inputs.length);
  await page.keyboard.press('KeyA');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  const keys = async () => (await page.evaluate(() => window.kjuUi.inputs)).slice(since).filter((m) => m.t === 'key');
  assert.deepEqual(await keys(), [
    { t: 'key', down: true, qnum: 0x1e }, { t: 'key', down: false, qnum: 0x1e },
    { t: 'key', down: true, qnum: 0xc8 }, { t: 'key', down: false, qnum: 0xc8 },
    { t: 'key', down: true, qnum: 0x1c }, { t: 'key', down: false, qnum: 0x1c },
  ]);

  assert.equal(await page.getByTestId('grab-state').innerText(), 'Not grabbed');
  await page.keyboard.down('Control');
  await page.keyboard.down('Alt');
  await page.keyboard.up('Alt');
  await page.keyboard.up('Control');
  await page.waitForFunction(() => document.querySelector('[data-testid="grab-state"]')?.textContent?.startsWith('Grabbed'));
  assert.equal(await page.getByTestId('grab-hint').innerText(), 'Press Ctrl+Alt to release');
  await page.keyboard.down('Control');
  await page.keyboard.down('Alt');
  await page.keyboard.up('Control');
  await page.keyboard.up('Alt');
  await page.waitForFunction(() => document.querySelector('[data-testid="grab-state"]')?.textContent === 'Not grabbed');

  // Ctrl+Alt+Delete typed for real is a chord for the guest, not the hotkey
  await page.keyboard.down('Control');
  await page.keyboard.down('Alt');
  await page.keyboard.press('Delete');
  await page.keyboard.up('Alt');
  await page.keyboard.up('Control');
  assert.equal(await page.getByTestId('grab-state').innerText(), 'Not grabbed');
  const tail = (await keys()).slice(-6);
  assert.deepEqual(tail.map((m) => (m as { qnum: number }).qnum), [0x1d, 0x38, 0xd3, 0xd3, 0x38, 0x1d]);
});

test('VM view: the key-combination menu sends a paced Ctrl+Alt+Del', async () => {
  const since = await page.evaluate(() => window.kjuUi.inputs.length);
  await page.getByLabel('Send key combination').selectOption('ctrl-alt-del');
  await page.waitForFunction((n) => window.kjuUi.inputs.length >= n + 6, since);
  const sent = (await page.evaluate(() => window.kjuUi.inputs)).slice(since);
  assert.deepEqual(sent, [
    { t: 'key', down: true, qnum: 0x1d }, { t: 'key', down: true, qnum: 0x38 }, { t: 'key', down: true, qnum: 0xd3 },
    { t: 'key', down: false, qnum: 0xd3 }, { t: 'key', down: false, qnum: 0x38 }, { t: 'key', down: false, qnum: 0x1d },
  ]);
});

test('VM view: a click in absolute mode sends the guest position and button', async () => {
  const since = await page.evaluate(() => window.kjuUi.inputs.length);
  const box = (await page.getByTestId('screen').boundingBox())!;
  // fit mode, 64x48 surface: half a guest pixel right and below the centre is guest pixel (32, 24)
  const k = Math.min(box.width / 64, box.height / 48);
  await page.mouse.click(box.x + box.width / 2 + k / 2, box.y + box.height / 2 + k / 2);
  const sent = (await page.evaluate(() => window.kjuUi.inputs)).slice(since);
  assert.deepEqual(sent.filter((m) => m.t === 'abs').at(-1), { t: 'abs', x: 32, y: 24 });
  assert.deepEqual(sent.filter((m) => m.t === 'button'), [{ t: 'button', down: true, button: 0 }, { t: 'button', down: false, button: 0 }]);
});

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
import { launchChromium, openMoreMenu, serveDir } from './helpers/chromium.js';
import type { DisplayMessage, InputMessage, VmSummary } from '../common/contract.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface UiProbe {
  calls: Array<{ method: string; args: unknown }>;
  inputs: InputMessage[];
  pulls(): number;
  pushVms(vms: VmSummary[]): void;
  setVms(vms: VmSummary[]): void;
  display: { auto(on: boolean): void; send(m: DisplayMessage): void; paint(): void };
}
declare global {
  interface Window {
    kjuUi: UiProbe;
  }
}

let dir: string;
let server: Server;
let browser: Browser;
let page: Page;
let base: string;
const shots = process.env.KJU_SCREENSHOTS;
/** Saves a PNG to look at when KJU_SCREENSHOTS names a directory. */
const shot = async (name: string) => {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kju-ui-'));
  await build({
    entryPoints: { ui: join(root, 'renderer/testing/ui-page.tsx') },
    outdir: dir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    jsx: 'automatic',
    loader: { '.css': 'css' },
    logLevel: 'warning',
  });
  // Same CSP as renderer/index.html: the UI must work under it.
  const csp = readFileSync(join(root, 'renderer/index.html'), 'utf8').match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
  assert.ok(csp, 'index.html carries a CSP');
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><link rel="stylesheet" href="ui.css"><div id="root"></div><script type="module" src="ui.js"></script>`,
  );
  ({ server, base } = await serveDir(dir));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('404')) console.error('console:', m.text());
  });
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
  const all = await page.evaluate(() => window.kjuUi.calls);
  // Each row asks for its thumbnail (VmThumbnail); apart from those, the list and the Start.
  assert.deepEqual([...new Set(all.filter((c) => c.method === 'thumbnail').map((c) => (c.args as { id: string }).id))].sort(), ['deb', 'win']);
  const calls = all.filter((c) => c.method !== 'thumbnail');
  assert.deepEqual(
    calls.map((c) => c.method),
    ['listVms', 'startVm'],
  );
  assert.deepEqual(calls[1].args, { id: 'win' });
});

test('library view follows onVmsChanged', async () => {
  await page.evaluate(() =>
    window.kjuUi.pushVms([
      { id: 'deb', name: 'Debian 12', state: 'paused', displayDevice: 'virtio-vga', memoryMiB: 2048, cpus: 2 },
      { id: 'new', name: 'Alpine', state: 'running', displayDevice: 'std', memoryMiB: 512, cpus: 1 },
    ]),
  );
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
    { t: 'key', down: true, qnum: 0x1e },
    { t: 'key', down: false, qnum: 0x1e },
    { t: 'key', down: true, qnum: 0xc8 },
    { t: 'key', down: false, qnum: 0xc8 },
    { t: 'key', down: true, qnum: 0x1c },
    { t: 'key', down: false, qnum: 0x1c },
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
  assert.deepEqual(
    tail.map((m) => (m as { qnum: number }).qnum),
    [0x1d, 0x38, 0xd3, 0xd3, 0x38, 0x1d],
  );
});

test('VM view: the key-combination menu sends a paced Ctrl+Alt+Del', async () => {
  const since = await page.evaluate(() => window.kjuUi.inputs.length);
  await page.getByLabel('Send key combination').selectOption('ctrl-alt-del');
  await page.waitForFunction((n) => window.kjuUi.inputs.slice(n).filter((m) => m.t === 'key').length >= 6, since);
  // only the keys: the window may also send its size to the guest (uiInfo) at any time meanwhile
  const sent = (await page.evaluate(() => window.kjuUi.inputs)).slice(since).filter((m) => m.t === 'key');
  assert.deepEqual(sent, [
    { t: 'key', down: true, qnum: 0x1d },
    { t: 'key', down: true, qnum: 0x38 },
    { t: 'key', down: true, qnum: 0xd3 },
    { t: 'key', down: false, qnum: 0xd3 },
    { t: 'key', down: false, qnum: 0x38 },
    { t: 'key', down: false, qnum: 0x1d },
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
  assert.deepEqual(
    sent.filter((m) => m.t === 'button'),
    [
      { t: 'button', down: true, button: 0 },
      { t: 'button', down: false, button: 0 },
    ],
  );
});

const NOTICE = 'KVM is present but does not run guests here (nested virtualization?); using software emulation, which is slower';
const deb: VmSummary = { id: 'deb', name: 'Debian 12', state: 'running', displayDevice: 'virtio-vga', memoryMiB: 2048, cpus: 2 };
const overlay = () => page.getByTestId('display-overlay');
/** the overlay's lines (title, reason, buttons), blank lines dropped */
const overlayText = async () => (await overlay().innerText()).replace(/\n+/g, '\n').trim();
async function overlayIs(kind: string | null): Promise<void> {
  await page.waitForFunction((k) => (document.querySelector('[data-testid="display-overlay"]')?.getAttribute('data-overlay') ?? null) === k, kind);
}

test('library: the accelerator notice as one banner, accelerator and transport in the running row', async () => {
  await page.goto(`${base}#/`);
  await page.locator('.vm-row').first().waitFor();
  assert.equal(await page.getByTestId('accel-banner').count(), 0, 'no notice, no banner');
  const alpine: VmSummary = { id: 'new', name: 'Alpine', state: 'running', displayDevice: 'std', memoryMiB: 512, cpus: 1, accelerator: 'tcg', acceleratorNotice: NOTICE, transport: 'copy' };
  await page.evaluate((v) => window.kjuUi.pushVms(v), [{ ...deb, accelerator: 'tcg', acceleratorNotice: NOTICE, transport: 'map' } as VmSummary, alpine]);
  await page.getByTestId('accel-banner').waitFor();
  assert.equal(await page.getByTestId('accel-banner').count(), 1, 'two VMs with the same notice: one banner');
  assert.equal(await page.getByTestId('accel-banner').innerText(), `⚠ ${NOTICE}`);
  assert.match(await page.locator('.vm-row[data-vm-id="deb"] .vm-meta').innerText(), /virtio-vga · TCG · shared memory$/);
  assert.match(await page.locator('.vm-row[data-vm-id="new"] .vm-meta').innerText(), /std · TCG · copy$/);
  await shot('library-banner');
  await page.evaluate((v) => window.kjuUi.pushVms(v), [deb, { ...alpine, state: 'stopped', accelerator: undefined, acceleratorNotice: undefined, transport: undefined } as VmSummary]);
  await page.waitForFunction(() => !document.querySelector('[data-testid="accel-banner"]'));
  assert.doesNotMatch(await page.locator('.vm-row[data-vm-id="new"] .vm-meta').innerText(), /TCG/);
});

test('library: Diagnostics lists the backend’s lines with their status and fix; its accelerator warning becomes the banner', async () => {
  const before = (await page.evaluate(() => window.kjuUi.calls)).length;
  await page.getByRole('button', { name: 'Diagnostics' }).click();
  const dialog = page.getByRole('dialog', { name: 'Diagnostics' });
  await dialog.locator('.diagnostic').first().waitFor();
  // running VMs' rows keep asking for thumbnails meanwhile; apart from those, one diagnostics call
  const calls = (await page.evaluate(() => window.kjuUi.calls)).slice(before).filter((c) => c.method !== 'thumbnail');
  assert.deepEqual(calls, [{ method: 'diagnostics', args: {} }]);
  const lines = await dialog.locator('.diagnostic').evaluateAll((els) => els.map((e) => [e.getAttribute('data-diagnostic'), e.getAttribute('data-status'), (e as HTMLElement).innerText]));
  assert.deepEqual(
    lines.map((l) => [l[0], l[1]]),
    [
      ['qemu', 'OK'],
      ['accelerator', 'WARN'],
      ['uefi', 'FAIL'],
    ],
  );
  assert.match(lines[2][2]!, /FAIL[\s\S]*UEFI firmware[\s\S]*no OVMF[\s\S]*Fix: sudo apt install ovmf/);
  await shot('diagnostics');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('accel-banner').innerText(), `⚠ ${NOTICE}`);
});

test('VM view: Starting QEMU…, then Waiting for the guest’s display…, gone with the first surface; display off with its reason', async () => {
  await page.goto(`${base}#/`);
  await page.locator('.vm-row').first().waitFor();
  await page.evaluate(() => window.kjuUi.display.auto(false));
  await page.evaluate((v) => window.kjuUi.setVms(v), [{ ...deb, state: 'starting' } as VmSummary]);
  await page.goto(`${base}#/vm/deb`);
  await overlayIs('starting');
  assert.equal(await overlayText(), 'Starting QEMU…');
  assert.equal(await page.getByTestId('screen').count(), 0, 'no canvas while QEMU starts');
  await shot('vm-starting');

  await page.evaluate((v) => window.kjuUi.setVms(v), [{ ...deb, accelerator: 'tcg', acceleratorNotice: NOTICE, transport: 'map' } as VmSummary]);
  await overlayIs('waiting');
  assert.equal(await overlayText(), "Waiting for the guest's display…");
  await page.getByTestId('screen').waitFor();
  assert.equal(await page.getByTestId('accelerator').innerText(), 'TCG');
  assert.equal(await page.getByTestId('transport').innerText(), 'shared memory', 'before a surface: the backend’s word');
  assert.equal(await page.getByTestId('accel-notice').innerText(), `⚠ ${NOTICE}`);
  await shot('vm-waiting');

  await page.evaluate(() => window.kjuUi.display.paint());
  await overlayIs(null);
  assert.equal(await page.getByTestId('transport').innerText(), 'copy', 'the surface’s own transport wins');
  assert.equal(await page.getByTestId('transport').getAttribute('data-transport'), 'copy');
  await shot('vm-surface');

  await page.evaluate(() => window.kjuUi.display.send({ t: 'disabled' }));
  await overlayIs('off');
  assert.equal(await overlayText(), 'Guest display off\nthe guest turned its display off');
  await page.evaluate(() => window.kjuUi.display.paint());
  await overlayIs(null);

  await page.evaluate(() => window.kjuUi.display.send({ t: 'closed', reason: 'QEMU closed the display connection' }));
  await overlayIs('off');
  assert.equal(await overlayText(), 'Guest display off\nQEMU closed the display connection');
  await shot('vm-closed');

  await page.evaluate((v) => window.kjuUi.setVms(v), [{ ...deb, state: 'crashed', problem: 'qemu-system-x86_64: terminating on signal 9' } as VmSummary]);
  await page.waitForFunction(() => !document.querySelector('[data-testid="screen"]'));
  await overlayIs('off');
  assert.equal(await overlayText(), 'Guest display off\nDebian 12 crashed: qemu-system-x86_64: terminating on signal 9\nStart');
  assert.equal(await page.getByTestId('accelerator').count(), 0, 'a crashed VM runs on nothing');
  assert.equal(await page.getByTestId('transport').innerText(), '—');
  await shot('vm-crashed');
  await page.evaluate(() => window.kjuUi.display.auto(true));
});

const win: VmSummary = { id: 'win', name: 'Windows 11', state: 'stopped', displayDevice: 'std', memoryMiB: 4096, cpus: 2 };
const callsOf = async (method: string) => (await page.evaluate(() => window.kjuUi.calls)).filter((c) => c.method === method).map((c) => c.args);

test('settings of a stopped VM: a folders list with read-only toggles and a forward table, saved with editVm', async () => {
  await page.goto(`${base}#/`);
  await page.locator('.vm-row').first().waitFor();
  await page.evaluate((v) => window.kjuUi.setVms(v), [deb, win]);
  await page.getByRole('button', { name: 'More actions for Windows 11' }).click();
  await page.getByRole('menuitem', { name: 'Edit…' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit “Windows 11”' });
  const folders = edit.getByRole('group', { name: 'Shared folders' });
  assert.match(await folders.innerText(), /No folders shared/);
  await folders.getByLabel('Folder to share').fill('Shared');
  await folders.getByRole('button', { name: 'Add Folder' }).click();
  assert.match(await folders.getByRole('alert').innerText(), /starts with \//);
  await folders.getByLabel('Folder to share').fill('/home/u/Shared');
  await folders.getByRole('button', { name: 'Add Folder' }).click();
  await folders.getByLabel('Folder to share').fill('/srv/media');
  await folders.getByRole('button', { name: 'Add Folder' }).click();
  assert.deepEqual(await folders.locator('.share-path').allInnerTexts(), ['share0: /home/u/Shared', 'share1: /srv/media']);
  await folders.getByLabel('Read-only /home/u/Shared').check();
  await folders.getByRole('button', { name: 'Remove folder /srv/media' }).click();
  assert.match(await folders.innerText(), /mount -t 9p -o trans=virtio,version=9p2000\.L share0 \/mnt/);

  const table = edit.getByRole('group', { name: 'Port forwards' });
  assert.match(await table.innerText(), /when the VM starts/);
  await table.getByLabel('Forward host port').fill('99999');
  await table.getByLabel('Forward guest port').fill('80');
  await table.getByRole('button', { name: 'Add' }).click();
  assert.match(await table.getByRole('alert').innerText(), /host port is a whole number/);
  await table.getByLabel('Forward host port').fill('8080');
  await table.getByRole('button', { name: 'Add' }).click();
  await table.getByLabel('Forward protocol').selectOption('udp');
  await table.getByLabel('Forward host address').fill('0.0.0.0');
  await table.getByLabel('Forward host port').fill('5353');
  await table.getByLabel('Forward guest port').fill('53');
  await table.getByRole('button', { name: 'Add' }).click();
  await table.locator('tr[data-forward="udp 0.0.0.0:5353 → 53"]').waitFor({ timeout: 5000 }); // React renders the new row after the click returns
  assert.deepEqual(await table.locator('tr[data-forward]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-forward'))), ['tcp 127.0.0.1:8080 → 80', 'udp 0.0.0.0:5353 → 53']);
  await table.getByRole('button', { name: 'Remove forward udp 0.0.0.0:5353 → 53' }).click();
  await shot('edit-links-stopped');
  const before = (await callsOf('addForward')).length;
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  const saved = await callsOf('editVm');
  assert.deepEqual(saved.at(-1), {
    id: 'win',
    changes: { shares: [{ path: '/home/u/Shared', readOnly: true }], forwards: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 }] },
  });
  assert.equal((await callsOf('addForward')).length, before, 'a stopped VM gets no live forward calls');
});

test('settings of a running VM: folders locked, forwards listed, added and removed live; a busy port is shown', async () => {
  await page.getByRole('button', { name: 'More actions for Debian 12' }).click();
  await page.getByRole('menuitem', { name: 'Edit…' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit “Debian 12”' });
  assert.equal(await edit.getByLabel('Folder to share').isDisabled(), true);
  const table = edit.getByRole('group', { name: 'Port forwards' });
  assert.match(await table.innerText(), /changes apply now/);
  const rows = () => table.locator('tr[data-forward]').evaluateAll((r) => r.map((x) => x.getAttribute('data-forward')));
  await table.locator('tr[data-forward]').first().waitFor();
  assert.deepEqual(await rows(), ['tcp 127.0.0.1:2222 → 22']);
  await table.getByLabel('Forward host port').fill('8080');
  await table.getByLabel('Forward guest port').fill('80');
  await table.getByRole('button', { name: 'Add' }).click();
  await table.locator('tr[data-forward="tcp 127.0.0.1:8080 → 80"]').waitFor();
  assert.deepEqual((await callsOf('addForward')).at(-1), { id: 'deb', forward: { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 } });
  await table.getByLabel('Forward host port').fill('22');
  await table.getByLabel('Forward guest port').fill('22');
  await table.getByRole('button', { name: 'Add' }).click();
  assert.match(await table.getByRole('alert').innerText(), /port 22 .* is in use/);
  await table.getByRole('button', { name: 'Remove forward tcp 127.0.0.1:2222 → 22' }).click();
  await table.locator('tr[data-forward="tcp 127.0.0.1:2222 → 22"]').waitFor({ state: 'detached' });
  assert.deepEqual(await rows(), ['tcp 127.0.0.1:8080 → 80']);
  assert.deepEqual((await callsOf('removeForward')).at(-1), { id: 'deb', forward: { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 2222 } });
  await shot('edit-links-running');
  await edit.getByRole('button', { name: 'Cancel' }).click();
});

test('VM window: the USB menu lists the host devices and attaches/detaches them', async () => {
  await page.goto(`${base}#/vm/deb`);
  await (await openMoreMenu(page)).getByRole('button', { name: 'USB' }).click();
  const menu = page.getByRole('menu', { name: 'USB devices' });
  await menu.locator('li[data-usb]').first().waitFor();
  assert.deepEqual(await menu.locator('li[data-usb]').allInnerTexts(), ['046d:c52b Logitech USB Receiver\n1-2\nAttach', '0781:5581 Ultra\n2-1.4\nAttach']);
  await menu.locator('li[data-usb="2-1.4"]').getByRole('menuitem', { name: 'Attach' }).click();
  await menu.locator('li[data-usb="2-1.4"]').getByRole('menuitem', { name: 'Detach' }).waitFor();
  assert.deepEqual((await callsOf('attachUsb')).at(-1), { id: 'deb', device: '2-1.4' });
  assert.equal(await menu.locator('li[data-usb="1-2"]').getByRole('menuitem').innerText(), 'Attach');
  await shot('usb-menu');
  await menu.locator('li[data-usb="2-1.4"]').getByRole('menuitem', { name: 'Detach' }).click();
  await menu.locator('li[data-usb="2-1.4"]').getByRole('menuitem', { name: 'Attach' }).waitFor();
  assert.deepEqual((await callsOf('detachUsb')).at(-1), { id: 'deb', device: '2-1.4' });
});

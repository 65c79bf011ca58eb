// The library window's dialogs as a user meets them, in Chromium against kju serve over the local
// backend (started in this process so the test can listen to the VM's QMP events): the wizard stops
// a hidden-character name and a missing ISO at their own step and offers Share clipboard; the Edit
// dialog has the clipboard switch and the kernel fields, shows a refusal beside its field in view and
// clears it when the field changes, and greys out hardware while the VM runs; library Reset asks first.
// Temp KJU_LIBRARY and XDG_RUNTIME_DIR; the VM boots the demo kernel under TCG.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { ensureDemoGuest } from '../main/testing/guest.js';
import type { LocalBackend } from '../main/backend/local-backend.js';
import type { ServeHandle } from '../main/serve/serve.js';
import type { QmpEvent } from '../main/qmp/qmp-types.js';
import { CHROMIUM, CHROMIUM_ARGS, root, until } from './helpers/real-serve.js';

const tmp = mkdtempSync(join(tmpdir(), 'kju-library-dialogs-'));
let backend: LocalBackend | undefined;
let serve: ServeHandle | undefined;
let browser: Browser | undefined;

after(async () => {
  await browser?.close().catch(() => {});
  await backend?.call('stopVm', { id: 'Dlg', force: true }).catch(() => {});
  await serve?.close();
  backend?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const row = (page: Page, name: string) => page.locator(`.vm-row[data-vm-name="${name}"]`);
const badge = (page: Page, name: string) => row(page, name).locator('.badge');
async function menu(page: Page, vm: string, item: string): Promise<void> {
  await page.getByRole('button', { name: `More actions for ${vm}` }).click();
  await page.getByRole('menuitem', { name: item }).click();
}
/** The element lies wholly inside its scrolled dialog's visible box (not below the fold). */
async function inView(el: Locator): Promise<boolean> {
  return el.evaluate((e) => {
    const box = e.getBoundingClientRect();
    const modal = e.closest('.modal')!.getBoundingClientRect();
    return box.height > 0 && box.top >= modal.top && box.bottom <= modal.bottom && box.bottom <= window.innerHeight;
  });
}

test('library dialogs: wizard checks at each step, Edit has clipboard and kernel fields, errors beside their field, running VM greyed, Reset asks', async () => {
  const g = await ensureDemoGuest();
  process.env.KJU_LIBRARY = join(tmp, 'library');
  process.env.XDG_RUNTIME_DIR = join(tmp, 'run');
  process.env.KJU_ACCEL = 'tcg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  const { createLocalBackend } = await import('../main/backend/local-backend.js');
  const { startServe } = await import('../main/serve/serve.js');
  backend = await createLocalBackend({ accel: 'tcg', allow: [tmp] });
  serve = await startServe({ backend, staticDir: join(root, 'app/out/renderer'), log: () => {} });

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  // A short window, as a laptop's: the Edit dialog scrolls.
  const page = await browser.newPage({ viewport: { width: 1100, height: 560 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(serve.url);
  await page.getByText('No virtual machines yet').waitFor();

  // The wizard: a bidi-override name and a zero-width one are refused on the name step, in one line.
  await page.getByRole('button', { name: 'New VM…' }).click();
  const wizard = page.getByRole('dialog', { name: 'New Virtual Machine' });
  await wizard.getByLabel('Name').fill('invoice\u202efdp.exe');
  await wizard.getByRole('button', { name: 'Next' }).click();
  const nameError = wizard.locator('#vm-name-error');
  await nameError.waitFor();
  assert.match(await nameError.innerText(), /^The name contains the invisible formatting character U\+202E \(bidi override/);
  await wizard.getByLabel('Name').fill('Dl\u200bg');
  assert.match(await nameError.innerText(), /U\+200B/);
  await wizard.getByLabel('Name').fill('Dlg');
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByRole('button', { name: 'Next' }).click();
  // Hardware: Share clipboard is there, off as the presets have it; turned on.
  const share = wizard.getByLabel('Share clipboard');
  assert.equal(await share.isChecked(), false);
  await share.check();
  await wizard.getByLabel('Memory (MiB)').fill('128');
  await wizard.getByLabel('CPUs').fill('1');
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByText('No disk').click();
  await wizard.getByRole('button', { name: 'Next' }).click();
  // A missing ISO stops here, said by the backend, not at Create.
  await wizard.getByLabel('ISO image (optional)').fill(join(tmp, 'missing.iso'));
  await wizard.getByRole('button', { name: 'Next' }).click();
  const isoError = wizard.locator('#vm-iso-error');
  await isoError.waitFor();
  assert.match(await isoError.innerText(), /^The ISO .*missing\.iso does not exist/);
  assert.equal(await wizard.getByRole('button', { name: 'Create' }).count(), 0, 'still on the ISO step');
  await wizard.getByLabel('ISO image (optional)').fill('');
  await wizard.getByText('Advanced: boot a kernel directly').click();
  await wizard.getByLabel('Kernel', { exact: true }).fill(g.kernel);
  await wizard.getByLabel('Initrd').fill(g.initrd);
  await wizard.getByLabel('Kernel command line').fill(g.append);
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByRole('button', { name: 'Create' }).click();
  await row(page, 'Dlg').waitFor({ timeout: 30_000 });
  const vm = await backend.sessions.library.get('Dlg');
  assert.equal(vm.config.clipboard, true, 'the switch reached the config');

  // Edit (stopped): the clipboard switch and the kernel fields show the config.
  await menu(page, 'Dlg', 'Edit…');
  const edit = page.getByRole('dialog', { name: 'Edit “Dlg”' });
  assert.equal(await edit.getByLabel('Share clipboard').isChecked(), true);
  assert.equal(await edit.getByLabel('Kernel', { exact: true }).inputValue(), g.kernel);
  assert.equal(await edit.getByLabel('Initrd').inputValue(), g.initrd);
  assert.equal(await edit.getByLabel('Kernel command line').inputValue(), g.append);
  // A kernel that is not there: refused beside the Kernel field, in view, naming the kernel, not config.json.
  await edit.getByLabel('Kernel', { exact: true }).fill(join(tmp, 'vmlinuz-gone'));
  await edit.getByLabel('Share clipboard').uncheck();
  await edit.getByRole('button', { name: 'Save' }).click();
  const kernelError = edit
    .locator('.field-bad')
    .filter({ has: page.locator('#edit-kernel') })
    .getByRole('alert');
  await kernelError.waitFor();
  assert.match(await kernelError.innerText(), /the kernel .*vmlinuz-gone does not exist/);
  assert.doesNotMatch(await edit.innerText(), /config\.json/);
  await until('the kernel error scrolled into view', () => inView(kernelError));
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'edit-kernel');
  // Two heads on std: refused beside Displays, no config.json; clears as soon as Displays changes.
  await edit.getByLabel('Kernel', { exact: true }).fill(g.kernel);
  assert.equal(await kernelError.count(), 0, 'gone once the field changed');
  await edit.getByLabel('Display device').selectOption('std');
  await edit.getByLabel('Displays').selectOption('2');
  await edit.getByRole('button', { name: 'Save' }).click();
  const headsError = edit
    .locator('.field-bad')
    .filter({ has: page.locator('#edit-displays') })
    .getByRole('alert');
  await headsError.waitFor();
  assert.match(await headsError.innerText(), /displays: 2 heads need the display device virtio-vga/);
  assert.doesNotMatch(await headsError.innerText(), /config\.json/);
  assert.ok(await inView(headsError));
  await edit.getByLabel('Displays').selectOption('1');
  assert.equal(await headsError.count(), 0);
  await edit.getByLabel('Display device').selectOption('virtio-vga');
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  assert.equal((await backend.sessions.library.get('Dlg')).config.clipboard, false);

  // Running: hardware is greyed out with one line saying why; port forwards stay live.
  await row(page, 'Dlg').getByRole('button', { name: 'Start' }).click();
  await until('Dlg running', async () => (await badge(page, 'Dlg').innerText()) === 'Running', 60_000);
  await menu(page, 'Dlg', 'Edit…');
  const locked = edit.getByTestId('edit-locked');
  await locked.waitFor();
  assert.match(await locked.innerText(), /^Dlg is running: hardware can be changed once it is shut down; port forwards change now\.$/);
  for (const label of ['Memory (MiB)', 'CPUs', 'Display device', 'Sound device', 'Share clipboard', 'ISO image', 'TPM 2.0', 'Folder to share']) {
    assert.equal(await edit.getByLabel(label, { exact: true }).isDisabled(), true, `${label} is disabled`);
  }
  assert.equal(await edit.getByLabel('Forward host port').isDisabled(), false, 'forwards change live');
  assert.equal(await edit.getByRole('button', { name: 'Save' }).isDisabled(), true);
  await edit.getByRole('button', { name: 'Cancel' }).click();

  // Reset from the library asks the VM window's question; No leaves the guest alone, Yes resets it.
  const session = backend.sessions.sessionOf(vm.config.id);
  assert.ok(session, 'serve owns the VM');
  const resets: QmpEvent[] = [];
  session.qmp.on('event', (e: QmpEvent) => e.event === 'RESET' && resets.push(e));
  const asked: string[] = [];
  let answer = false;
  page.on('dialog', (d) => {
    asked.push(d.message());
    void (answer ? d.accept() : d.dismiss());
  });
  await menu(page, 'Dlg', 'Reset');
  await until('the question', () => asked.length === 1);
  assert.equal(asked[0], 'Reset Dlg? Like pressing a reset button: unsaved work in the guest is lost.');
  answer = true;
  await menu(page, 'Dlg', 'Reset');
  await until('QEMU reports the reset', () => resets.length > 0, 20_000);
  assert.equal(asked.length, 2);
  assert.equal(resets.length, 1, 'one reset: the one answered Yes');
  assert.deepEqual(errors, []);
});

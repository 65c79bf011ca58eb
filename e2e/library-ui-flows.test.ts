// The library UI end to end: the real React app in Chromium against kju serve over the local backend
// (the code `kju serve` runs, started in this process so the test can ask the VM's QEMU what is in
// its CD-ROM drive: QEMU takes one QMP client, and serve's session holds it). Temp KJU_LIBRARY and
// XDG_RUNTIME_DIR; the VM boots the demo kernel under TCG.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureDemoGuest } from '../main/testing/guest.js';
import { resolveInBundle } from '../main/library/bundle-files.js';
import type { LocalBackend } from '../main/backend/local-backend.js';
import type { ServeHandle } from '../main/serve/serve.js';
import { queryCdrom } from '../main/session/media.js';
import { CHROMIUM, CHROMIUM_ARGS, root, until } from './helpers/real-serve.js';

const execFileP = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'kju-library-ui-'));
const lib = join(tmp, 'library');
const shots = process.env.KJU_SCREENSHOTS ?? join(tmp, 'shots');
let backend: LocalBackend | undefined;
let serve: ServeHandle | undefined;
let browser: Browser | undefined;

after(async () => {
  await browser?.close().catch(() => {});
  for (const name of ['Wiz', 'Wiz clone']) await backend?.call('stopVm', { id: name, force: true }).catch(() => {});
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

test('create through the wizard, run, pause, ISO while running, suspend/resume, edit locked while running, force off, snapshot, clone, delete to trash', async () => {
  const g = await ensureDemoGuest();
  process.env.KJU_LIBRARY = lib;
  process.env.XDG_RUNTIME_DIR = join(tmp, 'run');
  process.env.KJU_ACCEL = 'tcg';
  const { mkdirSync } = await import('node:fs');
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  mkdirSync(shots, { recursive: true });
  const { createLocalBackend } = await import('../main/backend/local-backend.js');
  const { startServe } = await import('../main/serve/serve.js');
  backend = await createLocalBackend({ accel: 'tcg', allow: [tmp] }); // the test's ISO lives in a temp folder
  serve = await startServe({ backend, staticDir: join(root, 'app/out/renderer'), log: () => {} });
  const iso = join(tmp, 'tiny.iso');
  writeFileSync(iso, Buffer.alloc(64 * 1024, 0x55)); // any file is a raw CD image to QEMU

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(serve.url);
  await page.getByText('No virtual machines yet').waitFor();

  // The wizard: name → preset → hardware (an impossible memory size is refused inline) → disk → ISO/advanced → summary.
  await page.getByRole('button', { name: 'New VM…' }).click();
  const wizard = page.getByRole('dialog', { name: 'New Virtual Machine' });
  await wizard.getByLabel('Name').fill('Wiz');
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByText('DOS / FreeDOS').waitFor();
  assert.match(await wizard.locator('.preset.chosen').innerText(), /Linux[\s\S]*virtio-vga/);
  await wizard.getByRole('button', { name: 'Next' }).click();
  const host = await backend.call('hostLimits', {});
  assert.ok(host.ok);
  await wizard.getByLabel('Memory (MiB)').fill(String(host.value.memoryMiB + 1));
  await wizard.getByRole('button', { name: 'Next' }).click();
  const memError = wizard.locator('#vm-memoryMiB-error');
  await memError.waitFor();
  assert.match(await memError.innerText(), new RegExp(`This host has ${host.value.memoryMiB} MiB`));
  assert.equal(await wizard.getByLabel('Memory (MiB)').getAttribute('aria-invalid'), 'true');
  await wizard.getByLabel('Memory (MiB)').fill('256');
  await wizard.getByLabel('CPUs').fill('1');
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByLabel('Size').fill('64M');
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByText('Advanced: boot a kernel directly').click();
  await wizard.getByLabel('Kernel', { exact: true }).fill(g.kernel);
  await wizard.getByLabel('Initrd').fill(g.initrd);
  await wizard.getByLabel('Kernel command line').fill(g.append);
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByRole('button', { name: 'Create' }).waitFor();
  await page.screenshot({ path: join(shots, 'wizard-summary.png') });
  const listed = await backend.call('listVms', {});
  assert.ok(listed.ok && listed.value.length === 0, 'nothing was created by the refused step');
  await wizard.getByRole('button', { name: 'Create' }).click();
  await row(page, 'Wiz').waitFor({ timeout: 30_000 });
  assert.equal(await wizard.count(), 0, 'the wizard closed');

  const vm = await backend.sessions.library.get('Wiz');
  const disk = resolveInBundle(vm.dir, vm.config.disks[0].file);
  const info = JSON.parse((await execFileP('qemu-img', ['info', '--output=json', disk])).stdout) as { format: string; 'virtual-size': number };
  assert.equal(info.format, 'qcow2');
  assert.equal(info['virtual-size'], 67108864);
  assert.equal(vm.config.memoryMiB, 256);
  assert.equal(vm.config.kernel, g.kernel);

  // Start, pause, continue from the library.
  await row(page, 'Wiz').getByRole('button', { name: 'Start' }).click();
  await until('Wiz to show Running', async () => (await badge(page, 'Wiz').innerText()) === 'Running', 60_000);
  await row(page, 'Wiz').getByRole('button', { name: 'Pause' }).click();
  await until('Paused', async () => (await badge(page, 'Wiz').innerText()) === 'Paused', 20_000);
  await row(page, 'Wiz').getByRole('button', { name: 'Continue' }).click();
  await until('Running again', async () => (await badge(page, 'Wiz').innerText()) === 'Running', 20_000);

  // Edit while running: hardware is greyed out with the reason (the backend would refuse it), nothing is sent.
  await menu(page, 'Wiz', 'Edit…');
  const edit = page.getByRole('dialog', { name: 'Edit “Wiz”' });
  assert.match(await edit.getByTestId('edit-locked').innerText(), /Wiz is running: hardware can be changed once it is shut down/);
  assert.equal(await edit.getByLabel('Memory (MiB)').isDisabled(), true);
  assert.equal(await edit.getByRole('button', { name: 'Save' }).isDisabled(), true);
  await edit.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await backend.sessions.library.get('Wiz')).config.memoryMiB, 256);

  // The VM window: attach an ISO while it runs; QEMU's own query-block shows it in the drive.
  await page.goto(`${serve.origin}/#/vm/${vm.config.id}?token=${serve.token}`);
  await page.getByRole('button', { name: 'CD: empty' }).click();
  await page.getByLabel('ISO image path on the host').fill(iso);
  await page.getByRole('button', { name: 'Attach' }).click();
  await page.getByRole('button', { name: 'CD: tiny.iso' }).waitFor({ timeout: 20_000 });
  const session = backend.sessions.sessionOf(vm.config.id);
  assert.ok(session, 'serve owns the VM');
  assert.equal(await queryCdrom(session.qmp), iso);
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  await page.goto(serve.url);

  // Suspend → Suspended → Resume → Running, with the disc still in the drive.
  await row(page, 'Wiz').waitFor();
  await menu(page, 'Wiz', 'Suspend');
  await until('Suspended', async () => (await badge(page, 'Wiz').innerText()) === 'Suspended', 120_000, 200);
  assert.ok(existsSync(join(vm.dir, 'states')));
  await row(page, 'Wiz').getByRole('button', { name: 'Resume' }).click();
  await until('Running after resume', async () => (await badge(page, 'Wiz').innerText()) === 'Running', 120_000, 200);
  const resumed = backend.sessions.sessionOf(vm.config.id);
  assert.ok(resumed);
  assert.equal(await queryCdrom(resumed.qmp), iso);

  // Force off, with its confirmation.
  await menu(page, 'Wiz', 'Force Off…');
  await page.getByRole('dialog', { name: 'Force off “Wiz”?' }).getByRole('button', { name: 'Force Off' }).click();
  await until('Stopped', async () => (await badge(page, 'Wiz').innerText()) === 'Stopped', 30_000, 200);

  // A disk snapshot of the stopped VM.
  await menu(page, 'Wiz', 'Snapshots…');
  const snaps = page.getByRole('dialog', { name: 'Snapshots of “Wiz”' });
  await snaps.getByLabel('New snapshot name').fill('clean');
  await snaps.getByRole('button', { name: 'Take Snapshot' }).click();
  await snaps.locator('[data-snapshot="clean"]').waitFor({ timeout: 20_000 });
  await snaps.getByRole('button', { name: 'Done' }).click();

  // A linked clone would hide that snapshot in its read-only base: refused, saying so; deleting the snapshot lets it through.
  await menu(page, 'Wiz', 'Clone…');
  const refused = page.getByRole('dialog', { name: 'Clone “Wiz”' });
  await refused.getByLabel('Name of the copy').fill('Wiz clone');
  await refused.getByRole('button', { name: 'Clone' }).click();
  await until('the clone dialog to name the snapshot', async () => /would hide its snapshots.*clean/.test(await refused.getByRole('alert').innerText()), 20_000, 200);
  await refused.getByRole('button', { name: 'Cancel' }).click();
  await menu(page, 'Wiz', 'Snapshots…');
  await snaps.locator('[data-snapshot="clean"]').getByRole('button', { name: 'Delete' }).click();
  await snaps.getByText('No snapshots yet.').waitFor({ timeout: 20_000 });
  await snaps.getByRole('button', { name: 'Done' }).click();

  // Linked clone, then the clone to the trash.
  await menu(page, 'Wiz', 'Clone…');
  const clone = page.getByRole('dialog', { name: 'Clone “Wiz”' });
  assert.equal(await clone.getByLabel('Name of the copy').inputValue(), 'Wiz copy');
  await clone.getByLabel('Name of the copy').fill('Wiz clone');
  await clone.getByRole('button', { name: 'Clone' }).click();
  await row(page, 'Wiz clone').waitFor({ timeout: 30_000 });
  const cloned = await backend.sessions.library.get('Wiz clone');
  assert.equal(cloned.config.clonedFrom?.linked, true);
  await page.screenshot({ path: join(shots, 'library.png') });

  await menu(page, 'Wiz clone', 'Delete…');
  await page.getByRole('dialog', { name: 'Delete “Wiz clone”?' }).getByRole('button', { name: 'Move to Trash' }).click();
  await row(page, 'Wiz clone').waitFor({ state: 'detached', timeout: 20_000 });
  assert.ok(!existsSync(cloned.dir));
  const trashed = readdirSync(join(lib, '.Trash'));
  assert.equal(trashed.length, 1);
  assert.match(trashed[0], /^Wiz clone .*\.kju$/);
  assert.deepEqual(errors, []);
});

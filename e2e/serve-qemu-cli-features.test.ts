// The rest of the VM window's features through the built CLI, as a user runs it (`node bin/kju.mjs`
// → app/out; serve-qemu-cli does display, input and sound): `kju create` a two-head Demo VM sharing
// its clipboard, `kju serve`, start it from the real React app in Chromium, then the guest follows
// the window (kju screenshot and the page agree), the Display switcher shows head 1 as `kju
// screenshot --head 1` has it, the clipboard goes both ways, and the library's thumbnail shows the
// guest's screen, live and after `kju stop`. One guest for the file; the steps are the helpers the
// in-process serve tests use.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { decodePng, type RgbImage } from '../main/display/screenshot.js';
import { ensureDemoGuest } from '../main/testing/guest.js';
import { kjuScratch } from '../main/testing/kju-scratch.js';
import { SerialConsole } from '../main/testing/serial-console.js';
import { libraryVmRuntimeDir } from '../main/qemu/runtime-dir.js';
import { builtKju, startBuiltServe, type BuiltServe } from './helpers/built-serve.js';
import { guestClipboardAgent, guestTextReachesPage, pageClipboardReachesGuest } from './helpers/guest-clipboard.js';
import { canvasImage, CHROMIUM, CHROMIUM_ARGS, describeDiff, sameImage, until } from './helpers/real-serve.js';
import { expectedThumbnail, savedThumbnail, thumbnailOf } from './helpers/thumbnails.js';
import { fitDisplayArea, showHead } from './helpers/vm-page.js';

const s = kjuScratch('kju-serve-cli-features', { bundle: true });
const kju = builtKju(s.env);
let shots = 0;

/** `kju screenshot Duo --head N` (over the serving kju's kju.sock), decoded. */
async function kjuScreenshot(head: number): Promise<RgbImage> {
  const file = join(s.dir, `shot-${shots++}.png`);
  await kju('screenshot', 'Duo', file, '--head', String(head));
  return decodePng(readFileSync(file));
}

describe('kju serve from the built CLI: resize, heads, clipboard and thumbnails on one two-head guest', () => {
  let serve: BuiltServe;
  let browser: Browser;
  let library: Page;
  let vm: Page;
  let serial: SerialConsole;
  const errors: string[] = [];
  const t0 = Date.now();

  before(async () => {
    const g = await ensureDemoGuest();
    const created = await kju(
      'create',
      'Duo',
      '--preset',
      'linux',
      '--memory',
      '256',
      '--cpus',
      '1',
      '--display',
      'virtio-vga',
      '--displays',
      '2',
      '--clipboard',
      '--sound',
      'none',
      '--no-disk',
      '--kernel',
      g.kernel,
      '--initrd',
      g.initrd,
      '--append',
      `${g.append} kju.modeset=all`,
      '--json',
    );
    const { bundle, config } = JSON.parse(created.stdout) as { bundle: string; config: { id: string } };
    serve = await startBuiltServe(s.env);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1300, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    library = await context.newPage();
    vm = await context.newPage();
    for (const p of [library, vm]) p.on('pageerror', (e) => errors.push(e.message));
    await library.goto(serve.pageUrl('/'));
    await library.locator('.vm-row[data-vm-name="Duo"]').waitFor({ timeout: 20_000 });
    assert.equal((await thumbnailOf(library, 'Duo')).live, 'none', 'a VM never run has no thumbnail');
    await vm.goto(serve.pageUrl(`/vm/${config.id}`));
    await vm.getByRole('button', { name: 'Start' }).click({ timeout: 20_000 });
    await vm.waitForFunction(() => !!window.__kju?.surfaceSize(), undefined, { timeout: 60_000 });
    serial = await SerialConsole.connect(libraryVmRuntimeDir({ dir: bundle, config: { id: config.id, name: 'Duo' } }, join(s.runtime, 'kju')).serialSocket);
    await until(
      'the guest shell',
      () =>
        serial.run('true', { timeoutMs: 3_000 }).then(
          () => true,
          () => false,
        ),
      120_000,
      500,
    );
    console.log(`# booted from the page in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    serial?.close();
    await browser?.close().catch(() => {});
    await kju('stop', 'Duo', '--force').catch(() => {});
    await serve?.stop();
    s.remove();
    console.log(`# whole file ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  test("resize: the guest takes the display area's 1000x700 (kju screenshot and the page agree)", async () => {
    await vm.bringToFront();
    assert.equal(await vm.getByTestId('window-size').getAttribute('data-mode'), 'resize', 'auto means resize on virtio-vga');
    await fitDisplayArea(vm, 1000, 700);
    let last = '';
    await until(
      'the guest, kju screenshot and the page at 1000x700',
      async () => {
        const shot = await kjuScreenshot(0);
        const canvas = await canvasImage(vm);
        last = describeDiff(shot, canvas);
        return shot.width === 1000 && shot.height === 700 && sameImage(shot, canvas);
      },
      20_000,
      300,
    ).catch((e: Error) => assert.fail(`${e.message}: ${last}\nserve output:\n${serve.output()}`));
    assert.equal(await vm.getByTestId('resolution').textContent(), '1000×700');
  });

  test('heads: the Display switcher shows head 1 as kju screenshot --head 1 has it, and head 0 again', async () => {
    assert.equal(await vm.getByTestId('head').textContent(), 'display 1 of 2');
    const head0 = await canvasImage(vm);
    const head1 = await showHead(vm, 1, 2, kjuScreenshot);
    assert.ok(!sameImage(head0, head1), 'head 1 looks different from head 0');
    await showHead(vm, 0, 2, kjuScreenshot);
  });

  test("clipboard: the page's text reaches the guest once shared, and the guest's text the page", async () => {
    await vm.bringToFront(); // the clipboard API answers the focused page only
    const agent = guestClipboardAgent(serial);
    await pageClipboardReachesGuest(vm, serial, agent, 'Grüße aus der CLI, 世界 ✓');
    await guestTextReachesPage(vm, agent, 'vom Gast über kju serve ✓');
  });

  test("thumbnails: the library row shows the guest's screen, live and after kju stop", async () => {
    await library.bringToFront();
    // the screen is still (kju-modeset's pattern on head 0): the row's thumbnail is kju's thumbnail of kju screenshot
    let shot = await kjuScreenshot(0);
    let last = '';
    await until(
      'the live thumbnail to show the screen kju screenshot has',
      async () => {
        const t = await thumbnailOf(library, 'Duo');
        shot = await kjuScreenshot(0);
        const want = expectedThumbnail(shot);
        last = t.img ? `${t.live}: ${describeDiff(want, t.img)}` : t.live;
        return t.live === 'true' && sameImage(t.img!, want);
      },
      60_000,
      300,
    ).catch((e: Error) => assert.fail(`${e.message}: ${last}`));
    await kju('stop', 'Duo', '--force');
    const saved = await savedThumbnail(library, 'Duo');
    assert.ok(sameImage(saved, expectedThumbnail(shot)), `the stopped VM's row shows the last screen: ${describeDiff(expectedThumbnail(shot), saved)}`);
    assert.deepEqual(errors, []);
  });
});

// kju serve with the real demo guest (kju-modeset running, virtio-vga with two heads) and the real
// React app in Chromium: with "Resize guest to window" (the default on virtio-vga), the guest takes
// the display area's size in device pixels (kju's display, QMP screendump and the page agree), and
// the Display switcher shows head 1, whose picture equals screendump {device, head: 1}.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { VIDEO_DEVICE_ID } from '../main/qemu/build-argv.js';
import { decodePpm, type RgbImage } from '../main/display/screenshot.js';
import { screendumpToFile } from '../main/display/screendump.js';
import { canvasImage, openVmPage, sameImage, screendump, sleep, startRealServe, until, type RealServe } from './helpers/real-serve.js';
import { areaSize, fitDisplayArea, showHead } from './helpers/vm-page.js';
import { openMoreMenu } from './helpers/chromium.js';

const dumps = mkdtempSync(join(tmpdir(), 'kju-resize-e2e-'));
after(() => rmSync(dumps, { recursive: true, force: true }));
let n = 0;
async function headDump(rs: RealServe, head: number): Promise<RgbImage> {
  const file = join(dumps, `h${head}-${n++}.ppm`);
  await screendumpToFile(rs.guest.qmp, file, { device: VIDEO_DEVICE_ID, head });
  return decodePpm(readFileSync(file));
}

describe('serve + real guest: the guest follows the window; a second head', () => {
  let rs: RealServe;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    rs = await startRealServe({ name: 'kju-serve-resize', displays: 2, appendExtra: 'kju.modeset=all' });
    page = await openVmPage(rs, { errors: pageErrors, viewport: { width: 1300, height: 900 }, guestSize: 'auto' });
  });
  after(async () => {
    await rs?.stop();
  });

  test('a viewport whose display area is 1000x700 makes the guest 1000x700 within 5 s (kju, screendump and the page agree)', async () => {
    assert.equal(await page.getByTestId('window-size').getAttribute('data-mode'), 'resize', 'auto means resize on virtio-vga');
    // The toolbar and status bar take their share of the viewport: size it so the display area is 1000x700.
    const viewport = await fitDisplayArea(page, 1000, 700);
    const t0 = Date.now();
    await until("kju's display to be 1000x700", () => rs.display.surface?.width === 1000 && rs.display.surface?.height === 700, 5_000, 20);
    const ms = Date.now() - t0;
    const dump = await screendump(rs.guest.qmp);
    assert.deepEqual([dump.width, dump.height], [1000, 700]);
    const canvas = await until(
      'the page to show the 1000x700 surface',
      async () => {
        const c = await canvasImage(page);
        return c.width === 1000 && c.height === 700 && sameImage(c, await screendump(rs.guest.qmp)) ? c : false;
      },
      10_000,
    );
    assert.equal(await page.getByTestId('resolution').textContent(), '1000×700');
    assert.match((await page.getByTestId('window-size').textContent()) ?? '', /window 1000×700 · guest = window/);
    console.log(`# viewport ${viewport.width}x${viewport.height} (display area 1000x700): guest took it ${ms} ms after the layout (debounce 300 ms); ${canvas.frames} frames drawn`);
    assert.deepEqual(pageErrors, []);
  });

  test('Scale keeps the guest size when the window changes', async () => {
    await (await openMoreMenu(page)).getByTestId('guest-size-setting').selectOption('scale');
    await page.setViewportSize({ width: 1200, height: 850 });
    await sleep(1500);
    assert.deepEqual([rs.display.surface?.width, rs.display.surface?.height], [1000, 700]);
    assert.match((await page.getByTestId('window-size').textContent()) ?? '', /· scaled$/);
    await (await openMoreMenu(page)).getByTestId('guest-size-setting').selectOption('auto');
    await until('the guest to follow again', () => rs.display.surface?.width !== 1000, 5_000);
  });

  test('the Display switcher shows head 1, equal to screendump of head 1', async () => {
    assert.equal(await page.getByTestId('head').textContent(), 'display 1 of 2');
    const head0 = await canvasImage(page);
    const head1 = await showHead(page, 1, 2, (h) => headDump(rs, h));
    assert.ok(!sameImage(head0, head1), 'head 1 looks different from head 0');
    // head 1 follows the window too, like head 0 did
    assert.deepEqual([head1.width, head1.height], Object.values(await areaSize(page)));
    await showHead(page, 0, 2, (h) => headDump(rs, h));
    assert.deepEqual(pageErrors, []);
  });
});

// kju serve with the real demo guest, the real React app in Chromium: the page's canvas holds
// exactly QEMU's screendump (virtio-vga over the map transport, std VGA over copy), and keys typed
// in the page reach the guest (its tty1 screen changes in QEMU and in the page alike, and a
// command typed in the page writes to the serial console).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { VmDisplayDevice } from '../common/contract.js';
import { canvasImage, describeDiff, openVmPage, pageFrameStats, sameImage, settledViews, sleep, startRealServe, typeKeys, until, type RealServe } from './helpers/real-serve.js';

const MODES: Array<{ displayDevice: VmDisplayDevice; transport: 'map' | 'copy' }> = [
  { displayDevice: 'virtio-vga', transport: 'map' },
  { displayDevice: 'std', transport: 'copy' },
];

for (const mode of MODES) {
  describe(`serve + real guest, ${mode.displayDevice} (${mode.transport})`, () => {
    let rs: RealServe;
    let page: Page;
    const pageErrors: string[] = [];

    before(async () => {
      rs = await startRealServe({ displayDevice: mode.displayDevice, name: `kju-serve-${mode.displayDevice}` });
      page = await openVmPage(rs, { errors: pageErrors });
    });
    after(async () => {
      await rs?.stop();
    });

    test('the page canvas equals QEMU screendump once the prompt is up', async () => {
      await rs.guest.serial.run('echo ready > /dev/tty1');
      assert.equal(rs.display.surface?.transport, mode.transport, `kju's display uses ${rs.display.surface?.transport}: ${rs.display.transportNote ?? ''}`);
      // the status bar says "shared memory" / "copy"; the transport code itself is in data-transport
      assert.equal(await page.getByTestId('transport').getAttribute('data-transport'), mode.transport);
      assert.equal(await page.getByTestId('transport').textContent(), mode.transport === 'map' ? 'shared memory' : 'copy');
      const v = await settledViews(rs, page);
      assert.equal(await page.getByTestId('resolution').textContent(), `${v.dump.width}×${v.dump.height}`);
      console.log(`# ${mode.displayDevice}: ${v.dump.width}x${v.dump.height} canvas == screendump == kju display after ${v.tries} comparison(s)`);
      assert.deepEqual(pageErrors, []);
    });

    test('typing in the page reaches the guest; QEMU and the page show the same new screen', async () => {
      const before = await settledViews(rs, page);
      const tag = randomBytes(4).toString('hex');
      const canvas = page.getByTestId('screen');
      await canvas.focus();
      const f0 = await pageFrameStats(page);
      const t0 = Date.now();
      await typeKeys(page, `echo kju-typed-${tag}\n`);
      await typeKeys(page, `echo kju-${tag} > /dev/ttyS0\n`);
      await rs.guest.serial.waitFor(new RegExp(`kju-${tag}`), 20_000);
      const seconds = (Date.now() - t0) / 1000;
      const f1 = await pageFrameStats(page);
      const after = await settledViews(rs, page);
      assert.ok(!sameImage(before.dump, after.dump), 'the guest screen did not change while typing');
      assert.ok(!sameImage(before.canvas, after.canvas), 'the page did not change while typing');
      // Rows of the tty1 screen that changed: the typed lines (and their output) must be among them.
      const changedRows = countChangedRows(before.dump.rgb, after.dump.rgb, after.dump.width);
      assert.ok(changedRows > 16, `only ${changedRows} pixel rows changed`);
      const fps = (f1.frames - f0.frames) / seconds;
      console.log(
        `# ${mode.displayDevice}: typed 2 lines in ${seconds.toFixed(1)} s; the page drew ${f1.frames - f0.frames} frames (${fps.toFixed(1)}/s), last damage-to-texture latency ${f1.latencyMs.toFixed(2)} ms; ${changedRows} pixel rows changed`,
      );
      assert.deepEqual(pageErrors, []);
    });

    test('one keystroke: the page changes, then matches QEMU again (time to change printed)', async () => {
      await settledViews(rs, page);
      const canvas = page.getByTestId('screen');
      await canvas.focus();
      const before = await canvasImage(page);
      const t0 = Date.now();
      await typeKeys(page, 'x');
      const changed = await until(
        'the page to change after one key',
        async () => {
          const now = await canvasImage(page);
          return sameImage(now, before) ? false : now;
        },
        10_000,
        10,
      );
      const ms = Date.now() - t0;
      const { dump } = await settledViews(rs, page);
      await page.keyboard.press('Backspace');
      await sleep(100);
      console.log(`# ${mode.displayDevice}: one key to a changed canvas in ${ms} ms (includes key pacing, guest echo and QEMU's refresh); ${describeDiff(before, changed).split(': ')[1]}`);
      assert.equal(dump.width, changed.width);
      await settledViews(rs, page);
    });
  });
}

function countChangedRows(a: Buffer, b: Buffer, width: number): number {
  const row = width * 3;
  let n = 0;
  for (let o = 0; o + row <= Math.min(a.length, b.length); o += row) if (!a.subarray(o, o + row).equals(b.subarray(o, o + row))) n++;
  return n;
}

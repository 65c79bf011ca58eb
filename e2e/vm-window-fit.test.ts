// The VM window (toolbar, display, status bar) of the built app (app/out/renderer behind startServe,
// as `kju serve` runs it) fits common laptop windows: at 1280×800 and 1024×768 every visible control
// lies inside the viewport, the status bar is one line, the overflow menu shows the controls it holds
// inside the viewport, and popovers close on Escape and on a click outside. No QEMU: a
// SyntheticDisplay stands for the guest screen, and the VM has every optional item (two heads, a CD,
// sound whose stream fails with a long message, clipboard, an accelerator notice).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { BackendArgs, BackendMethod, BackendValue, Result, VmSummary } from '../common/contract.js';
import type { DisplaySource } from '../main/display/display-source.js';
import type { AudioOut } from '../main/display/audio-out.js';
import { SyntheticDisplay } from '../main/display/synthetic-display.js';
import type { ServeBackend } from '../main/backend/backend.js';
import { startServe, type ServeHandle } from '../main/serve/serve.js';
import { launchChromium } from './helpers/chromium.js';

const RENDERER_DIR = join(fileURLToPath(new URL('..', import.meta.url)), 'app/out/renderer');
const vm: VmSummary = {
  id: 'fit',
  name: 'Debian 12 workstation (testing)',
  state: 'running',
  displayDevice: 'virtio-vga',
  displays: 2,
  memoryMiB: 2048,
  cpus: 2,
  cdrom: '/home/someone/Downloads/debian-12.8.0-amd64-DVD-1-with-a-long-name.iso',
  accelerator: 'tcg',
  transport: 'map',
  soundDevice: 'intel-hda',
  clipboard: true,
};
const SOUND_FAILURE = "openAudio failed: Cannot find module '/home/someone/kju/app/out/audio-listener-worker.js'";

const backend: ServeBackend = {
  async call<M extends BackendMethod>(method: M, _args: BackendArgs<M>): Promise<Result<BackendValue<M>>> {
    if (method === 'listVms') return { ok: true, value: [vm] as BackendValue<M> };
    if (method === 'listHostUsb') return { ok: true, value: [{ vendorId: '046d', productId: 'c52b', bus: 1, port: '2', manufacturer: 'Logitech', product: 'USB Receiver' }] as BackendValue<M> };
    if (method === 'attachedUsb') return { ok: true, value: [] as BackendValue<M> };
    return { ok: false, code: 'unknown-method', message: `${method} is not offered by this test` };
  },
  async openDisplay(vmId: string, console: number): Promise<Result<DisplaySource>> {
    if (vmId !== vm.id || console > 1) return { ok: false, code: 'not-found', message: `no display ${vmId}:${console}` };
    return { ok: true, value: new SyntheticDisplay({ width: 1024, height: 768, absolute: false }) };
  },
  async openAudio(): Promise<Result<AudioOut>> {
    return { ok: false, code: 'no-sound', message: SOUND_FAILURE };
  },
  onVmsChanged: () => () => {},
};

let serve: ServeHandle;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(join(RENDERER_DIR, 'index.html')), `${RENDERER_DIR}/index.html is missing: run node scripts/build.mjs`);
  serve = await startServe({ backend, host: '127.0.0.1', staticDir: RENDERER_DIR, log: () => {} });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await serve?.close();
});

interface Box {
  what: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Every visible control and status item (and the page's scroll size) whose box leaves the viewport. */
function outside(page: Page, scope = 'body'): Promise<Box[]> {
  return page.evaluate((sel) => {
    const out: Box[] = [];
    const items = document.querySelectorAll(`${sel} :is(button, select, input, a, label, [role=toolbar] > *, .statusbar > *, .statusbar [data-testid], [role=alert])`);
    for (const e of Array.from(items)) {
      const r = e.getBoundingClientRect();
      const style = getComputedStyle(e);
      if (r.width === 0 && r.height === 0) continue; // not rendered (display: none, or dropped)
      if (style.visibility === 'hidden') continue;
      if (r.left < 0 || r.top < 0 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5)
        out.push({
          what: `${e.tagName.toLowerCase()}${e.getAttribute('data-testid') ? `[data-testid=${e.getAttribute('data-testid')}]` : ''} "${(e.getAttribute('aria-label') ?? (e as HTMLElement).innerText ?? '').trim().slice(0, 40)}"`,
          left: r.left,
          top: r.top,
          right: r.right,
          bottom: r.bottom,
        });
    }
    const root = document.documentElement;
    if (root.scrollWidth > innerWidth || root.scrollHeight > innerHeight) out.push({ what: 'page scroll size', left: 0, top: 0, right: root.scrollWidth, bottom: root.scrollHeight });
    return out;
  }, scope);
}

/** The status bar's height and the rows its visible items sit on (one line: all on one row, bar not taller than one). */
function statusLine(page: Page): Promise<{ height: number; rows: number; tallest: number }> {
  return page.evaluate(() => {
    const bar = document.querySelector('.statusbar')!;
    const tops = new Set<number>();
    let tallest = 0;
    for (const e of Array.from(bar.querySelectorAll('*'))) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      tallest = Math.max(tallest, r.height);
      tops.add(Math.round(r.top + r.height / 2));
    }
    const centres = [...tops].sort((a, b) => a - b);
    // items of one row share their vertical centre within a few pixels
    let rows = centres.length ? 1 : 0;
    for (let i = 1; i < centres.length; i++) if (centres[i] - centres[i - 1] > 4) rows++;
    return { height: bar.getBoundingClientRect().height, rows, tallest };
  });
}

async function openVmWindow(width: number, height: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(`${serve.origin}/#/vm/${vm.id}?token=${serve.token}`);
  await page.waitForFunction(() => document.querySelector('[data-testid="resolution"]')?.textContent === '1024×768');
  // the longest sound text there is: the stream failed
  await page.waitForFunction(() => document.querySelector('[data-testid="sound-state"]')?.textContent?.startsWith('sound: ended'));
  return page;
}

for (const [width, height] of [
  [1280, 800],
  [1024, 768],
] as const) {
  describe(`the VM window at ${width}×${height}`, () => {
    let page: Page;
    before(async () => (page = await openVmWindow(width, height)));
    after(async () => page?.close());

    test('every visible control and status item lies inside the viewport', async () => {
      assert.deepEqual(await outside(page), []);
      // the most used controls stay in the toolbar
      for (const name of ['Pause', 'Reset', 'Power', 'More']) assert.ok(await page.getByRole('button', { name, exact: true }).isVisible(), `${name} is in the toolbar`);
      assert.ok(await page.getByRole('button', { name: /^CD: / }).isVisible());
      assert.ok(await page.getByLabel('Send key combination').isVisible());
    });

    test('the status bar is one line, and the sound state does not run into "mute when hidden"', async () => {
      const line = await statusLine(page);
      assert.equal(line.rows, 1, `status bar items on ${line.rows} rows`);
      assert.ok(line.height < 2 * line.tallest, `status bar ${line.height} px high for items ${line.tallest} px high`);
      const gap = await page.evaluate(() => {
        const label = document.querySelector('[data-testid="mute-when-hidden"]')?.getBoundingClientRect();
        const state = document.querySelector('[data-testid="sound-state"]')!.getBoundingClientRect();
        return label && state.width > 0 ? state.left - label.right : null;
      });
      if (gap !== null) assert.ok(gap >= 4, `"mute when hidden" and the sound state ${gap} px apart`);
      // the full sound text is still there to read, in the item's tooltip
      assert.match((await page.getByTestId('sound-state').getAttribute('title')) ?? '', /openAudio failed/);
    });

    test('the mute button has a name and no emoji glyph', async () => {
      const mute = page.getByRole('button', { name: 'Mute the guest' });
      assert.ok(await mute.isVisible());
      assert.doesNotMatch((await mute.textContent()) ?? '', /\p{Extended_Pictographic}/u);
      assert.equal(await mute.locator('svg').count(), 1);
    });

    test('the More menu shows the controls it holds inside the viewport; Escape and an outside click close it', async () => {
      const more = page.getByRole('button', { name: 'More', exact: true });
      await more.click();
      const menu = page.getByRole('dialog', { name: 'More controls' });
      await menu.waitFor();
      for (const id of ['head-setting', 'guest-size-setting', 'blitter-setting', 'scale-setting', 'clipboard-share', 'clipboard-state'])
        assert.ok(await menu.getByTestId(id).isVisible(), `${id} in the menu`);
      assert.ok(await menu.getByRole('button', { name: 'USB' }).isVisible());
      assert.ok(await menu.getByRole('button', { name: 'Fullscreen' }).isVisible());
      assert.deepEqual(await outside(page), []);
      assert.equal(await more.getAttribute('aria-expanded'), 'true');

      // a control inside the menu keeps it open
      await menu.getByTestId('scale-setting').selectOption('fit');
      assert.ok(await menu.isVisible());
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'detached' });
      assert.equal(await more.getAttribute('aria-expanded'), 'false');

      await more.click();
      await menu.waitFor();
      // the nested USB list: Escape closes it alone, then the menu
      await menu.getByRole('button', { name: 'USB' }).click();
      const usb = page.getByRole('menu', { name: 'USB devices' });
      await usb.locator('li[data-usb]').first().waitFor();
      assert.deepEqual(await outside(page), []);
      await page.keyboard.press('Escape');
      await usb.waitFor({ state: 'detached' });
      assert.ok(await menu.isVisible(), 'Escape closed the USB list, not the whole menu');
      await page.locator('.statusbar').click({ position: { x: 2, y: 2 } });
      await menu.waitFor({ state: 'detached' });
    });

    test("the CD menu's error has real width and wraps inside the viewport; Escape and an outside click close it", async () => {
      const cd = page.getByRole('button', { name: /^CD: / });
      await cd.click();
      const pop = page.getByRole('dialog', { name: 'CD-ROM' });
      await pop.getByLabel('ISO image path on the host').fill('relative/path/that/is/not/absolute/and/goes/on/for-quite-a-while/image.iso');
      await pop.getByRole('button', { name: 'Attach' }).click();
      const error = pop.getByRole('alert');
      await error.waitFor();
      const box = (await error.boundingBox())!;
      assert.ok(box.width >= 200, `the error is ${box.width} px wide`);
      assert.deepEqual(await outside(page), []);
      await page.keyboard.press('Escape');
      await pop.waitFor({ state: 'detached' });
      await cd.click();
      await pop.waitFor();
      await page.locator('.statusbar').click({ position: { x: 2, y: 2 } });
      await pop.waitFor({ state: 'detached' });
    });
  });
}

// Steps on the VM view of the real React app shared by the serve e2e tests: sizing the window so
// the display area has a given size (the guest follows it with "Resize guest to window"), and
// switching the shown head.
import type { Page } from 'playwright-core';
import type { RgbImage } from '../../main/display/screenshot.js';
import { canvasImage, describeDiff, sameImage, until } from './real-serve.js';
import { openMoreMenu } from './chromium.js';

/** The display area's size in device pixels, as the page measures it. */
export const areaSize = (page: Page) =>
  page.evaluate(() => {
    const el = document.querySelector('.vm-display') as HTMLElement;
    return { width: Math.round(el.clientWidth * devicePixelRatio), height: Math.round(el.clientHeight * devicePixelRatio) };
  });

/**
 * Sizes the viewport so the display area is `width`×`height` (the toolbar and status bar take their
 * share); returns the viewport used. Throws when three tries do not get there.
 */
export async function fitDisplayArea(page: Page, width: number, height: number): Promise<{ width: number; height: number }> {
  let viewport = { width, height };
  for (let i = 0; i < 3; i++) {
    await page.setViewportSize(viewport);
    const area = await until('the page to lay out', async () => ((await areaSize(page)).width > 0 ? areaSize(page) : false));
    if (area.width === width && area.height === height) return viewport;
    viewport = { width: viewport.width + width - area.width, height: viewport.height + height - area.height };
  }
  const area = await areaSize(page);
  throw new Error(`the display area is ${area.width}x${area.height}, not ${width}x${height}, in a ${viewport.width}x${viewport.height} viewport`);
}

/**
 * Picks head `head` (0-based) of `count` in the Display switcher and waits until the status bar
 * names it and the page's canvas equals `reference(head)` (QEMU's or kju's picture of that head).
 */
export async function showHead(page: Page, head: number, count: number, reference: (head: number) => Promise<RgbImage>): Promise<RgbImage & { frames: number }> {
  await (await openMoreMenu(page)).getByTestId('head-setting').selectOption(String(head)); // the Display switcher sits in the More menu
  await until(`the status bar to name display ${head + 1}`, async () => (await page.getByTestId('head').textContent()) === `display ${head + 1} of ${count}`);
  let last = '';
  return until(
    `the page to show head ${head} as ${reference.name || 'the reference'} has it`,
    async () => {
      const c = await canvasImage(page).catch(() => null); // no surface for a moment while the display reopens
      if (!c) return false;
      const d = await reference(head);
      last = describeDiff(d, c);
      return sameImage(c, d) && c;
    },
    15_000,
    200,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: ${last}`);
  });
}

// The library's thumbnails in the e2e tests: reading a row's thumbnail from the page, and a guest
// that paints its whole framebuffer red over its serial shell so the thumbnail has something to show.
import type { Page } from 'playwright-core';
import { decodePng, type RgbImage } from '../../main/display/screenshot.js';
import { scaleSurface } from '../../main/display/thumbnail.js';
import type { SerialConsole } from '../../main/testing/serial-console.js';
import { until } from './real-serve.js';

/** The row's thumbnail as pixels, with whether it is live ('true'), saved ('false') or absent ('none'). */
export async function thumbnailOf(page: Page, vmName: string): Promise<{ live: string; img: RgbImage | null }> {
  const el = page.locator(`.vm-row[data-vm-name="${vmName}"] [data-testid="vm-thumbnail"]`);
  const live = (await el.getAttribute('data-live')) ?? 'none';
  const src = await el.getAttribute('src');
  if (!src) return { live, img: null };
  return { live, img: decodePng(Buffer.from(src.slice(src.indexOf(',') + 1), 'base64')) };
}

export const pixel = (img: RgbImage, fx: number, fy: number) => {
  const i = (Math.floor(fy * img.height) * img.width + Math.floor(fx * img.width)) * 3;
  return [img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]];
};

// Red dominates every sampled box; a box average may take in a few darker pixels (fbcon's rows of the
// guest's own console), so not exactly 255,0,0 everywhere. The console before the paint is grey/black.
export const isRed = (img: RgbImage | null) =>
  !!img &&
  [0.1, 0.5, 0.9].every((f) => {
    const [r, g, b] = pixel(img, f, f);
    return r >= 180 && g <= 40 && b <= 40;
  });

/** Fills the guest's /dev/fb0 with red (32 bpp, B,G,R,X), fbcon's cursor blink off so nothing paints over it. */
export async function paintFramebufferRed(serial: Pick<SerialConsole, 'run'>): Promise<void> {
  // One 4096-byte run of red pixels, written until the framebuffer is full.
  await serial.run(
    'echo 0 > /sys/class/graphics/fbcon/cursor_blink; printf "\\000\\000\\377\\000" > /tmp/px; for i in 1 2 3 4 5 6 7 8 9 10; do cat /tmp/px /tmp/px > /tmp/px2; mv /tmp/px2 /tmp/px; done',
  );
  if ((await serial.run('wc -c < /tmp/px')) !== '4096') throw new Error('the guest did not make its 4096-byte red run');
  const [fbW, fbH] = (await serial.run('cat /sys/class/graphics/fb0/virtual_size')).split(',').map(Number);
  if ((await serial.run('cat /sys/class/graphics/fb0/bits_per_pixel')) !== '32') throw new Error('fb0 is not 32 bpp');
  const fbBytes = fbW * fbH * 4;
  if (fbBytes < 640 * 480 * 4) throw new Error(`framebuffer size ${fbBytes}`);
  await serial.run(`i=0; while [ $i -lt ${Math.ceil(fbBytes / 4096)} ]; do cat /tmp/px; i=$((i+1)); done > /dev/fb0 2>/dev/null; true`, { timeoutMs: 60_000 });
}

/** Waits until the row's live thumbnail is red; the timeout names the last thumbnail's pixels. */
export async function liveThumbnailTurnsRed(page: Page, vmName: string): Promise<RgbImage> {
  let seen: RgbImage | null = null;
  return until(
    'the live thumbnail to turn red',
    async () => {
      const t = await thumbnailOf(page, vmName);
      seen = t.img;
      return t.live === 'true' && isRed(t.img) && t.img;
    },
    30_000,
    200,
  ).catch((err: Error) => {
    const s = seen as RgbImage | null;
    throw new Error(`${err.message}; last thumbnail ${s ? `${s.width}x${s.height}, at 10%/50%/90%: ${[0.1, 0.5, 0.9].map((f) => pixel(s, f, f).join(','))}` : 'none'}`);
  });
}

/** Waits until the row shows the screen saved in the bundle (the VM stopped); returns it. */
export function savedThumbnail(page: Page, vmName: string): Promise<RgbImage> {
  return until(
    'the row to show the saved screen',
    async () => {
      const t = await thumbnailOf(page, vmName);
      return t.live === 'false' && t.img;
    },
    30_000,
    200,
  );
}

/** What kju's thumbnail of a screen showing `img` is (main/display/thumbnail.ts), to compare a row's thumbnail with. */
export function expectedThumbnail(img: RgbImage): RgbImage {
  const pixels = Buffer.alloc(img.width * img.height * 4);
  for (let i = 0, o = 0; i < img.rgb.length; i += 3, o += 4) {
    pixels[o] = img.rgb[i + 2];
    pixels[o + 1] = img.rgb[i + 1];
    pixels[o + 2] = img.rgb[i];
  }
  return scaleSurface({ width: img.width, height: img.height, stride: img.width * 4, pixels });
}

// The library's thumbnails end to end: the real React app in Chromium against kju serve over the
// local backend (in this process), a library VM booting the demo kernel under TCG. The guest paints
// its whole framebuffer one known colour (written to /dev/fb0 over the serial console); the row's
// live thumbnail turns that colour, and after a stop the row shows the last screen saved in the
// bundle (read back from the PNG file too).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureDemoGuest } from '../main/testing/guest.js';
import { SerialConsole } from '../main/testing/serial-console.js';
import { lastScreenPath } from '../main/library/bundle-files.js';
import { libraryVmRuntimeDir } from '../main/qemu/runtime-dir.js';
import { decodePng, type RgbImage } from '../main/display/screenshot.js';
import type { LocalBackend } from '../main/backend/local-backend.js';
import type { ServeHandle } from '../main/serve/serve.js';
import { CHROMIUM, CHROMIUM_ARGS, root, until } from './helpers/real-serve.js';

const tmp = mkdtempSync(join(tmpdir(), 'kju-thumbs-'));
let backend: LocalBackend | undefined;
let serve: ServeHandle | undefined;
let browser: Browser | undefined;
let serial: SerialConsole | undefined;

after(async () => {
  serial?.close();
  await browser?.close().catch(() => {});
  await backend?.call('stopVm', { id: 'Thumb', force: true }).catch(() => {});
  await serve?.close();
  backend?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** The row's thumbnail as pixels, with whether it is live ('true'), saved ('false') or absent ('none'). */
async function thumbnailOf(page: Page): Promise<{ live: string; img: RgbImage | null }> {
  const el = page.locator('.vm-row[data-vm-name="Thumb"] [data-testid="vm-thumbnail"]');
  const live = (await el.getAttribute('data-live')) ?? 'none';
  const src = await el.getAttribute('src');
  if (!src) return { live, img: null };
  return { live, img: decodePng(Buffer.from(src.slice(src.indexOf(',') + 1), 'base64')) };
}

const pixel = (img: RgbImage, fx: number, fy: number) => {
  const i = (Math.floor(fy * img.height) * img.width + Math.floor(fx * img.width)) * 3;
  return [img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]];
};
// Red dominates every sampled box; a box average may take in a few darker pixels (fbcon's rows of the
// guest's own console), so not exactly 255,0,0 everywhere. The console before the paint is grey/black.
const isRed = (img: RgbImage | null) => !!img && [0.1, 0.5, 0.9].every((f) => {
  const [r, g, b] = pixel(img, f, f);
  return r >= 180 && g <= 40 && b <= 40;
});

test('a running VM’s thumbnail turns the colour the guest paints, and after stop the row keeps that screen', async () => {
  const g = await ensureDemoGuest();
  process.env.KJU_LIBRARY = join(tmp, 'library');
  process.env.XDG_RUNTIME_DIR = join(tmp, 'run');
  process.env.KJU_ACCEL = 'tcg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  const { createLocalBackend } = await import('../main/backend/local-backend.js');
  const { startServe } = await import('../main/serve/serve.js');
  backend = await createLocalBackend({ accel: 'tcg', allow: [dirname(g.kernel), dirname(g.initrd)] });
  serve = await startServe({ backend, staticDir: join(root, 'app/out/renderer'), log: () => {} });
  const created = await backend.call('createVm', {
    name: 'Thumb', preset: 'linux', memoryMiB: 256, cpus: 1, displayDevice: 'virtio-vga', disk: { kind: 'none' }, kernel: g.kernel, initrd: g.initrd, append: g.append,
  });
  assert.ok(created.ok, JSON.stringify(created));
  const vm = await backend.sessions.library.get('Thumb');

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(serve.url);
  await page.locator('.vm-row[data-vm-name="Thumb"]').waitFor();
  assert.equal((await thumbnailOf(page)).live, 'none', 'a VM never run has no thumbnail');

  const started = await backend.call('startVm', { id: vm.config.id });
  assert.ok(started.ok, JSON.stringify(started));
  serial = await SerialConsole.connect(libraryVmRuntimeDir(vm).serialSocket);
  await until('the guest shell', () => serial!.run('true', { timeoutMs: 3_000 }).then(() => true, () => false), 120_000, 500);
  const before = await until('a live thumbnail', async () => {
    const t = await thumbnailOf(page);
    return t.live === 'true' && t.img;
  }, 60_000, 200);
  assert.ok(!isRed(before), 'the console is not red before the paint');

  // One 4096-byte run of red pixels (B,G,R,X), written until the framebuffer is full; no cursor blinking over it.
  await serial.run('echo 0 > /sys/class/graphics/fbcon/cursor_blink; printf "\\000\\000\\377\\000" > /tmp/px; for i in 1 2 3 4 5 6 7 8 9 10; do cat /tmp/px /tmp/px > /tmp/px2; mv /tmp/px2 /tmp/px; done');
  assert.equal(await serial.run('wc -c < /tmp/px'), '4096');
  const [fbW, fbH] = (await serial.run('cat /sys/class/graphics/fb0/virtual_size')).split(',').map(Number);
  assert.equal(await serial.run('cat /sys/class/graphics/fb0/bits_per_pixel'), '32');
  const fbBytes = fbW * fbH * 4;
  assert.ok(fbBytes >= 640 * 480 * 4, `framebuffer size ${fbBytes}`);
  await serial.run(`i=0; while [ $i -lt ${Math.ceil(fbBytes / 4096)} ]; do cat /tmp/px; i=$((i+1)); done > /dev/fb0 2>/dev/null; true`, { timeoutMs: 60_000 });
  let seen: RgbImage | null = null;
  const painted = await until('the live thumbnail to turn red', async () => {
    const t = await thumbnailOf(page);
    seen = t.img;
    return t.live === 'true' && isRed(t.img) && t.img;
  }, 30_000, 200).catch((err: Error) => {
    const s = seen as RgbImage | null;
    throw new Error(`${err.message}; last thumbnail ${s ? `${s.width}x${s.height}, at 10%/50%/90%: ${[0.1, 0.5, 0.9].map((f) => pixel(s, f, f).join(','))}` : 'none'}`);
  });
  assert.ok(isRed(painted));

  const stopped = await backend.call('stopVm', { id: vm.config.id, force: true });
  assert.ok(stopped.ok && stopped.value.state === 'stopped', JSON.stringify(stopped));
  const saved = decodePng(readFileSync(lastScreenPath(vm.dir)));
  assert.ok(isRed(saved), `the saved last screen is red: centre ${pixel(saved, 0.5, 0.5)}`);
  assert.equal(saved.width, 192);
  assert.equal(statSync(lastScreenPath(vm.dir)).mode & 0o777, 0o600);
  const after = await until('the row to show the saved screen', async () => {
    const t = await thumbnailOf(page);
    return t.live === 'false' && t.img;
  }, 30_000, 200);
  assert.ok(isRed(after), 'the stopped VM’s row shows the red screen');
  assert.deepEqual(errors, []);
});

// The real CLI end to end: `kju create` a Demo VM (the demo guest) in a temp library, `node bin/kju.mjs
// serve`, start the VM from the real React app in Chromium, and check that the page shows what the
// serving kju has (`kju screenshot` over kju.sock, which that serve process owns); then type a
// command into the page and hear the guest's tone in the page. bin/kju.mjs runs the bundle in
// app/out, as a user runs it: a worker or asset missing from the build fails here, not only in
// scripts/build-output.test.ts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { decodePng } from '../main/display/screenshot.js';
import { ensureDemoGuest } from '../main/testing/guest.js';
import { builtKju, startBuiltServe, type BuiltServe } from './helpers/built-serve.js';
import { canvasImage, CHROMIUM, CHROMIUM_ARGS, describeDiff, sameImage, sleep, typeKeys, until } from './helpers/real-serve.js';
import { peakFrequency } from './helpers/sound-probe.js';

const lib = mkdtempSync(join(tmpdir(), 'kju-serve-cli-'));
const env = { ...process.env, KJU_LIBRARY: lib, KJU_ACCEL: 'tcg' };
const kju = builtKju(env);
let serve: BuiltServe | undefined;
let browser: Browser | undefined;

after(async () => {
  await browser?.close().catch(() => {});
  await kju('stop', 'Demo', '--force').catch(() => {});
  await serve?.stop();
  rmSync(lib, { recursive: true, force: true });
});

test('kju serve (real CLI and local backend): start the Demo VM from the page; the page shows what kju screenshot shows', async () => {
  const g = await ensureDemoGuest();
  await kju('create', 'Demo', '--preset', 'linux', '--memory', '256', '--cpus', '1', '--display', 'virtio-vga', '--no-disk', '--kernel', g.kernel, '--initrd', g.initrd, '--append', g.append);
  serve = await startBuiltServe(env);
  const { url } = serve;
  const out = serve.output;

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url.replace('#token=', '#/?test=1&token='));
  const row = page.locator('.vm-row').first();
  await row.waitFor({ timeout: 20_000 });
  const id = await row.getAttribute('data-vm-id');
  assert.ok(id);
  // No token in this URL: the tab kept the one it was opened with.
  await page.goto(`${url.replace(/#.*/, '')}#/vm/${id}?test=1`);
  await page.getByRole('button', { name: 'Start' }).click({ timeout: 20_000 });
  await page.waitForFunction(() => !!window.__kju?.surfaceSize(), undefined, { timeout: 60_000 });

  // Wait for the booted, still screen: kju screenshot (over the serve process's kju.sock) twice the
  // same, not blank, and equal to the page's canvas.
  const shot = join(lib, 'shot.png');
  const t0 = Date.now();
  let last = '';
  const result = await until(
    'the page to equal kju screenshot on a still, booted screen',
    async () => {
      await kju('screenshot', 'Demo', shot);
      const a = decodePng(readFileSync(shot));
      await sleep(700);
      await kju('screenshot', 'Demo', shot);
      const b = decodePng(readFileSync(shot));
      const canvas = await canvasImage(page);
      // Booted: the virtio-gpu driver has replaced the BIOS text mode (720x400) with its 1280x800 fbcon.
      const lit = b.width >= 1024 && b.rgb.some((v) => v !== 0);
      last = `${describeDiff(b, canvas)}; lit ${lit}`;
      return lit && sameImage(a, b) && sameImage(b, canvas) ? b : false;
    },
    90_000,
    500,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: ${last}\nserve output:\n${out()}`);
  });
  console.log(`# kju serve CLI: ${result.width}x${result.height} page == kju screenshot after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(await page.getByTestId('transport').getAttribute('data-transport'), 'map');
  assert.equal(await page.getByTestId('transport').textContent(), 'shared memory');

  // Input and sound through the built serve: a command typed into the page (tty1's shell) plays a
  // 1 kHz tone in the guest (intel-hda, the linux preset's), and the page's analyser peaks there.
  const screen = page.getByTestId('screen');
  await screen.click(); // also the user gesture that lets the AudioContext run
  await typeKeys(page, 'tone-play -s 60 1000');
  await page.keyboard.press('Enter');
  const seen: string[] = [];
  const peak = await until(
    "the page's analyser to peak at 1000 Hz",
    async () => {
      const p = await peakFrequency(page);
      const state = await page.getByTestId('sound-state').textContent();
      seen.push(p ? `${p.freq.toFixed(1)} Hz` : `silent (${state})`);
      return p && Math.abs(p.freq - 1000) / 1000 <= 0.02 ? p : false;
    },
    60_000,
    200,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last readings: ${seen.slice(-5).join('; ')}\nserve output:\n${out()}`);
  });
  console.log(`# kju serve CLI: typed tone-play in the page; the page's analyser peaks at ${peak.freq.toFixed(1)} Hz`);
  assert.doesNotMatch((await page.getByTestId('sound-state').textContent()) ?? '', /ended|failed/);
  assert.deepEqual(errors, []);
});

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
import { chromium, type Browser } from 'playwright-core';
import { ensureDemoGuest } from '../main/testing/guest.js';
import { SerialConsole } from '../main/testing/serial-console.js';
import { lastScreenPath } from '../main/library/bundle-files.js';
import { libraryVmRuntimeDir } from '../main/qemu/runtime-dir.js';
import { decodePng } from '../main/display/screenshot.js';
import type { LocalBackend } from '../main/backend/local-backend.js';
import type { ServeHandle } from '../main/serve/serve.js';
import { CHROMIUM, CHROMIUM_ARGS, root, until } from './helpers/real-serve.js';
import { isRed, liveThumbnailTurnsRed, paintFramebufferRed, pixel, savedThumbnail, thumbnailOf } from './helpers/thumbnails.js';

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
    name: 'Thumb',
    preset: 'linux',
    memoryMiB: 256,
    cpus: 1,
    displayDevice: 'virtio-vga',
    disk: { kind: 'none' },
    kernel: g.kernel,
    initrd: g.initrd,
    append: g.append,
  });
  assert.ok(created.ok, JSON.stringify(created));
  const vm = await backend.sessions.library.get('Thumb');

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(serve.url);
  await page.locator('.vm-row[data-vm-name="Thumb"]').waitFor();
  assert.equal((await thumbnailOf(page, 'Thumb')).live, 'none', 'a VM never run has no thumbnail');

  const started = await backend.call('startVm', { id: vm.config.id });
  assert.ok(started.ok, JSON.stringify(started));
  serial = await SerialConsole.connect(libraryVmRuntimeDir(vm).serialSocket);
  await until(
    'the guest shell',
    () =>
      serial!.run('true', { timeoutMs: 3_000 }).then(
        () => true,
        () => false,
      ),
    120_000,
    500,
  );
  const before = await until(
    'a live thumbnail',
    async () => {
      const t = await thumbnailOf(page, 'Thumb');
      return t.live === 'true' && t.img;
    },
    60_000,
    200,
  );
  assert.ok(!isRed(before), 'the console is not red before the paint');

  await paintFramebufferRed(serial);
  const painted = await liveThumbnailTurnsRed(page, 'Thumb');
  assert.ok(isRed(painted));

  const stopped = await backend.call('stopVm', { id: vm.config.id, force: true });
  assert.ok(stopped.ok && stopped.value.state === 'stopped', JSON.stringify(stopped));
  const saved = decodePng(readFileSync(lastScreenPath(vm.dir)));
  assert.ok(isRed(saved), `the saved last screen is red: centre ${pixel(saved, 0.5, 0.5)}`);
  assert.equal(saved.width, 192);
  assert.equal(statSync(lastScreenPath(vm.dir)).mode & 0o777, 0o600);
  const after = await savedThumbnail(page, 'Thumb');
  assert.ok(isRed(after), 'the stopped VM’s row shows the red screen');
  assert.deepEqual(errors, []);
});

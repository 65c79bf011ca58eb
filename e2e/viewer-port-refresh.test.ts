// Chromium (software GL): the Electron pixel path's repaint after a lost WebGL context. The real
// Viewer reads from the real PortDisplayStream over a MessageChannel; the other end is scripted
// like the display utility: a surface and one full frame, then no new damage, and a full frame
// only when the viewer sends {t:'refresh'} (e2e/port-refresh-page.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, serveDir } from './helpers/chromium.js';
import type { PortRefreshPageApi } from './port-refresh-page.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
let server: Server;
let browser: Browser;
let page: Page;

declare global {
  interface Window {
    portRefresh: PortRefreshPageApi;
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kju-port-refresh-'));
  await build({ entryPoints: { page: join(root, 'e2e/port-refresh-page.ts') }, outdir: dir, bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', logLevel: 'warning' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><body style="margin:0"><script type="module" src="page.js"></script>');
  let base: string;
  ({ server, base } = await serveDir(dir));
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(base);
  await page.waitForFunction(() => document.title === 'port-refresh ready');
});

after(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('after a WebGL context loss and restore, the refresh over the port repaints the whole surface with no new damage', async (t) => {
  const r = await page.evaluate(() => window.portRefresh.lossAndRestore({ streamRefresh: true }));
  if (r.skipped) return t.skip('no WEBGL_lose_context in this Chromium');
  assert.equal(r.drawnBefore, undefined, 'the first frame was on screen before the loss');
  assert.equal(r.wasLost, true);
  assert.equal(r.refreshes, 1, 'the viewer asked once, over the port, as a contract ViewerMessage');
  assert.deepEqual(r.unexpected, []);
  assert.equal(r.framesSent, 2, 'the only frame after the first is the answer to refresh');
  assert.equal(r.afterRestore, undefined, 'pixels read back after restore equal the surface');
});

test('without refresh on the stream (as PortDisplayStream was) the restored canvas stays blank: the test above can fail', async (t) => {
  const r = await page.evaluate(() => window.portRefresh.lossAndRestore({ streamRefresh: false }));
  if (r.skipped) return t.skip('no WEBGL_lose_context in this Chromium');
  assert.equal(r.drawnBefore, undefined);
  assert.equal(r.wasLost, true);
  assert.equal(r.refreshes, 0);
  assert.equal(r.framesSent, 1, 'no new damage, so nothing was sent after the first frame');
  assert.notEqual(r.afterRestore, undefined, 'the restored context does not show the surface');
  console.log(`# without refresh, after restore: ${r.afterRestore}`);
});

// Chromium (not Electron): the page half of zero-copy. In a cross-origin-isolated page, a
// SharedArrayBuffer view posted with window.postMessage to the page's own window arrives shared
// (not copied), and withSharedViews (renderer/display/shared-views.ts) hands it to the viewer as
// stream.surfacePixels(id). Electron's preload posts from an isolated world, which Chromium's
// page here does not have: that part stays unverified (see main/electron/preload/shared-surfaces.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let server: Server;
let browser: Browser;
let page: Page;

before(async () => {
  const out = await build({
    entryPoints: [`${root}renderer/display/shared-views.ts`],
    bundle: true,
    format: 'iife',
    globalName: 'sharedViews',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'warning',
  });
  const js = out.outputFiles[0].text;
  server = createServer((req, res) => {
    const isJs = req.url === '/sv.js';
    res.writeHead(isJs || req.url === '/' ? 200 : 404, {
      'content-type': isJs ? 'text/javascript' : 'text/html',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(isJs ? js : '<!doctype html><script src="/sv.js"></script>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('a posted SAB view arrives shared and becomes surfacePixels of the keyed stream only', async () => {
  // a string, so tsx's keepNames helpers do not leak into the page
  const r = await page.evaluate(`(async () => {
    const w = window;
    const noop = () => {};
    const base = { onMessage: noop, onFrame: noop, pull: noop, sendInput: noop, close: noop };
    const stream = w.sharedViews.withSharedViews({ ...base, sharedSurfaceKey: 'vm/0/1' });
    const plain = w.sharedViews.withSharedViews(base);
    const view = new Uint8Array(new SharedArrayBuffer(4096 + 64), 64, 1024);
    const arrived = new Promise((res) => addEventListener('message', (e) => res(e.data.view), { once: true }));
    window.postMessage({ kju: 'shared-surface', key: 'vm/0/1', surfaceId: 7, view, stride: 64 }, location.origin);
    window.postMessage({ kju: 'shared-surface', key: 'other', surfaceId: 8, view, stride: 64 }, location.origin);
    const got = await arrived;
    await new Promise((res) => setTimeout(res, 50));
    view[5] = 42; // written by "the guest" after the post
    const mine = stream.surfacePixels?.(7);
    return {
      coi: crossOriginIsolated,
      shared: got.buffer instanceof SharedArrayBuffer,
      seesLaterWrite: mine?.[5] === 42,
      offset: mine?.byteOffset,
      otherKey: stream.surfacePixels?.(8) === undefined,
      plainUnchanged: plain === base,
    };
  })()`);
  assert.deepEqual(r, { coi: true, shared: true, seesLaterWrite: true, offset: 64, otherKey: true, plainUnchanged: true });
});

// kju serve end to end in real Chromium: a SyntheticDisplay behind startServe, a test page that uses
// createWsBridge + decodeFramePacket to rebuild the surface, and checks that the rebuilt pixels
// equal the source, that slow viewers do not slow others, and that bad clients are refused or closed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { type Browser, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import type { BackendArgs, BackendMethod, BackendValue, Result, VmSummary } from '../common/contract.js';
import type { DisplaySource } from '../main/display/display-source.js';
import { SyntheticDisplay } from '../main/display/synthetic-display.js';
import type { ServeBackend } from '../main/backend/backend.js';
import { startServe, type ServeHandle } from '../main/serve/serve.js';
import { launchChromium } from './helpers/chromium.js';
import { SERVE_PROTOCOL, serveProtocols } from '../common/serve-auth.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const vm: VmSummary = { id: 'vm1', name: 'Synthetic', state: 'running', displayDevice: 'dbus', memoryMiB: 128, cpus: 1 };

let site: string;
let browser: Browser;
let serve: ServeHandle;
let display: SyntheticDisplay;
let opened = 0;
const vmListeners = new Set<(vms: VmSummary[]) => void>();
const log: string[] = [];

const backend: ServeBackend = {
  async call<M extends BackendMethod>(method: M, _args: BackendArgs<M>): Promise<Result<BackendValue<M>>> {
    if (method === 'listVms') return { ok: true, value: [vm] as BackendValue<M> };
    return { ok: false, code: 'unknown-method', message: `${method} is not available in this test` };
  },
  async openDisplay(vmId: string, console: number): Promise<Result<DisplaySource>> {
    if (vmId !== 'vm1' || console !== 0) return { ok: false, code: 'not-found', message: `no display ${vmId}:${console}` };
    opened++;
    // Each open gets a fresh source, as the real backend would; the test scripts the current one.
    display = new SyntheticDisplay({ width: 320, height: 200, rowPadding: 32 });
    return { ok: true, value: display };
  },
  onVmsChanged(cb) {
    vmListeners.add(cb);
    return () => vmListeners.delete(cb);
  },
};

async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  await page.goto(serve.url);
  await page.waitForFunction(() => document.title === 'kju serve test page ready');
  return page;
}

const state = (page: Page, name: string) => page.evaluate((n) => window.kjuTest.state(n), name);

async function matchesSource(page: Page, name: string): Promise<boolean> {
  const s = await state(page, name);
  if (s.surfaceId !== display.surface!.id) return false;
  const got = Buffer.from(await page.evaluate((n) => window.kjuTest.pixels(n), name), 'base64');
  return got.equals(Buffer.from(display.snapshot()));
}

before(async () => {
  site = mkdtempSync(join(tmpdir(), 'kju-serve-e2e-'));
  await build({ entryPoints: [join(root, 'e2e/serve-viewer-page.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', outfile: join(site, 'index.js'), logLevel: 'warning' });
  writeFileSync(join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>loading</title><script type="module" src="index.js"></script>');
  serve = await startServe({ backend, staticDir: site, log: (l) => log.push(l) });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await serve?.close();
  if (site) rmSync(site, { recursive: true, force: true });
});

test('the page loads cross-origin isolated, calls the backend, and gets VM list pushes', async () => {
  const page = await newPage();
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  const r = await page.evaluate(() => window.kjuTest.call('listVms', {}));
  assert.deepEqual(r, { ok: true, value: [vm] });
  const bad = await page.evaluate(() => window.kjuTest.call('startVm', { id: 'vm1' }));
  assert.deepEqual(bad, { ok: false, code: 'unknown-method', message: 'startVm is not available in this test' });
  await until('backend socket subscribed', () => vmListeners.size > 0);
  for (const cb of vmListeners) cb([{ ...vm, state: 'paused' }]);
  await until('vms pushed', async () => (await page.evaluate(() => window.kjuTest.vmPushes().length)) > 0);
  assert.equal((await page.evaluate(() => window.kjuTest.vmPushes()))[0][0].state, 'paused');
  await page.close();
});

test('the rebuilt surface equals the source after scripted damage', async () => {
  const page = await newPage();
  assert.equal(await page.evaluate(() => window.kjuTest.open('v', 'vm1', true)), 'ok');
  await until('first full frame', () => matchesSource(page, 'v'));
  for (let i = 0; i < 20; i++) {
    display.paint(
      [
        { x: (i * 37) % 300, y: (i * 23) % 180, w: 20, h: 20 },
        { x: 0, y: i, w: 320, h: 1 },
      ],
      (x, y) => (0xff000000 | (x * 1000 + y * 7 + i)) >>> 0,
    );
    await new Promise((r) => setTimeout(r, 5));
  }
  await until('damage converged', () => matchesSource(page, 'v'));
  const s = await state(page, 'v');
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.messages.slice(0, 2), ['surface', 'input-mode']);
  await page.close();
});

test('the page loads without a token; its sockets need the token as a subprotocol; the URL loses it', async () => {
  const bare = await browser.newContext();
  const res = await (await bare.newPage()).goto(`${serve.origin}/`);
  assert.equal(res?.status(), 200);
  await bare.close();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(serve.url);
  await page.waitForFunction(() => document.title === 'kju serve test page ready');
  assert.equal(page.url(), `${serve.origin}/`, 'the token was removed from the address bar');
  assert.equal(await page.evaluate(() => document.cookie), '');
  const control = `ws://127.0.0.1:${serve.port}/ws/backend`;
  const withToken = await page.evaluate(([u, p]) => window.kjuTest.raw(u, [], p), [control, serveProtocols(serve.token)] as const);
  assert.deepEqual(withToken, { opened: true, code: 1000, reason: '', protocol: SERVE_PROTOCOL });
  assert.deepEqual(await page.evaluate((u) => window.kjuTest.raw(u, []), control), { opened: false, code: 1006, reason: '', protocol: '' });
  assert.deepEqual(await page.evaluate(([u, p]) => window.kjuTest.raw(u, [], p), [control, serveProtocols('x'.repeat(43))] as const), { opened: false, code: 1006, reason: '', protocol: '' });
  // A reload keeps working: the tab kept the token (sessionStorage is per origin, port included).
  await page.reload();
  await page.waitForFunction(() => document.title === 'kju serve test page ready');
  assert.equal((await page.evaluate(() => window.kjuTest.call('listVms', {}))).ok, true);
  await ctx.close();
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws/display?vm=vm1&token=${serve.token}`, { origin: serve.origin });
    ws.on('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
    ws.on('open', () => reject(new Error('opened without a token protocol')));
    ws.on('error', reject);
  });
  assert.equal(status, 401);
});

test('after the serve page, requests to another local port carry no kju token; serve sets no cookie', async () => {
  const seen: { url: string; headers: Record<string, string | string[] | undefined> }[] = [];
  const other: Server = createServer((q, r) => {
    seen.push({ url: q.url ?? '', headers: q.headers });
    r.end('<!doctype html><title>another local service</title><img src="/pixel.png">');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const setCookies: string[] = [];
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    page.on('response', async (r) => {
      const v = await r.headerValue('set-cookie');
      if (v) setCookies.push(`${r.url()}: ${v}`);
    });
    await page.goto(serve.url);
    await page.waitForFunction(() => document.title === 'kju serve test page ready');
    assert.equal((await page.evaluate(() => window.kjuTest.call('listVms', {}))).ok, true, 'the page holds a working token');
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
    await page.goto(otherUrl);
    await page.evaluate((u) => fetch(`${u}api`, { credentials: 'include' }).then((r) => r.text()), otherUrl);
    assert.ok(seen.length >= 2, `the second server saw ${seen.length} requests`);
    for (const req of seen) {
      assert.equal(req.headers.cookie, undefined, `${req.url} carried a cookie`);
      const all = JSON.stringify(req);
      assert.ok(!all.includes(serve.token), `${req.url} carried the token: ${all}`);
    }
    assert.deepEqual(await ctx.cookies(), []);
    assert.deepEqual(setCookies, []);
  } finally {
    await ctx.close();
    other.close();
  }
});

test('a page of another origin is refused even with the token', async () => {
  const other: Server = createServer((_q, r) => r.end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
    const before = serve.stats().upgradesRefused;
    const r = await page.evaluate(
      ([u, p]) =>
        new Promise<{ opened: boolean; code: number }>((resolve) => {
          const ws = new WebSocket(u, [...p]);
          let opened = false;
          ws.onopen = () => (opened = true);
          ws.onclose = (e) => resolve({ opened, code: e.code });
        }),
      [`ws://127.0.0.1:${serve.port}/ws/backend`, serveProtocols(serve.token)] as const,
    );
    assert.deepEqual(r, { opened: false, code: 1006 });
    assert.equal(serve.stats().upgradesRefused, before + 1);
    assert.ok(log.some((l) => l.includes('Origin does not match')));
    await page.close();
  } finally {
    other.close();
  }
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws/backend`, serveProtocols(serve.token), { origin: 'http://evil.example' });
    ws.on('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
    ws.on('open', () => reject(new Error('opened with a foreign origin')));
    ws.on('error', reject);
  });
  assert.equal(status, 403);
});

test('a viewer that never pulls does not slow the other; its queue stays merged and small', async () => {
  const page = await newPage();
  assert.equal(await page.evaluate(() => window.kjuTest.open('slow', 'vm1', false)), 'ok');
  assert.equal(await page.evaluate(() => window.kjuTest.open('fast', 'vm1', true)), 'ok');
  await until('fast synced', () => matchesSource(page, 'fast'));
  const rate = 60;
  const stop = display.animate({ rate, rectsPerTick: 6, maxSide: 40, seed: 7 });
  const f0 = (await state(page, 'fast')).frames;
  await new Promise((r) => setTimeout(r, 2000));
  const f1 = (await state(page, 'fast')).frames;
  const slowStats = serve.viewers().find((v) => v.framesSent === 0);
  stop();
  const perSecond = (f1 - f0) / 2;
  assert.ok(perSecond >= rate * 0.6, `fast viewer got ${perSecond} frames/s of ${rate} damage events/s`);
  assert.ok(slowStats, 'the slow viewer got no frame');
  assert.ok(slowStats.queuedRects <= 64, `slow queue holds ${slowStats.queuedRects} rects`);
  assert.ok(slowStats.bufferedAmount < 64 * 1024, `slow socket buffers ${slowStats.bufferedAmount} bytes`);
  await until('fast converged', () => matchesSource(page, 'fast'));
  await page.evaluate(() => window.kjuTest.pull('slow'));
  await until('slow caught up with one pull', () => matchesSource(page, 'slow'));
  assert.equal((await state(page, 'slow')).frames, 1);
  await page.close();
});

test('clients sending garbage are closed; another viewer keeps working', async () => {
  const page = await newPage();
  assert.equal(await page.evaluate(() => window.kjuTest.open('good', 'vm1', true)), 'ok');
  await until('good synced', () => matchesSource(page, 'good'));
  const stop = display.animate({ rate: 50, rectsPerTick: 3, seed: 11 });
  const url = `ws://127.0.0.1:${serve.port}/ws/display?vm=vm1`;
  const before = serve.stats().protocolViolations;
  const cases: [string, (string | number[])[], number][] = [
    ['invalid JSON', ['{"t":"pull"'], 1008],
    ['unknown type', ['{"t":"reboot"}'], 1008],
    ['bad key', ['{"t":"input","input":{"t":"key","down":true,"qnum":1024}}'], 1008],
    ['bad button', ['{"t":"input","input":{"t":"button","down":true,"button":99}}'], 1008],
    ['negative abs', ['{"t":"input","input":{"t":"abs","x":-3,"y":2}}'], 1008],
    ['binary', [[1, 2, 3, 4]], 1003],
    ['huge', [JSON.stringify({ t: 'pull', pad: 'x'.repeat(200_000) })], 1009],
  ];
  for (const [what, sends, code] of cases) {
    const r = await page.evaluate(([u, s, p]) => window.kjuTest.raw(u, s, p), [url, sends, serveProtocols(serve.token)] as [string, (string | number[])[], string[]]);
    assert.equal(r.opened, true, what);
    assert.equal(r.code, code, what);
  }
  const f = (await state(page, 'good')).frames;
  await until('good keeps receiving', async () => (await state(page, 'good')).frames > f + 10);
  stop();
  await until('good converged', () => matchesSource(page, 'good'));
  const s = await state(page, 'good');
  assert.equal(s.closed, null);
  assert.deepEqual(s.errors, []);
  assert.equal(serve.stats().protocolViolations - before, cases.length);
  assert.equal(display.inputs.length, 0, 'no garbage reached the display');
  await page.close();
});

test('input from the bridge reaches the source', async () => {
  const page = await newPage();
  assert.equal(await page.evaluate(() => window.kjuTest.open('in', 'vm1', true)), 'ok');
  await until('synced', () => matchesSource(page, 'in'));
  await page.evaluate(() => {
    window.kjuTest.input('in', { t: 'key', down: true, qnum: 28 });
    window.kjuTest.input('in', { t: 'abs', x: 319, y: 199 });
    window.kjuTest.input('in', { t: 'abs', x: 320, y: 0 });
    window.kjuTest.input('in', { t: 'button', down: true, button: 2 });
  });
  await until('inputs', () => display.inputs.length >= 3);
  assert.deepEqual(display.inputs, [
    { t: 'key', down: true, qnum: 28 },
    { t: 'abs', x: 319, y: 199 },
    { t: 'button', down: true, button: 2 },
  ]);
  assert.equal((await state(page, 'in')).closed, null, 'an abs position just outside the surface is dropped, not fatal');
  await page.close();
});

test('a resolution storm of 100 surface changes ends with the final surface, fully drawn', async () => {
  const page = await newPage();
  assert.equal(await page.evaluate(() => window.kjuTest.open('storm', 'vm1', true)), 'ok');
  assert.equal(await page.evaluate(() => window.kjuTest.open('lazy', 'vm1', false)), 'ok');
  await until('synced', () => matchesSource(page, 'storm'));
  const start = Date.now();
  for (let i = 0; i < 100; i++) {
    display.setSurface(64 + ((i * 37) % 400), 48 + ((i * 29) % 300));
    if (i % 4 === 0) display.paint([{ x: 0, y: 0, w: 10, h: 10 }], () => 0xff00ff00 + i);
    await new Promise((r) => setTimeout(r, 10));
  }
  const final = display.setSurface(333, 211);
  display.paint([{ x: 300, y: 200, w: 33, h: 11 }], () => 0xff0000ff);
  const elapsed = Date.now() - start;
  await until('storm viewer has the final surface', () => matchesSource(page, 'storm'));
  await page.evaluate(() => window.kjuTest.pull('lazy'));
  await until('lazy viewer has the final surface', () => matchesSource(page, 'lazy'));
  for (const name of ['storm', 'lazy']) {
    const s = await state(page, name);
    assert.equal(s.surfaceId, final.id, name);
    assert.deepEqual([s.width, s.height], [333, 211]);
    assert.deepEqual(s.errors, [], name);
  }
  assert.ok(elapsed < 5000, `storm took ${elapsed} ms`);
  await page.close();
});

test('closing the source tells the viewer; the last viewer leaving closes the source', async () => {
  const page = await newPage();
  assert.equal(await page.evaluate(() => window.kjuTest.open('c', 'vm1', true)), 'ok');
  const first = display;
  first.close('QEMU exited');
  await until('closed seen', async () => (await state(page, 'c')).closed !== null);
  assert.equal((await state(page, 'c')).closed, 'QEMU exited');
  const failed = await page.evaluate(() => window.kjuTest.open('ghost', 'nope', true));
  assert.equal(failed, 'display-unavailable: no display nope:0');
  assert.equal(await page.evaluate(() => window.kjuTest.open('d', 'vm1', true)), 'ok');
  const second = display;
  assert.notEqual(second, first);
  await page.evaluate(() => window.kjuTest.close('d'));
  await until('source released', () => second.closed);
  assert.equal(serve.stats().openDisplays, 0);
  await page.close();
  assert.ok(opened >= 2);
  assert.deepEqual(
    log.filter((l) => l.startsWith('pageerror')),
    [],
  );
});

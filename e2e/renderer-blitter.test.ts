// The WebGL2 blitter and the viewer in real Chromium (software GL: SwiftShader). A test page is
// bundled with esbuild into a temp dir and served with COOP/COEP so SharedArrayBuffer is available.
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
import type { BlitterPageApi } from '../renderer/testing/blitter-page.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/** both blitters pass the same exact-pixel cases */
const BLITTERS = ['webgl', 'canvas2d'] as const;

let dir: string;
let server: Server;
let browser: Browser;
let page: Page;
let base: string;

declare global {
  interface Window {
    kju: BlitterPageApi;
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kju-blitter-'));
  await build({ entryPoints: { blitter: join(root, 'renderer/testing/blitter-page.ts') }, outdir: dir, bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', logLevel: 'warning' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><body style="margin:0"><script type="module" src="blitter.js"></script>');
  ({ server, base } = await serveDir(dir, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }));
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(base);
  await page.waitForFunction(() => document.title === 'ready');
});

after(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the page is cross-origin isolated and has WebGL2', async () => {
  const r = await page.evaluate(() => ({ coi: crossOriginIsolated, gl: !!document.createElement('canvas').getContext('webgl2') }));
  assert.deepEqual(r, { coi: true, gl: true });
});

for (const kind of BLITTERS)
  test(`full surface from a FramePacket: exact RGB, BGRX swizzled, alpha forced to 255 (${kind})`, async () => {
    const diff = await page.evaluate((kind) => {
      const k = window.kju;
      const b = new k.blitters[kind](k.makeCanvas());
      const w = 97,
        h = 61;
      b.setSurface(w, h);
      const px = k.makeSurface(w, h, 1);
      const rects = [{ x: 0, y: 0, w, h }];
      const f = k.decodeFramePacket(k.encodeFramePacket(1, rects, { pixels: px, stride: w * 4 }), { width: w, height: h });
      b.uploadPacked(f.rects, f.pixels!);
      const got = b.readPixels();
      const raw = Array.from(got.slice(0, 4));
      const d = k.firstDifference(got, k.expectedRgba(px, w, h, w * 4), w);
      b.destroy();
      return { d, raw, src: Array.from(px.slice(0, 4)) };
    }, kind);
    assert.equal(diff.d, undefined);
    assert.deepEqual(diff.raw, [diff.src[2], diff.src[1], diff.src[0], 255]);
  });

for (const kind of BLITTERS)
  test(`several damage rects from FramePackets land exactly, the rest stays (${kind})`, async () => {
    const d = await page.evaluate((kind) => {
      const k = window.kju;
      const b = new k.blitters[kind](k.makeCanvas());
      const w = 64,
        h = 48,
        stride = w * 4;
      b.setSurface(w, h);
      const px = k.makeSurface(w, h, 2);
      const all = [{ x: 0, y: 0, w, h }];
      let f = k.decodeFramePacket(k.encodeFramePacket(1, all, { pixels: px, stride }), { width: w, height: h });
      b.uploadPacked(f.rects, f.pixels!);
      const rects = [
        { x: 0, y: 0, w: 1, h: 1 },
        { x: 10, y: 5, w: 7, h: 9 },
        { x: 63, y: 47, w: 1, h: 1 },
        { x: 20, y: 20, w: 30, h: 3 },
        { x: 0, y: 40, w: 64, h: 2 },
      ];
      k.paintRects(px, stride, rects, 77);
      f = k.decodeFramePacket(k.encodeFramePacket(1, rects, { pixels: px, stride }), { width: w, height: h });
      b.uploadPacked(f.rects, f.pixels!);
      const out = k.firstDifference(b.readPixels(), k.expectedRgba(px, w, h, stride), w);
      b.destroy();
      return out;
    }, kind);
    assert.equal(d, undefined);
  });

for (const kind of BLITTERS)
  test(`SharedArrayBuffer surface with a padded stride: damage read in place (${kind})`, async () => {
    const r = await page.evaluate((kind) => {
      const k = window.kju;
      const b = new k.blitters[kind](k.makeCanvas());
      const w = 50,
        h = 40,
        stride = w * 4 + 64;
      b.setSurface(w, h);
      const px = k.makeSurface(w, h, 3, stride, true);
      b.uploadFromSurface([{ x: 0, y: 0, w, h }], px, stride);
      const first = k.firstDifference(b.readPixels(), k.expectedRgba(px, w, h, stride), w);
      const rects = [
        { x: 5, y: 6, w: 11, h: 13 },
        { x: 49, y: 0, w: 1, h: 40 },
        { x: 0, y: 39, w: 50, h: 1 },
      ];
      k.paintRects(px, stride, rects, 9);
      b.uploadFromSurface(rects, px, stride);
      const second = k.firstDifference(b.readPixels(), k.expectedRgba(px, w, h, stride), w);
      b.destroy();
      return { shared: px.buffer instanceof SharedArrayBuffer, first, second };
    }, kind);
    assert.deepEqual(r, { shared: true, first: undefined, second: undefined });
  });

test('Canvas 2D at 1:1 puts only the damaged rects onto the visible canvas; scaled, it stays exact', async () => {
  const r = await page.evaluate(async () => {
    const k = window.kju;
    const canvas = k.makeCanvas(200, 150);
    const b = new k.blitters.canvas2d(canvas);
    b.setScaling('one-to-one', false);
    const w = 120,
      h = 90,
      stride = w * 4;
    b.setSurface(w, h);
    const px = k.makeSurface(w, h, 1);
    b.uploadPacked([{ x: 0, y: 0, w, h }], [px]);
    await new Promise((res) => requestAnimationFrame(res));
    const p = b.placement()!;
    const ctx = canvas.getContext('2d')!;
    // A marker painted on the visible canvas outside the next damage must survive the next draw.
    ctx.fillStyle = 'rgb(255,0,0)';
    ctx.fillRect(p.x + 100, p.y + 80, 4, 4);
    const rects = [
      { x: 3, y: 4, w: 20, h: 10 },
      { x: 60, y: 50, w: 7, h: 30 },
    ];
    k.paintRects(px, stride, rects, 7);
    b.uploadFromSurface(rects, px, stride);
    await new Promise((res) => requestAnimationFrame(res));
    const marker = [...ctx.getImageData(p.x + 101, p.y + 81, 1, 1).data];
    const damaged = [...ctx.getImageData(p.x + 3, p.y + 4, 1, 1).data];
    const want = [...k.expectedRgba(px, w, h, stride).subarray((4 * w + 3) * 4, (4 * w + 3) * 4 + 4)];
    // The marker is gone from readPixels' answer only after that rect is damaged again.
    k.paintRects(px, stride, [{ x: 100, y: 80, w: 4, h: 4 }], 8);
    b.uploadFromSurface([{ x: 100, y: 80, w: 4, h: 4 }], px, stride);
    const oneToOne = k.firstDifference(b.readPixels(), k.expectedRgba(px, w, h, stride), w);
    b.setScaling('fit', false);
    const more = [{ x: 0, y: 0, w: 5, h: 5 }];
    k.paintRects(px, stride, more, 9);
    b.uploadFromSurface(more, px, stride); // while the full redraw for the new scale is pending
    await new Promise((res) => requestAnimationFrame(res));
    const scaled = k.firstDifference(b.readPixels(), k.expectedRgba(px, w, h, stride), w);
    const place = { oneToOne: p, fit: b.placement() };
    b.destroy();
    return { marker, damaged, want, oneToOne, scaled, place };
  });
  assert.deepEqual(r.marker, [255, 0, 0, 255], 'pixels outside the damage were not repainted');
  assert.deepEqual(r.damaged, r.want);
  assert.equal(r.oneToOne, undefined);
  assert.equal(r.scaled, undefined);
  assert.equal(r.place.oneToOne.w, 120);
  assert.notEqual(r.place.fit?.w, 120, 'fit scales the surface, so the offscreen path ran');
});

for (const kind of BLITTERS)
  test(`surface size storm: 100 size changes in a row, final state exact (${kind})`, async () => {
    const d = await page.evaluate(async (kind) => {
      const k = window.kju;
      const b = new k.blitters[kind](k.makeCanvas());
      let last: { px: Uint8Array; w: number; h: number } | undefined;
      for (let i = 0; i < 100; i++) {
        const w = 16 + ((i * 37) % 300),
          h = 9 + ((i * 53) % 200);
        b.setSurface(w, h);
        const px = k.makeSurface(w, h, i);
        b.uploadPacked([{ x: 0, y: 0, w, h }], [px]);
        if (i % 10 === 0) await new Promise((r) => requestAnimationFrame(r));
        last = { px, w, h };
      }
      const { px, w, h } = last!;
      const out = { size: b.surfaceSize(), d: k.firstDifference(b.readPixels(), k.expectedRgba(px, w, h, w * 4), w) };
      b.destroy();
      return out;
    }, kind);
    assert.equal(d.d, undefined);
    assert.deepEqual(d.size, { width: 16 + ((99 * 37) % 300), height: 9 + ((99 * 53) % 200) });
  });

for (const kind of BLITTERS)
  test(`viewer: malformed packets are dropped, each still pulls, the next good one draws (${kind})`, async () => {
    const r = await page.evaluate(async (kind) => {
      const k = window.kju;
      const fake = k.makeFakeStream();
      const v = new k.Viewer({ canvas: k.makeCanvas(), stream: fake.stream, blitter: kind });
      const w = 32,
        h = 24,
        stride = w * 4;
      fake.message({ t: 'surface', surface: { id: 5, width: w, height: h, stride, format: 0x20020888, transport: 'copy' } });
      const px = k.makeSurface(w, h, 4);
      const good = k.encodeFramePacket(5, [{ x: 0, y: 0, w, h }], { pixels: px, stride });
      const badMagic = good.slice(0);
      new Uint32Array(badMagic)[0] = 0xdeadbeef;
      const outside = k.encodeFramePacket(5, [{ x: 30, y: 0, w: 4, h: 1 }]);
      const truncated = good.slice(0, good.byteLength - 8);
      const trailing = new Uint8Array(good.byteLength + 4);
      trailing.set(new Uint8Array(good));
      const tooManyRects = good.slice(0, 16);
      new Uint32Array(tooManyRects)[2] = 1e6;
      const pullsBefore = fake.log.pulls;
      for (const bad of [badMagic, outside, truncated, trailing.buffer, tooManyRects, new ArrayBuffer(3)]) {
        fake.frame(bad);
        await new Promise((res) => requestAnimationFrame(res));
      }
      const stale = k.encodeFramePacket(4, [{ x: 0, y: 0, w, h }], { pixels: new Uint8Array(w * h * 4), stride });
      fake.frame(stale);
      fake.frame(good);
      const d = k.firstDifference(v.blitter.readPixels(), k.expectedRgba(px, w, h, stride), w);
      const out = { d, bad: v.getState().badPackets, pulls: fake.log.pulls - pullsBefore };
      v.destroy();
      return { ...out, closed: fake.log.closed, kind: v.getState().blitter?.kind };
    }, kind);
    assert.equal(r.d, undefined);
    assert.equal(r.bad, 6);
    assert.ok(r.pulls >= 7, `pulled ${r.pulls} times for 8 packets (one pull after each, held only after 8 batches without a present)`);
    assert.equal(r.closed, true);
    assert.equal(r.kind, kind);
  });

test('context loss and restore: resources come back and the viewer asks for a refresh', async () => {
  const r = await page.evaluate(async () => {
    const k = window.kju;
    const fake = k.makeFakeStream();
    const canvas = k.makeCanvas();
    const v = new k.Viewer({ canvas, stream: fake.stream, blitter: 'webgl' }); // context loss is a GL matter
    const w = 20,
      h = 10,
      stride = w * 4;
    fake.message({ t: 'surface', surface: { id: 1, width: w, height: h, stride, format: 0x20020888, transport: 'copy' } });
    const ext = (canvas.getContext('webgl2') as WebGL2RenderingContext).getExtension('WEBGL_lose_context');
    if (!ext) return { skipped: true };
    const lost = new Promise((res) => canvas.addEventListener('webglcontextlost', res, { once: true }));
    ext.loseContext();
    await k.within(lost, 'webglcontextlost');
    // Chromium allows restoreContext only once the lost event's dispatch has returned.
    await new Promise((res) => setTimeout(res, 0));
    const wasLost = v.blitter.isContextLost();
    const restored = new Promise((res) => canvas.addEventListener('webglcontextrestored', res, { once: true }));
    ext.restoreContext();
    await k.within(restored, 'webglcontextrestored');
    const px = k.makeSurface(w, h, 6);
    fake.frame(k.encodeFramePacket(1, [{ x: 0, y: 0, w, h }], { pixels: px, stride }));
    const d = k.firstDifference(v.blitter.readPixels(), k.expectedRgba(px, w, h, stride), w);
    const out = { skipped: false, wasLost, refreshes: fake.log.refreshes, d };
    v.destroy();
    return out;
  });
  if (r.skipped) return;
  assert.deepEqual(r, { skipped: false, wasLost: true, refreshes: 1, d: undefined });
});

test('auto picks Canvas 2D on software WebGL, WebGL2 on a GPU; a setting overrides; the reason names the renderer', async () => {
  const r = await page.evaluate(() => {
    const k = window.kju;
    const here = k.webglRenderer();
    return {
      here,
      auto: k.chooseBlitter('auto', here),
      swiftshader: k.chooseBlitter('auto', 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)'),
      llvmpipe: k.chooseBlitter('auto', 'llvmpipe (LLVM 15.0.6, 256 bits)'),
      gpu: k.chooseBlitter('auto', 'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)'),
      forcedGl: k.chooseBlitter('webgl', 'llvmpipe (LLVM 15.0.6, 256 bits)'),
      forced2d: k.chooseBlitter('canvas2d', 'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)'),
      noGl: k.chooseBlitter('webgl', undefined),
    };
  });
  // This Chromium runs SwiftShader: auto must choose Canvas 2D here.
  assert.match(r.here ?? '', /swiftshader/i);
  assert.equal(r.auto.kind, 'canvas2d');
  assert.ok(r.auto.reason.includes(r.here!), r.auto.reason);
  assert.deepEqual([r.swiftshader.kind, r.llvmpipe.kind, r.gpu.kind, r.forcedGl.kind, r.forced2d.kind, r.noGl.kind], ['canvas2d', 'canvas2d', 'webgl', 'webgl', 'canvas2d', 'canvas2d']);
  assert.match(r.gpu.reason, /UHD Graphics 620/);
  assert.match(r.forced2d.reason, /settings/);
});

test('measurement (printed, not asserted): upload times in this Chromium', async () => {
  const m = await page.evaluate(() => {
    const k = window.kju;
    const out = [];
    for (const kind of ['webgl', 'canvas2d'] as const) {
      const b = new k.blitters[kind](k.makeCanvas());
      const r256 = k.timeUpload(b, 1920, 1080, { x: 512, y: 256, w: 256, h: 256 }, 30);
      const full = k.timeUpload(b, 1920, 1080, { x: 0, y: 0, w: 1920, h: 1080 }, 15);
      b.destroy();
      out.push({ kind, r256, full });
    }
    return { rows: out, renderer: k.glRendererName() };
  });
  const f = (x: { median: number; min: number; max: number }) => `median ${x.median.toFixed(2)} ms (min ${x.min.toFixed(2)}, max ${x.max.toFixed(2)})`;
  console.log(`[measure] GL renderer: ${m.renderer}`);
  for (const row of m.rows) {
    console.log(`[measure] ${row.kind}: 256x256 rect upload + finish: ${f(row.r256)}`);
    console.log(`[measure] ${row.kind}: 1920x1080 full upload + finish: ${f(row.full)}`);
  }
});

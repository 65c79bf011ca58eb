import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { decodePng } from './screenshot.js';
import { scaleSurface, thumbnailPng } from './thumbnail.js';

/** A width×height B,G,R,X surface (stride padded by 16 bytes), grey, with a red block at (bx,by,bw,bh). */
function surface(width: number, height: number, block: [number, number, number, number]) {
  const stride = width * 4 + 16;
  const pixels = new Uint8Array(stride * height).fill(0x40);
  const [bx, by, bw, bh] = block;
  for (let y = by; y < by + bh; y++) for (let x = bx; x < bx + bw; x++) pixels.set([0, 0, 255, 0], y * stride + x * 4);
  return { width, height, stride, pixels };
}

const at = (img: { width: number; rgb: Buffer }, x: number, y: number) => [...img.rgb.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];

test('a 1280x800 screen becomes 192x120, keeping a colour block where it was', () => {
  const s = surface(1280, 800, [640, 400, 320, 200]);
  const img = scaleSurface(s);
  assert.equal(img.width, 192);
  assert.equal(img.height, 120);
  assert.deepEqual(at(img, 120, 75), [255, 0, 0], 'inside the block: red');
  assert.deepEqual(at(img, 20, 20), [0x40, 0x40, 0x40], 'outside: grey');
  const png = decodePng(thumbnailPng(s));
  assert.deepEqual({ w: png.width, h: png.height }, { w: 192, h: 120 });
  assert.deepEqual(at(png, 120, 75), [255, 0, 0]);
});

test('an edge pixel box averages (a half-covered box is half red), and small screens are never scaled up', () => {
  const s = surface(20, 10, [0, 0, 1, 10]);
  const half = scaleSurface(s, 10);
  assert.deepEqual({ w: half.width, h: half.height }, { w: 10, h: 5 });
  assert.deepEqual(at(half, 0, 0), [Math.round((255 + 0x40) / 2), 0x20, 0x20]);
  const same = scaleSurface(surface(100, 50, [0, 0, 1, 1]), 192);
  assert.deepEqual({ w: same.width, h: same.height }, { w: 100, h: 50 });
  assert.deepEqual(at(same, 0, 0), [255, 0, 0]);
});

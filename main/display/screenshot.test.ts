import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePng, decodePpm, diffImages, encodePng, surfaceToRgb } from './screenshot.js';

function surface(width: number, height: number, stride: number) {
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels.set([x * 10, y * 20, 7, 0xee], y * stride + x * 4); // B,G,R,X
  return { width, height, stride, pixels };
}

test('BGRX surface with padding converts to RGB and survives a PNG round trip', () => {
  const img = surfaceToRgb(surface(3, 2, 16));
  assert.deepEqual([...img.rgb.subarray(0, 6)], [7, 0, 0, 7, 0, 10]);
  assert.deepEqual([...img.rgb.subarray(9, 12)], [7, 20, 0]);
  const back = decodePng(encodePng(img));
  assert.equal(diffImages(img, back).differing, 0);
});

test('PPM P6 with a comment decodes; a different pixel is found', () => {
  const ppm = Buffer.concat([Buffer.from('P6\n# qemu\n2 1\n255\n'), Buffer.from([1, 2, 3, 4, 5, 6])]);
  const img = decodePpm(ppm);
  assert.deepEqual([img.width, img.height, [...img.rgb]], [2, 1, [1, 2, 3, 4, 5, 6]]);
  const other = { ...img, rgb: Buffer.from([1, 2, 3, 4, 5, 7]) };
  assert.deepEqual(diffImages(img, other), { differing: 1, first: { x: 1, y: 0, a: [4, 5, 6], b: [4, 5, 7] } });
  assert.throws(() => decodePpm(Buffer.from('P6\n2 1\n255\n\x01')), /truncated/);
});

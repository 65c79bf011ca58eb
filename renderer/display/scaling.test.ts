import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxToGuest, placeSurface } from './scaling.js';

const s = (width: number, height: number) => ({ width, height });

test('fit keeps the aspect ratio and letterboxes', () => {
  assert.deepEqual(placeSurface('fit', false, s(1000, 1000), s(800, 600)), { x: 0, y: 125, w: 1000, h: 750 });
  assert.deepEqual(placeSurface('fit', false, s(1000, 300), s(800, 600)), { x: 300, y: 0, w: 400, h: 300 });
});

test('fit with integer scale rounds down to whole device pixels per guest pixel', () => {
  assert.deepEqual(placeSurface('fit', true, s(2000, 1300), s(640, 480)), { x: 360, y: 170, w: 1280, h: 960 });
  // below 1x integer scaling is impossible: plain fit
  assert.deepEqual(placeSurface('fit', true, s(400, 300), s(800, 600)), { x: 0, y: 0, w: 400, h: 300 });
});

test('one-to-one centres and may crop; fill stretches', () => {
  assert.deepEqual(placeSurface('one-to-one', false, s(1000, 1000), s(800, 600)), { x: 100, y: 200, w: 800, h: 600 });
  assert.deepEqual(placeSurface('one-to-one', false, s(400, 400), s(800, 600)), { x: -200, y: -100, w: 800, h: 600 });
  assert.deepEqual(placeSurface('fill', true, s(123, 45), s(800, 600)), { x: 0, y: 0, w: 123, h: 45 });
});

test('box points map to guest pixels and clamp to the surface', () => {
  const place = placeSurface('fit', false, s(1600, 1400), s(800, 600)); // 2x, y offset 100
  assert.deepEqual(place, { x: 0, y: 100, w: 1600, h: 1200 });
  const surf = s(800, 600);
  assert.deepEqual(boxToGuest(0, 100, place, surf), { x: 0, y: 0 });
  assert.deepEqual(boxToGuest(1599, 1299, place, surf), { x: 799, y: 599 });
  assert.deepEqual(boxToGuest(3, 105, place, surf), { x: 1, y: 2 });
  assert.deepEqual(boxToGuest(-50, 0, place, surf), { x: 0, y: 0 }, 'letterbox above clamps to row 0');
  assert.deepEqual(boxToGuest(5000, 5000, place, surf), { x: 799, y: 599 });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headWindowBounds } from './head-placement.js';

const left = { x: 0, y: 0, width: 1920, height: 1050 };
const right = { x: 1920, y: 0, width: 2560, height: 1400 };

test('head k goes to monitor k, centred in its work area', () => {
  assert.deepEqual(headWindowBounds(0, [left, right], { width: 1024, height: 800 }), { x: 448, y: 125, width: 1024, height: 800 });
  assert.deepEqual(headWindowBounds(1, [left, right], { width: 1024, height: 800 }), { x: 1920 + 768, y: 300, width: 1024, height: 800 });
});

test('more heads than monitors cascade on the last one; a window larger than the monitor is cut to it', () => {
  const b = headWindowBounds(2, [left], { width: 1024, height: 800 })!;
  assert.deepEqual([b.x, b.y], [448 + 64, 125 + 64]);
  assert.deepEqual(headWindowBounds(0, [{ x: 0, y: 0, width: 800, height: 600 }], { width: 1024, height: 800 }), { x: 0, y: 0, width: 800, height: 600 });
  assert.equal(headWindowBounds(0, [], { width: 1024, height: 800 }), undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InputMessage } from '../../common/contract.js';
import { devicePixels, GuestResizer, guestSizeMode } from './guest-size.js';

test('auto resizes virtio-vga guests and scales the rest; an explicit choice wins', () => {
  assert.equal(guestSizeMode('auto', 'virtio-vga'), 'resize');
  assert.equal(guestSizeMode('auto', 'std'), 'scale');
  assert.equal(guestSizeMode('auto', undefined), 'scale');
  assert.equal(guestSizeMode('scale', 'virtio-vga'), 'scale');
  assert.equal(guestSizeMode('resize', 'std'), 'resize');
});

test('device pixels round the CSS size times the ratio', () => {
  assert.deepEqual(devicePixels(500, 350, 2), { width: 1000, height: 700 });
  assert.deepEqual(devicePixels(333.4, 100.2, 1.5), { width: 500, height: 150 });
  assert.deepEqual(devicePixels(800, 600, Number.NaN), { width: 800, height: 600 });
});

test('a burst of sizes sends only the last one, after the quiet time, and a repeat not at all', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: InputMessage[] = [];
  const r = new GuestResizer((m) => sent.push(m), 300);
  r.windowSize(800, 600);
  t.mock.timers.tick(100);
  r.windowSize(900, 650);
  t.mock.timers.tick(299);
  assert.deepEqual(sent, []);
  r.windowSize(1000, 700);
  t.mock.timers.tick(300);
  assert.deepEqual(sent, [{ t: 'uiInfo', width: 1000, height: 700 }]);
  r.windowSize(1000, 700);
  t.mock.timers.tick(300);
  assert.equal(sent.length, 1);
  r.windowSize(0, 700); // a collapsed window: nothing, and it cancels what was pending
  t.mock.timers.tick(300);
  assert.equal(sent.length, 1);
  r.reset();
  r.windowSize(1000, 700);
  t.mock.timers.tick(300);
  assert.equal(sent.length, 2);
  r.windowSize(640, 480);
  r.dispose();
  t.mock.timers.tick(1000);
  assert.equal(sent.length, 2);
});

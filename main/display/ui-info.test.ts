import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitUiInfo, MAX_GUEST_SIZE, parseSize } from './ui-info.js';

test('an ordinary size passes unchanged', () => {
  assert.deepEqual(fitUiInfo(1000, 700), { width: 1000, height: 700, clamped: null });
});

test('0x0 and non-numbers are refused with a reason', () => {
  const r = fitUiInfo(0, 0);
  assert.ok('refused' in r && /0x0 refused/.test(r.refused));
  assert.ok('refused' in fitUiInfo(Number.NaN, 10));
  assert.ok('refused' in fitUiInfo(10, -5));
});

test('100000x100000 is clamped to the largest size a guest takes, and says so', () => {
  const r = fitUiInfo(100000, 100000);
  assert.ok(!('refused' in r));
  assert.equal(r.width, MAX_GUEST_SIZE);
  assert.equal(r.height, MAX_GUEST_SIZE);
  assert.match(r.clamped ?? '', /100000x100000 clamped to 8192x8192/);
  const tiny = fitUiInfo(3, 2000.4);
  assert.ok(!('refused' in tiny));
  assert.deepEqual([tiny.width, tiny.height], [64, 2000]);
});

test('sizes parse as WxH', () => {
  assert.deepEqual(parseSize('1000x700'), { width: 1000, height: 700 });
  assert.deepEqual(parseSize(' 640X480 '), { width: 640, height: 480 });
  assert.equal(parseSize('1000'), null);
  assert.equal(parseSize('-1x5'), null);
  assert.equal(parseSize('10x5x3'), null);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dismisses, isTopLayer, pushLayer } from './dismiss.js';

test('Escape closes the topmost popover only; other keys close nothing', () => {
  assert.equal(dismisses({ kind: 'key', key: 'Escape' }, true), true);
  assert.equal(dismisses({ kind: 'key', key: 'Escape' }, false), false);
  assert.equal(dismisses({ kind: 'key', key: 'Enter' }, true), false);
});

test('a press outside closes, a press inside does not', () => {
  assert.equal(dismisses({ kind: 'press', inside: false }, false), true);
  assert.equal(dismisses({ kind: 'press', inside: true }, true), false);
});

test('the layer stack knows the newest open popover', () => {
  const menu = {};
  const usb = {};
  const offMenu = pushLayer(menu);
  assert.equal(isTopLayer(menu), true);
  const offUsb = pushLayer(usb);
  assert.equal(isTopLayer(menu), false);
  assert.equal(isTopLayer(usb), true);
  offUsb();
  assert.equal(isTopLayer(menu), true);
  offMenu();
  assert.equal(isTopLayer(menu), false);
});

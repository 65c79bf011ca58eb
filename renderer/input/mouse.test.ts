import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MouseButtons, type InputMessage } from '../../common/contract.js';
import { MouseState, qemuButton, RelativeMotion, WheelAccumulator, type MouseView } from './mouse.js';
import { placeSurface } from '../display/scaling.js';

test('DOM buttons map to QEMU buttons, back/forward to side/extra', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(qemuButton), [0, 1, 2, 5, 6, undefined]);
});

test('wheel: one notch is one click, direction to button', () => {
  const w = new WheelAccumulator();
  assert.deepEqual(w.feed(0, -100), [MouseButtons.wheelUp]);
  assert.deepEqual(w.feed(0, 100), [MouseButtons.wheelDown]);
  assert.deepEqual(w.feed(-100, 0), [MouseButtons.wheelLeft]);
  assert.deepEqual(w.feed(100, 0), [MouseButtons.wheelRight]);
  assert.deepEqual(w.feed(0, 3, 1), [MouseButtons.wheelDown], 'Firefox: 3 lines per notch');
  assert.deepEqual(w.feed(0, 300), [4, 4, 4]);
});

test('wheel: small deltas accumulate, reversing drops the remainder', () => {
  const w = new WheelAccumulator();
  const out: number[] = [];
  for (let i = 0; i < 10; i++) out.push(...w.feed(0, 12));
  assert.deepEqual(out, [4], '120 px in 12 px steps is one click');
  assert.deepEqual(w.feed(0, -60), []);
  assert.deepEqual(w.feed(0, -60), [3], 'the 20 px left over downward did not cancel upward travel');
  assert.deepEqual(w.feed(0, 1e6).length, 10, 'capped per event');
});

test('relative motion scales and carries fractions', () => {
  const r = new RelativeMotion();
  assert.equal(r.feed(1, 0, 0.4), undefined);
  assert.equal(r.feed(1, 0, 0.4), undefined);
  assert.deepEqual(r.feed(1, 1, 0.4), { dx: 1, dy: 0 });
  assert.deepEqual(r.feed(-10, 5, 2), { dx: -19, dy: 10 });
});

function rig(opts: { absolute: boolean; locked?: boolean; dpr?: number }) {
  const sent: InputMessage[] = [];
  let grabs = 0;
  const surface = { width: 800, height: 600 };
  const dpr = opts.dpr ?? 1;
  const view: MouseView = {
    surface: () => surface,
    placement: () => placeSurface('fit', false, { width: 800 * dpr, height: 700 * dpr }, surface),
    devicePixelRatio: () => dpr,
    absolute: () => opts.absolute,
    locked: () => !!opts.locked,
    requestGrab: () => {
      grabs++;
    },
  };
  return { m: new MouseState((x) => sent.push(x), view), sent, grabs: () => grabs };
}

test('absolute: CSS position through the scaling to guest pixels, clamped, deduplicated', () => {
  const { m, sent } = rig({ absolute: true, dpr: 2 });
  // box 1600x1400 device px, surface drawn 2x at y offset 100 device px = 50 CSS px
  m.move(0, 50, 0, 0);
  m.move(0.2, 50.2, 0, 0); // same guest pixel
  m.move(400, 350, 0, 0);
  m.move(-20, 900, 0, 0);
  assert.deepEqual(sent, [
    { t: 'abs', x: 0, y: 0 },
    { t: 'abs', x: 400, y: 300 },
    { t: 'abs', x: 0, y: 599 },
  ]);
});

test('absolute: buttons and wheel go to the guest, stray releases do not', () => {
  const { m, sent } = rig({ absolute: true });
  assert.equal(m.button(2, true), true);
  assert.equal(m.button(2, false), true);
  m.button(0, false);
  m.wheelEvent(0, -100, 0);
  assert.deepEqual(sent, [
    { t: 'button', down: true, button: 2 },
    { t: 'button', down: false, button: 2 },
    { t: 'button', down: true, button: 3 },
    { t: 'button', down: false, button: 3 },
  ]);
});

test('relative: nothing until locked; a click asks for the grab', () => {
  const { m, sent, grabs } = rig({ absolute: false });
  m.move(10, 10, 5, 5);
  assert.equal(m.button(0, true), false);
  assert.equal(grabs(), 1);
  assert.deepEqual(sent, []);
});

test('relative and locked: motion scaled to guest pixels; releaseAll lets go of held buttons', () => {
  const { m, sent } = rig({ absolute: false, locked: true });
  m.move(0, 0, 10, -4); // fit 800x700 box for an 800x600 surface: scale 1
  m.button(3, true);
  m.releaseAll();
  assert.deepEqual(sent, [
    { t: 'rel', dx: 10, dy: -4 },
    { t: 'button', down: true, button: 5 },
    { t: 'button', down: false, button: 5 },
  ]);
});

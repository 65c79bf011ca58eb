import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rect } from '../../common/contract.js';
import { decodeFramePacket, encodeFramePacket } from '../../common/frame-packet.js';
import { SyntheticDisplay, patternFor } from './synthetic-display.js';

test('setSurface makes a new SharedArrayBuffer surface with a fresh id and emits it', () => {
  const d = new SyntheticDisplay({ rowPadding: 16 });
  const seen: number[] = [];
  d.on('surface', (s) => seen.push(s.id));
  const a = d.setSurface(10, 4);
  const b = d.setSurface(7, 3);
  assert.deepEqual(seen, [a.id, b.id]);
  assert.notEqual(a.id, b.id);
  assert.ok(b.pixels.buffer instanceof SharedArrayBuffer);
  assert.equal(b.stride, 7 * 4 + 16);
  assert.equal(b.pixels.byteLength, b.stride * 3);
  assert.equal(d.surface, b);
});

test('paint writes B,G,R,X bytes and reports clipped damage', () => {
  const d = new SyntheticDisplay({ width: 8, height: 8 });
  const damage: Rect[][] = [];
  d.on('damage', (r) => damage.push(r));
  d.paint([{ x: 6, y: 6, w: 5, h: 5 }], () => 0xff332211);
  assert.deepEqual(damage, [[{ x: 6, y: 6, w: 2, h: 2 }]]);
  const s = d.surface!;
  const o = 7 * s.stride + 7 * 4;
  assert.deepEqual([...s.pixels.subarray(o, o + 4)], [0x11, 0x22, 0x33, 0xff]);
});

test('snapshot round-trips through a frame packet of the full surface', () => {
  const d = new SyntheticDisplay({ width: 13, height: 5, rowPadding: 12 });
  const s = d.surface!;
  const full = { x: 0, y: 0, w: 13, h: 5 };
  const frame = decodeFramePacket(encodeFramePacket(s.id, [full], { pixels: s.pixels, stride: s.stride }), s);
  assert.deepEqual(frame.pixels![0], d.snapshot());
  const p = patternFor(s.id);
  assert.equal(new Uint32Array(d.snapshot().buffer)[2 * 13 + 3], p(3, 2));
});

test('animate emits damage at about the asked rate and stops', async () => {
  const d = new SyntheticDisplay({ width: 64, height: 48 });
  let events = 0;
  d.on('damage', () => events++);
  const stop = d.animate({ rate: 100, rectsPerTick: 3 });
  await new Promise((r) => setTimeout(r, 300));
  stop();
  const n = events;
  assert.ok(n >= 10 && n <= 40, `${n} damage events in 300 ms at 100/s`);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(events, n);
});

test('inputs are recorded; close emits once and stops animation', () => {
  const d = new SyntheticDisplay({ width: 4, height: 4 });
  const reasons: string[] = [];
  d.on('closed', (r) => reasons.push(r));
  d.animate({ rate: 1000 });
  d.sendInput({ t: 'key', down: true, qnum: 0x1c });
  d.close('gone');
  d.close('again');
  d.sendInput({ t: 'releaseAll' });
  assert.deepEqual(reasons, ['gone']);
  assert.deepEqual(d.inputs, [{ t: 'key', down: true, qnum: 0x1c }]);
});

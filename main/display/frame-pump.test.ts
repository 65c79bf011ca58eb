import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DisplayMessage } from '../../common/contract.js';
import { decodeFramePacket } from '../../common/frame-packet.js';
import { FramePump, type FrameSink } from './frame-pump.js';
import { SyntheticDisplay, patternFor } from './synthetic-display.js';

function recorder(ready = () => true) {
  const messages: DisplayMessage[] = [];
  const frames: ArrayBuffer[] = [];
  const sink: FrameSink = { message: (m) => messages.push(m), frame: (p) => frames.push(p), ready };
  return { sink, messages, frames };
}

/** Applies decoded packets to a tightly packed copy of the surface, as a viewer would. */
function applyFrames(frames: ArrayBuffer[], width: number, height: number, into = new Uint8Array(width * height * 4)): Uint8Array {
  for (const f of frames) {
    const d = decodeFramePacket(f, { width, height });
    d.rects.forEach((r, i) => {
      const px = d.pixels![i];
      for (let y = 0; y < r.h; y++) into.set(px.subarray(y * r.w * 4, (y + 1) * r.w * 4), ((r.y + y) * width + r.x) * 4);
    });
  }
  return into;
}

test('start sends surface, cursor and input-mode, and no frame before a pull', () => {
  const d = new SyntheticDisplay({ width: 16, height: 8, rowPadding: 8 });
  d.setCursor({ width: 1, height: 1, hotX: 0, hotY: 0, pixels: new Uint8Array(4) });
  d.setInputMode(true, 4); // before the pump exists: it must read the source's state, not the event
  const r = recorder();
  new FramePump(d, r.sink).start();
  assert.deepEqual(
    r.messages.map((m) => m.t),
    ['surface', 'cursor', 'input-mode'],
  );
  assert.deepEqual(r.messages[2], { t: 'input-mode', absolute: true, modifiers: 4 });
  assert.equal(r.frames.length, 0);
});

test('first pull gets the whole surface; later damage waits for the next pull and is merged', () => {
  const d = new SyntheticDisplay({ width: 32, height: 16, rowPadding: 12 });
  const r = recorder();
  const pump = new FramePump(d, r.sink);
  pump.start();
  pump.pull();
  assert.equal(r.frames.length, 1);
  assert.deepEqual(decodeFramePacket(r.frames[0], d.surface!).rects, [{ x: 0, y: 0, w: 32, h: 16 }]);
  d.paint([{ x: 1, y: 1, w: 4, h: 4 }], patternFor(9));
  d.paint([{ x: 5, y: 1, w: 4, h: 4 }], patternFor(10));
  assert.equal(r.frames.length, 1, 'nothing is sent without a pull');
  pump.pull();
  assert.equal(r.frames.length, 2);
  assert.deepEqual(decodeFramePacket(r.frames[1], d.surface!).rects, [{ x: 1, y: 1, w: 8, h: 4 }]);
  assert.deepEqual(applyFrames(r.frames, 32, 16), d.snapshot());
});

test('a pull with nothing queued is answered by the next damage', () => {
  const d = new SyntheticDisplay({ width: 8, height: 8 });
  const r = recorder();
  const pump = new FramePump(d, r.sink);
  pump.start();
  pump.pull();
  pump.pull();
  assert.equal(r.frames.length, 1);
  assert.equal(pump.stats().pullsWaited, 1);
  d.paint([{ x: 2, y: 2, w: 1, h: 1 }], patternFor(3));
  assert.equal(r.frames.length, 2);
  assert.equal(pump.stats().pullPending, false);
});

test('a surface change resets the queue and sends the new surface before its full frame', () => {
  const d = new SyntheticDisplay({ width: 8, height: 8 });
  const r = recorder();
  const pump = new FramePump(d, r.sink);
  pump.start();
  pump.pull();
  d.paint([{ x: 0, y: 0, w: 2, h: 2 }], patternFor(5));
  const s2 = d.setSurface(12, 6);
  pump.pull();
  const lastSurface = r.messages.filter((m) => m.t === 'surface').at(-1);
  assert.deepEqual(lastSurface, { t: 'surface', surface: { id: s2.id, width: 12, height: 6, stride: 48, format: s2.format, transport: 'map' } });
  const f = decodeFramePacket(r.frames.at(-1)!, s2);
  assert.equal(f.surfaceId, s2.id);
  assert.deepEqual(f.rects, [{ x: 0, y: 0, w: 12, h: 6 }]);
});

test('withPixels false sends rects only (zero-copy viewers)', () => {
  const d = new SyntheticDisplay({ width: 8, height: 4 });
  const r = recorder();
  const pump = new FramePump(d, r.sink, { withPixels: (s) => s.transport !== 'map' });
  pump.start();
  pump.pull();
  const f = decodeFramePacket(r.frames[0], d.surface!);
  assert.equal(f.pixels, undefined);
  assert.equal(r.frames[0].byteLength, (4 + 4) * 4);
});

test('a sink that is not ready holds the frame until flush()', () => {
  let ready = false;
  const d = new SyntheticDisplay({ width: 8, height: 4 });
  const r = recorder(() => ready);
  const pump = new FramePump(d, r.sink);
  pump.start();
  pump.pull();
  assert.equal(r.frames.length, 0);
  ready = true;
  pump.flush();
  assert.equal(r.frames.length, 1);
});

test('input reaches the source; closing the source sends closed once and stops the pump', () => {
  const d = new SyntheticDisplay({ width: 8, height: 4 });
  const r = recorder();
  const pump = new FramePump(d, r.sink);
  pump.start();
  pump.input({ t: 'key', down: true, qnum: 0x1c });
  assert.deepEqual(d.inputs, [{ t: 'key', down: true, qnum: 0x1c }]);
  d.close('QEMU exited');
  assert.deepEqual(r.messages.at(-1), { t: 'closed', reason: 'QEMU exited' });
  assert.ok(pump.isDisposed);
  assert.equal(d.listenerCount('damage'), 0);
  pump.pull();
  assert.equal(r.frames.length, 0);
});

test('a fast source and a slow viewer: the queue stays bounded and the copy converges', async () => {
  const d = new SyntheticDisplay({ width: 64, height: 48, rowPadding: 4 });
  const r = recorder();
  const pump = new FramePump(d, r.sink);
  pump.start();
  const stop = d.animate({ rate: 1000, rectsPerTick: 8, maxSide: 12, seed: 7 });
  for (let i = 0; i < 10; i++) {
    pump.pull();
    await new Promise((res) => setTimeout(res, 7));
    assert.ok(pump.stats().queuedRects <= 64);
  }
  stop();
  pump.pull();
  assert.deepEqual(applyFrames(r.frames, 64, 48), d.snapshot());
});

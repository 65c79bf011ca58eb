import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFramePacket, encodeFramePacket, FramePacketError, framePacketSize } from './frame-packet.js';

const surface = { width: 8, height: 4 };
const stride = 40; // padded rows
const pixels = new Uint8Array(stride * surface.height).map((_, i) => i & 0xff);

test('rects with pixels round-trip, rows packed tightly from a padded surface', () => {
  const rects = [
    { x: 1, y: 1, w: 2, h: 2 },
    { x: 7, y: 3, w: 1, h: 1 },
  ];
  const buf = encodeFramePacket(9, rects, { pixels, stride });
  assert.equal(buf.byteLength, framePacketSize(rects, true));
  const f = decodeFramePacket(buf, surface);
  assert.equal(f.surfaceId, 9);
  assert.deepEqual(f.rects, rects);
  const row = (x: number, y: number, w: number) => [...pixels.subarray(y * stride + x * 4, y * stride + (x + w) * 4)];
  assert.deepEqual([...f.pixels![0]], [...row(1, 1, 2), ...row(1, 2, 2)]);
  assert.deepEqual([...f.pixels![1]], row(7, 3, 1));
});

test('rects without pixels round-trip', () => {
  const f = decodeFramePacket(encodeFramePacket(1, [{ x: 0, y: 0, w: 8, h: 4 }]), surface);
  assert.deepEqual(f, { surfaceId: 1, rects: [{ x: 0, y: 0, w: 8, h: 4 }] });
});

test('malformed packets are errors, never out-of-bounds reads', () => {
  const good = encodeFramePacket(1, [{ x: 0, y: 0, w: 2, h: 2 }], { pixels, stride });
  const bad = (mutate: (w: Uint32Array) => void, len = good.byteLength) => {
    const copy = good.slice(0, len);
    mutate(new Uint32Array(copy, 0, Math.floor(copy.byteLength / 4)));
    return copy;
  };
  const cases: [string, ArrayBuffer][] = [
    ['empty', new ArrayBuffer(0)],
    ['odd length', new ArrayBuffer(18)],
    ['bad magic', bad((w) => (w[0] = 0))],
    ['rect count past the end', bad((w) => (w[2] = 1000))],
    ['rect outside the surface', bad((w) => (w[4] = 7))],
    ['zero-sized rect', bad((w) => (w[6] = 0))],
    ['truncated pixels', bad(() => {}, good.byteLength - 4)],
    [
      'trailing bytes',
      (() => {
        const b = new Uint8Array(good.byteLength + 4);
        b.set(new Uint8Array(good));
        return b.buffer;
      })(),
    ],
  ];
  for (const [what, buf] of cases) assert.throws(() => decodeFramePacket(buf, surface), FramePacketError, what);
});

test('full-width rows of an unpadded surface, and an allocator of uninitialised memory', () => {
  const tight = new Uint8Array(8 * 4 * 4).map((_, i) => (i * 7) & 0xff);
  const dirty = (n: number) => new Uint8Array(n).fill(0xee).buffer;
  const buf = encodeFramePacket(2, [{ x: 0, y: 1, w: 8, h: 2 }], { pixels: tight, stride: 32 }, dirty);
  const f = decodeFramePacket(buf, surface);
  assert.deepEqual([...f.pixels![0]], [...tight.subarray(32, 96)]);
  assert.throws(() => encodeFramePacket(2, [{ x: 0, y: 0, w: 1, h: 1 }], undefined, () => new ArrayBuffer(3)), RangeError);
});

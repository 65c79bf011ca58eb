import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rect } from '../../common/contract.js';
import { DamageQueue } from './damage-queue.js';
import { seededRandom } from '../../common/seeded-random.js';

function paint(bitmap: Uint8Array, width: number, height: number, r: Rect): void {
  for (let y = Math.max(0, r.y); y < Math.min(height, r.y + r.h); y++) for (let x = Math.max(0, r.x); x < Math.min(width, r.x + r.w); x++) bitmap[y * width + x] = 1;
}

function randomRect(rnd: () => number, width: number, height: number, maxSide: number): Rect {
  // Some rects stick out of the surface on purpose: the queue must clip them.
  const w = 1 + Math.floor(rnd() * maxSide);
  const h = 1 + Math.floor(rnd() * maxSide);
  const x = Math.floor(rnd() * (width + 8)) - 4;
  const y = Math.floor(rnd() * (height + 8)) - 4;
  return { x, y, w, h };
}

function assertWellFormed(rects: readonly Rect[], width: number, height: number): void {
  for (const r of rects) {
    assert.ok(Number.isInteger(r.x) && Number.isInteger(r.y) && Number.isInteger(r.w) && Number.isInteger(r.h), JSON.stringify(r));
    assert.ok(r.w > 0 && r.h > 0 && r.x >= 0 && r.y >= 0 && r.x + r.w <= width && r.y + r.h <= height, JSON.stringify(r));
  }
}

test('adjacent rects in a row merge into one', () => {
  const q = new DamageQueue(100, 100);
  q.add([
    { x: 0, y: 0, w: 10, h: 10 },
    { x: 10, y: 0, w: 10, h: 10 },
    { x: 20, y: 0, w: 5, h: 10 },
  ]);
  assert.deepEqual(q.take(), [{ x: 0, y: 0, w: 25, h: 10 }]);
  assert.ok(q.isEmpty);
});

test('overlapping rects whose bounding box wastes area stay apart', () => {
  const q = new DamageQueue(100, 100);
  // a horizontal and a vertical bar crossing: their box would be 100x100 for 2x100 pixels
  q.add([
    { x: 0, y: 50, w: 100, h: 1 },
    { x: 50, y: 0, w: 1, h: 100 },
  ]);
  assert.equal(q.take().length, 2);
});

test('a contained rect is absorbed, and a containing one absorbs', () => {
  const q = new DamageQueue(100, 100);
  q.addOne({ x: 10, y: 10, w: 5, h: 5 });
  q.addOne({ x: 11, y: 11, w: 2, h: 2 });
  assert.deepEqual(q.peek(), [{ x: 10, y: 10, w: 5, h: 5 }]);
  q.addOne({ x: 60, y: 60, w: 3, h: 3 });
  q.addOne({ x: 0, y: 0, w: 50, h: 50 });
  assert.deepEqual(
    [...q.take()].sort((a, b) => a.x - b.x),
    [
      { x: 0, y: 0, w: 50, h: 50 },
      { x: 60, y: 60, w: 3, h: 3 },
    ],
  );
});

test('a full-surface rect absorbs everything and later damage is ignored', () => {
  const q = new DamageQueue(64, 48);
  q.add([
    { x: 1, y: 1, w: 2, h: 2 },
    { x: -5, y: -5, w: 200, h: 200 },
    { x: 3, y: 3, w: 1, h: 1 },
  ]);
  assert.ok(q.isFull);
  assert.equal(q.size, 1);
  assert.deepEqual(q.take(), [{ x: 0, y: 0, w: 64, h: 48 }]);
});

test('rects outside the surface, empty or non-finite ones are dropped; fractional ones are widened', () => {
  const q = new DamageQueue(10, 10);
  q.add([
    { x: 20, y: 0, w: 5, h: 5 },
    { x: 0, y: 0, w: 0, h: 5 },
    { x: Number.NaN, y: 0, w: 1, h: 1 },
    { x: 0, y: 0, w: Infinity, h: 1 },
  ]);
  assert.ok(q.isEmpty);
  q.addOne({ x: 1.5, y: 1.5, w: 1, h: 1 });
  assert.deepEqual(q.take(), [{ x: 1, y: 1, w: 2, h: 2 }]);
});

test('a surface change drops old damage and implies full damage of the new surface', () => {
  const q = new DamageQueue(100, 100);
  q.add([{ x: 90, y: 90, w: 10, h: 10 }]);
  q.reset(20, 10);
  q.addOne({ x: 0, y: 0, w: 1, h: 1 });
  assert.deepEqual(q.take(), [{ x: 0, y: 0, w: 20, h: 10 }]);
  assert.deepEqual(q.take(), []);
});

test('the cap bounds the rect count however much scattered damage arrives', () => {
  const q = new DamageQueue(1920, 1080, 64);
  for (let i = 0; i < 10_000; i++) q.addOne({ x: (i * 37) % 1900, y: (i * 91) % 1060, w: 3, h: 3 });
  assert.ok(q.size <= 64, `size ${q.size}`);
  assertWellFormed(q.peek(), 1920, 1080);
});

test('property: every damaged pixel stays covered; area never grows under the cap', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rnd = seededRandom(seed);
    const width = 8 + Math.floor(rnd() * 120);
    const height = 8 + Math.floor(rnd() * 90);
    const maxRects = 1 + Math.floor(rnd() * 16);
    const q = new DamageQueue(width, height, maxRects);
    const damaged = new Uint8Array(width * height);
    const count = Math.floor(rnd() * 60);
    let inputArea = 0;
    let underCap = true;
    for (let i = 0; i < count; i++) {
      const r = randomRect(rnd, width, height, 1 + Math.floor(rnd() * 40));
      q.addOne(r);
      paint(damaged, width, height, r);
      const cx = Math.max(0, Math.min(width, r.x + r.w) - Math.max(0, r.x));
      const cy = Math.max(0, Math.min(height, r.y + r.h) - Math.max(0, r.y));
      inputArea += cx * cy;
      if (q.size >= maxRects) underCap = false;
    }
    const out = q.take();
    assert.ok(out.length <= maxRects, `seed ${seed}: ${out.length} rects > cap ${maxRects}`);
    assertWellFormed(out, width, height);
    const covered = new Uint8Array(width * height);
    for (const r of out) paint(covered, width, height, r);
    for (let i = 0; i < damaged.length; i++) {
      if (damaged[i] && !covered[i]) assert.fail(`seed ${seed}: pixel ${i % width},${Math.floor(i / width)} damaged but not covered`);
    }
    const outArea = out.reduce((s, r) => s + r.w * r.h, 0);
    // Free merges only: the rects sent never add up to more than the damage reported.
    if (underCap) assert.ok(outArea <= inputArea, `seed ${seed}: merged area ${outArea} > input area ${inputArea}`);
    // No rect contains another (nothing sent twice for nothing).
    for (let i = 0; i < out.length; i++)
      for (let j = 0; j < out.length; j++) {
        if (i === j) continue;
        const a = out[i];
        const b = out[j];
        const inside = b.x >= a.x && b.y >= a.y && b.x + b.w <= a.x + a.w && b.y + b.h <= a.y + a.h;
        assert.ok(!inside, `seed ${seed}: ${JSON.stringify(b)} inside ${JSON.stringify(a)}`);
      }
  }
});

test('property: clustered damage over the cap stays near the damaged area', () => {
  // Damage confined to two far-apart 40x40 corners must not balloon into the whole 1000x1000 surface.
  for (let seed = 1; seed <= 50; seed++) {
    const rnd = seededRandom(1000 + seed);
    const q = new DamageQueue(1000, 1000, 8);
    for (let i = 0; i < 200; i++) {
      const corner = rnd() < 0.5 ? 0 : 960;
      q.addOne({ x: corner + Math.floor(rnd() * 36), y: corner + Math.floor(rnd() * 36), w: 1 + Math.floor(rnd() * 4), h: 1 + Math.floor(rnd() * 4) });
    }
    const outArea = q.take().reduce((s, r) => s + r.w * r.h, 0);
    assert.ok(outArea <= 2 * 40 * 40, `seed ${seed}: ${outArea}`);
  }
});

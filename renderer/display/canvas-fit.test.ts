// CanvasFit under Node with a fake canvas, window and ResizeObserver; animation frames run by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanvasFit, type CanvasFitHooks, type FrameStats } from './canvas-fit.js';

let frames = new Map<number, FrameRequestCallback>();
let nextFrame = 1;
function runFrame(now = 1000): void {
  const due = frames;
  frames = new Map();
  for (const cb of due.values()) cb(now);
}
let observers: FakeResizeObserver[] = [];
class FakeResizeObserver {
  observed: unknown[] = [];
  disconnected = false;
  constructor(readonly cb: (entries: ResizeObserverEntry[]) => void) {
    observers.push(this);
  }
  observe(target: unknown): void {
    this.observed.push(target);
  }
  disconnect(): void {
    this.disconnected = true;
  }
}
const win = { devicePixelRatio: 2 };
Object.assign(globalThis, {
  window: win,
  ResizeObserver: FakeResizeObserver,
  requestAnimationFrame: (cb: FrameRequestCallback) => {
    frames.set(nextFrame, cb);
    return nextFrame++;
  },
  cancelAnimationFrame: (id: number) => frames.delete(id),
});

function setup(hooks: Partial<CanvasFitHooks> = {}) {
  frames = new Map();
  observers = [];
  win.devicePixelRatio = 2;
  const canvas = { width: 300, height: 150, clientWidth: 400, clientHeight: 300 } as unknown as HTMLCanvasElement;
  const sizes: boolean[] = [];
  let paints = 0;
  const fit = new CanvasFit(canvas, {
    backingSizeSet: (changed) => sizes.push(changed),
    paint: () => (paints++, true),
    ...hooks,
  });
  return { fit, canvas, sizes, paints: () => paints };
}

test('resize sets the backing store to CSS size × devicePixelRatio and places the surface', () => {
  const { fit, canvas, sizes } = setup();
  fit.setSurface({ width: 400, height: 300 });
  assert.deepEqual(fit.placement(), { x: 50, y: 0, w: 200, h: 150 }, 'placed in the canvas as it is');
  fit.resize();
  assert.equal(canvas.width, 800);
  assert.equal(canvas.height, 600);
  assert.equal(fit.devicePixelRatio(), 2);
  assert.deepEqual(fit.placement(), { x: 0, y: 0, w: 800, h: 600 });
  fit.resize();
  assert.deepEqual(sizes, [true, false], 'the second resize changed nothing and says so');
});

test('the ResizeObserver prefers device pixels and clamps to 1×1', () => {
  const { fit, canvas, sizes } = setup();
  assert.equal(observers.length, 1);
  assert.deepEqual(observers[0].observed, [canvas]);
  const entry = (dev: { inlineSize: number; blockSize: number } | undefined, w: number, h: number) =>
    ({ devicePixelContentBoxSize: dev ? [dev] : undefined, contentRect: { width: w, height: h } }) as unknown as ResizeObserverEntry;
  observers[0].cb([entry({ inlineSize: 1001, blockSize: 701 }, 1, 1)]);
  assert.deepEqual([canvas.width, canvas.height], [1001, 701]);
  win.devicePixelRatio = 1.5;
  observers[0].cb([entry(undefined, 100, 0)]);
  assert.deepEqual([canvas.width, canvas.height], [150, 1]);
  assert.equal(fit.devicePixelRatio(), 1.5);
  assert.deepEqual(sizes, [true, true]);
  fit.destroy();
  assert.equal(observers[0].disconnected, true);
});

test('setScaling re-places the surface; no surface, no placement', () => {
  const { fit, canvas } = setup();
  assert.equal(fit.placement(), undefined);
  canvas.width = 1000;
  canvas.height = 1000;
  fit.setSurface({ width: 300, height: 200 });
  assert.deepEqual(fit.placement(), { x: 0, y: 166, w: 1000, h: 667 });
  fit.setScaling('fit', true);
  assert.deepEqual(fit.placement(), { x: 50, y: 200, w: 900, h: 600 });
  fit.setScaling('one-to-one', false);
  assert.deepEqual(fit.placement(), { x: 350, y: 400, w: 300, h: 200 });
});

test('one frame per requestDraw burst; stats gathered from uploads reach subscribers, then reset', () => {
  const { fit, paints } = setup();
  const seen: FrameStats[] = [];
  const off = fit.subscribe((s) => seen.push({ ...s }));
  fit.stats.bytes += 400;
  fit.afterUpload(3, performance.now(), performance.now() - 5);
  fit.requestDraw();
  assert.equal(frames.size, 1, 'one pending frame');
  runFrame(1234);
  assert.equal(paints(), 1);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].frames, 1);
  assert.equal(seen[0].uploads, 3);
  assert.equal(seen[0].bytes, 400);
  assert.equal(seen[0].drawnAt, 1234);
  assert.ok(seen[0].latencyMs >= 5, `latency ${seen[0].latencyMs}`);
  assert.deepEqual([fit.stats.uploads, fit.stats.bytes, fit.stats.uploadMs], [0, 0, 0]);
  off();
  fit.requestDraw();
  runFrame();
  assert.equal(seen.length, 1, 'unsubscribed');
  assert.equal(fit.stats.frames, 2);
});

test('a paint that draws nothing counts no frame; mayDraw false schedules nothing; cancelDraw drops the frame', () => {
  let may = false;
  let paint = false;
  const { fit } = setup({ paint: () => paint, mayDraw: () => may });
  const seen: number[] = [];
  fit.subscribe((s) => seen.push(s.frames));
  fit.requestDraw();
  assert.equal(frames.size, 0);
  may = true;
  fit.requestDraw();
  runFrame();
  assert.deepEqual(seen, []);
  assert.equal(fit.stats.frames, 0);
  paint = true;
  fit.requestDraw();
  fit.cancelDraw();
  runFrame();
  assert.equal(fit.stats.frames, 0);
  fit.requestDraw();
  runFrame();
  assert.deepEqual(seen, [1]);
});

// Viewer against a scripted DisplayStream and a blitter that records what it is asked to draw,
// under Node with just enough of a DOM (elements, document, window, animation frames run by hand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DisplayMessage, DisplayStream, InputMessage, Rect, SurfaceInfo } from '../../common/contract.js';
import { encodeFramePacket } from '../../common/frame-packet.js';
import type { Blitter, BlitterOptions, FrameStats } from './blitter.js';

class FakeElement extends EventTarget {
  style: Record<string, string> = {};
  className = '';
  width = 0;
  height = 0;
  parentElement = null;
  offsetLeft = 0;
  offsetTop = 0;
  getContext(): null {
    return null;
  }
  remove(): void {}
  focus(): void {}
  requestPointerLock(): Promise<void> {
    return Promise.resolve();
  }
  getBoundingClientRect() {
    return { left: 0, top: 0, width: 640, height: 480 };
  }
}

/** Animation frames run only when the test says so. */
let animationFrames = new Map<number, FrameRequestCallback>();
let nextFrameId = 1;
function runAnimationFrame(): void {
  const due = animationFrames;
  animationFrames = new Map();
  for (const cb of due.values()) cb(performance.now());
}
Object.assign(globalThis, {
  document: Object.assign(new EventTarget(), {
    createElement: () => new FakeElement(),
    pointerLockElement: null,
    fullscreenElement: null,
    visibilityState: 'visible',
    exitPointerLock() {},
  }),
  window: Object.assign(new EventTarget(), { location: { origin: 'app://kju' } }),
  requestAnimationFrame: (cb: FrameRequestCallback) => {
    animationFrames.set(nextFrameId, cb);
    return nextFrameId++;
  },
  cancelAnimationFrame: (id: number) => animationFrames.delete(id),
});
if (typeof (globalThis as { navigator?: unknown }).navigator === 'undefined') Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });

const { Viewer, MAX_UNPRESENTED_BATCHES } = await import('./viewer.js');

/** One log for the stream and the blitter, so the order of uploads and pulls shows. */
type Event =
  | { e: 'pull' }
  | { e: 'refresh' }
  | { e: 'setSurface'; width: number; height: number }
  | { e: 'packed'; rects: Rect[]; pixels: number[][] }
  | { e: 'fromSurface'; rects: Rect[]; view: Uint8Array; stride: number };

class ScriptedStream implements DisplayStream {
  readonly inputs: InputMessage[] = [];
  closed = false;
  view: Uint8Array | undefined;
  private messageCb: ((m: DisplayMessage) => void) | undefined;
  private frameCb: ((b: ArrayBuffer) => void) | undefined;
  constructor(private readonly log: Event[]) {}
  onMessage(cb: (m: DisplayMessage) => void): void {
    this.messageCb = cb;
  }
  onFrame(cb: (b: ArrayBuffer) => void): void {
    this.frameCb = cb;
  }
  pull(): void {
    this.log.push({ e: 'pull' });
  }
  refresh(): void {
    this.log.push({ e: 'refresh' });
  }
  sendInput(input: InputMessage): void {
    this.inputs.push(input);
  }
  close(): void {
    this.closed = true;
  }
  surfacePixels(id: number): Uint8Array | undefined {
    return id === 2 ? this.view : undefined;
  }
  message(m: DisplayMessage): void {
    this.messageCb!(m);
  }
  frame(b: ArrayBuffer): void {
    this.frameCb!(b);
  }
}

class RecordingBlitter {
  destroyed = false;
  private size: { width: number; height: number } | undefined;
  private readonly drawn = new Set<(s: Readonly<FrameStats>) => void>();
  constructor(
    private readonly log: Event[],
    readonly opts: BlitterOptions,
  ) {}
  setSurface(width: number, height: number): void {
    this.size = { width, height };
    this.log.push({ e: 'setSurface', width, height });
  }
  uploadPacked(rects: readonly Rect[], pixels: readonly Uint8Array[]): void {
    this.log.push({ e: 'packed', rects: rects.map((r) => ({ ...r })), pixels: pixels.map((p) => [...p]) });
  }
  uploadFromSurface(rects: readonly Rect[], view: Uint8Array, stride: number): void {
    this.log.push({ e: 'fromSurface', rects: rects.map((r) => ({ ...r })), view, stride });
  }
  subscribe(cb: (s: Readonly<FrameStats>) => void): () => void {
    this.drawn.add(cb);
    return () => this.drawn.delete(cb);
  }
  surfaceSize() {
    return this.size;
  }
  placement() {
    return this.size && { x: 0, y: 0, w: this.size.width, h: this.size.height };
  }
  devicePixelRatio(): number {
    return 1;
  }
  setScaling(): void {}
  destroy(): void {
    this.destroyed = true;
  }
  /** what a draw at the next animation frame does: tells the subscribers */
  present(): void {
    const stats: FrameStats = { frames: 1, uploads: 0, bytes: 0, uploadMs: 0, latencyMs: NaN, drawnAt: performance.now() };
    for (const cb of this.drawn) cb(stats);
  }
}

function rig() {
  const log: Event[] = [];
  const stream = new ScriptedStream(log);
  const canvas = new FakeElement();
  let blitter: RecordingBlitter | undefined;
  const states: Array<{ closed?: string; badPackets: number; absolute: boolean }> = [];
  const viewer = new Viewer({
    canvas: canvas as unknown as HTMLCanvasElement,
    stream,
    onState: (s) => states.push(s),
    createBlitter: (_c, opts) => (blitter = new RecordingBlitter(log, opts)) as unknown as Blitter,
  });
  const take = () => log.splice(0);
  return { log, take, stream, canvas, viewer, blitter: blitter!, states };
}

const surface = (id: number, width: number, height: number, transport: SurfaceInfo['transport'] = 'copy'): SurfaceInfo => ({
  id,
  width,
  height,
  stride: width * 4 + 64,
  format: 0x20020888,
  transport,
});

/** A surface's bytes with a different value at every position. */
function surfaceBytes(s: SurfaceInfo): Uint8Array {
  return Uint8Array.from({ length: s.stride * s.height }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
}

/** The rect's rows, tightly packed, read straight from the surface bytes. */
function rectPixels(bytes: Uint8Array, stride: number, r: Rect): number[] {
  const out: number[] = [];
  for (let y = r.y; y < r.y + r.h; y++) out.push(...bytes.subarray(y * stride + r.x * 4, y * stride + (r.x + r.w) * 4));
  return out;
}

test('pulls once at start and then only after each batch is uploaded; surface switches reach the blitter', (t) => {
  const { take, stream, viewer, blitter } = rig();
  t.after(() => viewer.destroy());
  assert.deepEqual(take(), [{ e: 'pull' }], 'one pull before anything arrives');

  const a = surface(1, 64, 48);
  stream.message({ t: 'surface', surface: a });
  assert.deepEqual(take(), [{ e: 'setSurface', width: 64, height: 48 }], 'no pull for a message');
  assert.deepEqual(viewer.getState().surface, { width: 64, height: 48, transport: 'copy' });

  const bytes = surfaceBytes(a);
  const rects = [
    { x: 0, y: 0, w: 64, h: 1 },
    { x: 5, y: 7, w: 3, h: 4 },
    { x: 63, y: 47, w: 1, h: 1 },
  ];
  stream.frame(encodeFramePacket(a.id, rects, { pixels: bytes, stride: a.stride }));
  assert.deepEqual(take(), [{ e: 'packed', rects, pixels: rects.map((r) => rectPixels(bytes, a.stride, r)) }, { e: 'pull' }]);

  const b = surface(3, 32, 16);
  stream.message({ t: 'surface', surface: b });
  assert.deepEqual(take(), [{ e: 'setSurface', width: 32, height: 16 }]);
  runAnimationFrame();
  // a batch of the old surface still in flight: not drawn, but it was a batch, so pull again
  stream.frame(encodeFramePacket(a.id, [{ x: 0, y: 0, w: 8, h: 8 }], { pixels: bytes, stride: a.stride }));
  assert.deepEqual(take(), [{ e: 'pull' }]);
  const bBytes = surfaceBytes(b);
  const bRect = { x: 30, y: 2, w: 2, h: 14 };
  stream.frame(encodeFramePacket(b.id, [bRect], { pixels: bBytes, stride: b.stride }));
  assert.deepEqual(take(), [{ e: 'packed', rects: [bRect], pixels: [rectPixels(bBytes, b.stride, bRect)] }, { e: 'pull' }]);
  assert.equal(blitter.destroyed, false);
});

test('pulls again right after every upload, never waiting for an animation frame; only MAX_UNPRESENTED_BATCHES without a present hold the pull until the next present', (t) => {
  const { take, stream, viewer, blitter } = rig();
  t.after(() => viewer.destroy());
  const a = surface(1, 16, 16);
  stream.message({ t: 'surface', surface: a });
  take();
  const packet = () => encodeFramePacket(a.id, [{ x: 0, y: 0, w: 1, h: 1 }], { pixels: surfaceBytes(a), stride: a.stride });
  // The rule: a batch that is ready is pulled as soon as the previous upload is done; the page only
  // stops pulling once MAX_UNPRESENTED_BATCHES uploads wait for a present (hidden or stalled window).
  for (let i = 1; i < MAX_UNPRESENTED_BATCHES; i++) {
    stream.frame(packet());
    assert.deepEqual(
      take().map((e) => e.e),
      ['packed', 'pull'],
      `batch ${i} of one animation frame pulls at once`,
    );
  }
  stream.frame(packet());
  assert.deepEqual(
    take().map((e) => e.e),
    ['packed'],
    `no pull after ${MAX_UNPRESENTED_BATCHES} batches without a present`,
  );
  runAnimationFrame();
  assert.deepEqual(take(), [], 'an animation frame of its own does not release it: the present does');
  blitter.present();
  assert.deepEqual(
    take().map((e) => e.e),
    ['pull'],
    'the held pull goes out at the present',
  );
  blitter.present();
  assert.deepEqual(take(), [], 'nothing pulled without a batch');
  stream.frame(packet());
  assert.deepEqual(
    take().map((e) => e.e),
    ['packed', 'pull'],
    'the count starts again after a present',
  );
});

test('dropped and stale packets do not count as waiting for a present', (t) => {
  const { take, stream, viewer } = rig();
  t.after(() => viewer.destroy());
  const originalWarn = console.warn;
  console.warn = () => {};
  t.after(() => (console.warn = originalWarn));
  const a = surface(1, 8, 8);
  stream.message({ t: 'surface', surface: a });
  take();
  for (let i = 0; i < MAX_UNPRESENTED_BATCHES * 2; i++) {
    stream.frame(encodeFramePacket(7, [{ x: 0, y: 0, w: 1, h: 1 }], { pixels: surfaceBytes(a), stride: a.stride })); // stale surface id
    stream.frame(new ArrayBuffer(3)); // malformed
  }
  assert.deepEqual(
    take().map((e) => e.e),
    Array(MAX_UNPRESENTED_BATCHES * 4).fill('pull'),
  );
});

test('rect-only frames are uploaded from the stream’s surface view', (t) => {
  const { take, stream, viewer } = rig();
  t.after(() => viewer.destroy());
  const s = surface(2, 40, 30, 'map');
  stream.view = surfaceBytes(s);
  stream.message({ t: 'surface', surface: s });
  take();
  const rects = [{ x: 1, y: 2, w: 3, h: 4 }];
  stream.frame(encodeFramePacket(s.id, rects));
  assert.deepEqual(take(), [{ e: 'fromSurface', rects, view: stream.view, stride: s.stride }, { e: 'pull' }]);
});

test('a bad packet is counted and dropped, the stream keeps being pulled and the next packet draws', (t) => {
  const { take, stream, viewer } = rig();
  t.after(() => viewer.destroy());
  const originalWarn = console.warn;
  console.warn = () => {};
  t.after(() => (console.warn = originalWarn));
  stream.frame(encodeFramePacket(1, [{ x: 0, y: 0, w: 1, h: 1 }])); // before any surface
  const a = surface(1, 8, 8);
  stream.message({ t: 'surface', surface: a });
  runAnimationFrame();
  stream.frame(encodeFramePacket(a.id, [{ x: 4, y: 4, w: 8, h: 8 }], { pixels: new Uint8Array(8 * 8 * 4 * 4), stride: 8 * 4 * 2 })); // out of bounds
  assert.equal(viewer.getState().badPackets, 2);
  take();
  const bytes = surfaceBytes(a);
  stream.frame(encodeFramePacket(a.id, [{ x: 0, y: 0, w: 8, h: 8 }], { pixels: bytes, stride: a.stride }));
  assert.deepEqual(
    take().map((e) => e.e),
    ['packed', 'pull'],
  );
});

test('keys and buttons go to the stream; a closed stream releases held keys, stops pulling and forwarding', (t) => {
  const { take, stream, canvas, viewer, states } = rig();
  t.after(() => viewer.destroy());
  const a = surface(1, 640, 480);
  stream.message({ t: 'surface', surface: a });
  stream.message({ t: 'input-mode', absolute: true, modifiers: 0 });
  take();
  const key = (type: string, code: string) => Object.assign(new Event(type, { cancelable: true }), { code, key: '', repeat: false, isComposing: false });
  const mouse = (type: string, button: number, x: number, y: number) => Object.assign(new Event(type, { cancelable: true }), { button, clientX: x, clientY: y, movementX: 0, movementY: 0 });
  canvas.dispatchEvent(key('keydown', 'KeyA'));
  canvas.dispatchEvent(mouse('mousedown', 0, 10, 20));
  canvas.dispatchEvent(mouse('mouseup', 0, 10, 20));
  assert.deepEqual(stream.inputs.splice(0), [
    { t: 'key', down: true, qnum: 0x1e },
    { t: 'abs', x: 10, y: 20 },
    { t: 'button', down: true, button: 0 },
    { t: 'button', down: false, button: 0 },
  ]);

  stream.message({ t: 'closed', reason: 'the VM stopped' });
  assert.deepEqual(stream.inputs.splice(0), [{ t: 'key', down: false, qnum: 0x1e }, { t: 'releaseAll' }], 'held keys released as it closes');
  assert.equal(states.at(-1)?.closed, 'the VM stopped');
  runAnimationFrame();
  stream.frame(encodeFramePacket(a.id, [{ x: 0, y: 0, w: 1, h: 1 }], { pixels: surfaceBytes(a), stride: a.stride })); // in flight before the close
  assert.deepEqual(
    take().map((e) => e.e),
    ['packed'],
    'drawn, but no pull after closed',
  );
  canvas.dispatchEvent(key('keydown', 'KeyB'));
  assert.deepEqual(stream.inputs, [], 'no input to a closed stream');
});

test('input-mode switches absolute/relative; destroy closes the stream and the blitter', () => {
  const { stream, viewer, blitter } = rig();
  stream.message({ t: 'input-mode', absolute: false, modifiers: 0 });
  assert.equal(viewer.getState().absolute, false);
  stream.message({ t: 'input-mode', absolute: true, modifiers: 0 });
  assert.equal(viewer.getState().absolute, true);
  viewer.destroy();
  assert.equal(stream.closed, true);
  assert.equal(blitter.destroyed, true);
});

// A DisplaySource with scripted damage, for tests of consumers (kju serve, the utility process)
// and for benchmarks. Pixels live in a SharedArrayBuffer like a mapped memfd would. Everything runs
// on the Node event loop of the thread that created it; the real-QEMU tests stay the proof.
import { EventEmitter } from 'node:events';
import { PIXMAN_X8R8G8B8, type CursorShape, type InputMessage, type Rect, type Transport } from '../../common/contract.js';
import type { DisplaySource, DisplaySourceEvents, Surface } from './display-source.js';
import { seededRandom } from '../../common/seeded-random.js';

/** Colour of pixel (x, y) as a u32 whose little-endian bytes are B,G,R,X. */
export type PixelPattern = (x: number, y: number) => number;

export interface SyntheticDisplayOptions {
  width?: number;
  height?: number;
  /** extra bytes at the end of each row, so consumers that assume stride = width*4 fail */
  rowPadding?: number;
  transport?: Transport;
  absolute?: boolean;
}

export interface AnimationOptions {
  /** damage events per second */
  rate: number;
  /** rects painted and reported per event */
  rectsPerTick?: number;
  /** largest rect side in pixels */
  maxSide?: number;
  seed?: number;
}

/** Deterministic pattern that differs per `seed`: consumers that copy the wrong rows or columns show it. */
export function patternFor(seed: number): PixelPattern {
  const s = seed >>> 0;
  return (x, y) => (((x * 7 + s) & 0xff) | (((y * 13 + s * 3) & 0xff) << 8) | ((((x ^ y) + s * 11) & 0xff) << 16) | 0xff000000) >>> 0;
}

export class SyntheticDisplay extends EventEmitter<DisplaySourceEvents> implements DisplaySource {
  private current: Surface | null = null;
  private words: Uint32Array | null = null;
  private nextSurfaceId = 1;
  private readonly rowPadding: number;
  private readonly transport: Transport;
  private cursorShape: CursorShape | null = null;
  private isAbsolute: boolean;
  private modifierState = 0;
  private timers = new Set<NodeJS.Timeout>();
  private closedReason: string | null = null;
  /** every input the consumer sent, in order */
  readonly inputs: InputMessage[] = [];

  constructor(opts: SyntheticDisplayOptions = {}) {
    super();
    this.rowPadding = opts.rowPadding ?? 0;
    if (this.rowPadding % 4 !== 0) throw new RangeError('rowPadding must be a multiple of 4');
    this.transport = opts.transport ?? 'map';
    this.isAbsolute = opts.absolute ?? true;
    if (opts.width && opts.height) this.setSurface(opts.width, opts.height);
  }

  get surface(): Surface | null {
    return this.current;
  }
  get cursor(): CursorShape | null {
    return this.cursorShape;
  }
  get absolute(): boolean {
    return this.isAbsolute;
  }
  get modifiers(): number {
    return this.modifierState;
  }
  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** A new surface (new id, new buffer) painted with `pattern`; emits 'surface'. */
  setSurface(width: number, height: number, pattern: PixelPattern = patternFor(this.nextSurfaceId)): Surface {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`bad surface size ${width}x${height}`);
    const stride = width * 4 + this.rowPadding;
    const sab = new SharedArrayBuffer(stride * height);
    const surface: Surface = {
      id: this.nextSurfaceId++,
      width,
      height,
      stride,
      format: PIXMAN_X8R8G8B8,
      transport: this.transport,
      pixels: new Uint8Array(sab),
    };
    this.current = surface;
    this.words = new Uint32Array(sab);
    this.fill({ x: 0, y: 0, w: width, h: height }, pattern);
    this.emit('surface', surface);
    return surface;
  }

  /** Paints without reporting damage, like a guest write that QEMU has not announced yet. */
  fill(rect: Rect, pattern: PixelPattern): void {
    const s = this.requireSurface();
    const words = this.words!;
    const x1 = Math.min(s.width, rect.x + rect.w);
    const y1 = Math.min(s.height, rect.y + rect.h);
    const rowWords = s.stride / 4;
    for (let y = Math.max(0, rect.y); y < y1; y++) {
      const row = y * rowWords;
      for (let x = Math.max(0, rect.x); x < x1; x++) words[row + x] = pattern(x, y);
    }
  }

  /** Paints the rects and reports them as one damage event. */
  paint(rects: Rect[], pattern: PixelPattern): void {
    for (const r of rects) this.fill(r, pattern);
    this.damage(rects);
  }

  /** Reports damage (clipped to the surface, like a bounds-checked real source). */
  damage(rects: Rect[]): void {
    const s = this.requireSurface();
    const clipped: Rect[] = [];
    for (const r of rects) {
      const x = Math.max(0, r.x);
      const y = Math.max(0, r.y);
      const w = Math.min(s.width, r.x + r.w) - x;
      const h = Math.min(s.height, r.y + r.h) - y;
      if (w > 0 && h > 0) clipped.push({ x, y, w, h });
    }
    if (clipped.length) this.emit('damage', clipped);
  }

  /**
   * Paints random rects with a changing pattern `rate` times a second until the returned function
   * is called (or the display closes). Timer-driven on this event loop.
   */
  animate(opts: AnimationOptions): () => void {
    const rnd = seededRandom(opts.seed ?? 1);
    const perTick = opts.rectsPerTick ?? 4;
    const maxSide = opts.maxSide ?? 32;
    let tick = 0;
    const timer = setInterval(
      () => {
        const s = this.current;
        if (!s) return;
        const rects: Rect[] = [];
        for (let i = 0; i < perTick; i++) {
          const w = 1 + Math.floor(rnd() * Math.min(maxSide, s.width));
          const h = 1 + Math.floor(rnd() * Math.min(maxSide, s.height));
          rects.push({ x: Math.floor(rnd() * (s.width - w + 1)), y: Math.floor(rnd() * (s.height - h + 1)), w, h });
        }
        this.paint(rects, patternFor(++tick * 7919));
      },
      Math.max(1, Math.round(1000 / opts.rate)),
    );
    this.timers.add(timer);
    return () => {
      clearInterval(timer);
      this.timers.delete(timer);
    };
  }

  setCursor(cursor: CursorShape): void {
    this.cursorShape = cursor;
    this.emit('cursor', cursor);
  }

  moveMouse(x: number, y: number, visible = true): void {
    this.emit('mouse', x, y, visible);
  }

  setInputMode(absolute: boolean, modifiers = this.modifierState): void {
    this.isAbsolute = absolute;
    this.modifierState = modifiers;
    this.emit('input-mode', absolute, modifiers);
  }

  disable(): void {
    this.emit('disabled');
  }

  sendInput(input: InputMessage): void {
    if (this.closedReason === null) this.inputs.push(input);
  }

  /** Ends the source as if QEMU went away; emits 'closed' once. */
  close(reason = 'synthetic display closed'): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    this.emit('closed', reason);
  }

  /** The surface's visible pixels packed tightly (width*4 per row), for comparing with a consumer's copy. */
  snapshot(): Uint8Array {
    const s = this.requireSurface();
    const out = new Uint8Array(s.width * s.height * 4);
    for (let y = 0; y < s.height; y++) out.set(s.pixels.subarray(y * s.stride, y * s.stride + s.width * 4), y * s.width * 4);
    return out;
  }

  private requireSurface(): Surface {
    if (!this.current) throw new Error('SyntheticDisplay has no surface yet: call setSurface first');
    return this.current;
  }
}

// Damage accumulated for one viewer between two pulls. A viewer that pulls slowly (or never) only
// ever holds a bounded, merged set of rects: memory is O(maxRects), whatever the damage rate.
// Pure: no I/O, no timers; owned and called by one consumer on one event loop.
import type { Rect } from '../../common/contract.js';

export const DEFAULT_MAX_RECTS = 64;

const area = (r: Rect): number => r.w * r.h;

function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

function contains(a: Rect, b: Rect): boolean {
  return b.x >= a.x && b.y >= a.y && b.x + b.w <= a.x + a.w && b.y + b.h <= a.y + a.h;
}

/** true when the rects overlap or share an edge (touching counts, a gap does not) */
function touches(a: Rect, b: Rect): boolean {
  return a.x <= b.x + b.w && b.x <= a.x + a.w && a.y <= b.y + b.h && b.y <= a.y + a.h;
}

export class DamageQueue {
  private rects: Rect[] = [];
  private full = false;

  /** `width`×`height` is the surface in pixels; rects are clipped to it. */
  constructor(
    private width: number,
    private height: number,
    private readonly maxRects = DEFAULT_MAX_RECTS,
  ) {
    if (maxRects < 1) throw new RangeError('maxRects must be at least 1');
  }

  get surfaceWidth(): number {
    return this.width;
  }
  get surfaceHeight(): number {
    return this.height;
  }
  get isEmpty(): boolean {
    return !this.full && this.rects.length === 0;
  }
  get isFull(): boolean {
    return this.full;
  }
  /** how many rects a take() would return now */
  get size(): number {
    return this.full ? (this.width > 0 && this.height > 0 ? 1 : 0) : this.rects.length;
  }

  /** A new surface: everything queued for the old one is meaningless, and all of the new one is damaged. */
  reset(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.rects = [];
    this.full = true;
  }

  markFull(): void {
    this.rects = [];
    this.full = true;
  }

  add(rects: Iterable<Rect>): void {
    for (const r of rects) this.addOne(r);
  }

  addOne(input: Rect): void {
    if (this.full) return;
    const r = this.clip(input);
    if (!r) return;
    if (r.w === this.width && r.h === this.height) return this.markFull();
    let cur = r;
    // Merge with neighbours while that costs no extra area; repeat because a merged rect can reach new ones.
    for (let changed = true; changed;) {
      changed = false;
      for (let i = 0; i < this.rects.length; i++) {
        const e = this.rects[i];
        if (contains(e, cur)) return;
        if (contains(cur, e)) {
          this.rects.splice(i--, 1);
          continue;
        }
        if (!touches(e, cur)) continue;
        const u = union(e, cur);
        if (area(u) <= area(e) + area(cur)) {
          this.rects.splice(i, 1);
          cur = u;
          changed = true;
          break;
        }
      }
    }
    this.rects.push(cur);
    while (this.rects.length > this.maxRects) this.mergeCheapestPair();
    if (this.rects.length === 1 && this.rects[0].w === this.width && this.rects[0].h === this.height) this.markFull();
  }

  /** Returns the queued damage (no two rects where one contains the other) and empties the queue. */
  take(): Rect[] {
    const out = this.full ? (this.width > 0 && this.height > 0 ? [{ x: 0, y: 0, w: this.width, h: this.height }] : []) : this.rects;
    this.rects = [];
    this.full = false;
    return out;
  }

  /** Read-only look at what take() would return. */
  peek(): readonly Rect[] {
    return this.full ? (this.width > 0 && this.height > 0 ? [{ x: 0, y: 0, w: this.width, h: this.height }] : []) : this.rects;
  }

  private clip(r: Rect): Rect | null {
    if (![r.x, r.y, r.w, r.h].every(Number.isFinite)) return null;
    const x0 = Math.max(0, Math.floor(r.x));
    const y0 = Math.max(0, Math.floor(r.y));
    const x1 = Math.min(this.width, Math.ceil(r.x + r.w));
    const y1 = Math.min(this.height, Math.ceil(r.y + r.h));
    if (x1 <= x0 || y1 <= y0) return null;
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
  }

  /** Over the cap: replace the pair whose bounding box adds the least area by that box. O(n²), n = maxRects+1. */
  private mergeCheapestPair(): void {
    let best = Infinity;
    let bi = 0;
    let bj = 1;
    for (let i = 0; i < this.rects.length; i++) {
      for (let j = i + 1; j < this.rects.length; j++) {
        const cost = area(union(this.rects[i], this.rects[j])) - area(this.rects[i]) - area(this.rects[j]);
        if (cost < best) {
          best = cost;
          bi = i;
          bj = j;
        }
      }
    }
    const merged = union(this.rects[bi], this.rects[bj]);
    this.rects.splice(bj, 1);
    this.rects.splice(bi, 1);
    // The box may now contain others; drop them so the set stays minimal.
    this.rects = this.rects.filter((e) => !contains(merged, e));
    this.rects.push(merged);
  }
}

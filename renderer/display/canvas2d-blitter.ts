// Canvas 2D blitter: for windows whose WebGL is software (SwiftShader, llvmpipe), where a GL canvas
// is read back on every draw. Damage is converted from B,G,R,X to R,G,B,A into a surface-sized
// ImageData (the backing store); a draw puts only the rects damaged since the last draw. At 1:1
// (the usual case: fit on a large enough box, one-to-one) they go straight onto the visible canvas
// with putImageData; scaled, they go into an offscreen canvas that is drawn scaled. Redrawing the
// whole surface with drawImage on every draw cost 2.8 ms a 1080p frame (issue 12). Same API and
// pixels as the WebGL Blitter. Runs on the renderer's main thread.
import type { Rect } from '../../common/contract.js';
import { BlitterError, type BlitterOptions } from './blitter.js';
import { CanvasFit, type FrameStats } from './canvas-fit.js';
import type { DisplayBlitter } from './display-blitter.js';
import type { Placement, ScaleMode, Size } from './scaling.js';

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** past this many dirty rects in one draw, their bounding box is put instead (fewer calls) */
const MAX_DIRTY_RECTS = 32;

export class Canvas2dBlitter implements DisplayBlitter {
  readonly kind = 'canvas2d' as const;
  private readonly ctx: CanvasRenderingContext2D;
  /** the guest surface at 1:1, R,G,B,A: what every draw puts from */
  private image: ImageData | undefined;
  /** the ImageData's bytes as 32-bit pixels (made once per surface, not per upload) */
  private image32: Uint32Array | undefined;
  /** offscreen copy of the surface, only for scaled placements (drawImage scales it) */
  private store: HTMLCanvasElement | undefined;
  private storeCtx: CanvasRenderingContext2D | undefined;
  /** the offscreen copy lags the ImageData by more than the dirty rects (it is not kept at 1:1) */
  private storeStale = true;
  /** the word view words() made last */
  private lastWords: Uint32Array | undefined;
  /** rects of the surface changed since the last draw (reused array) */
  private readonly dirtyRects: Rect[] = [];
  /** the next draw repaints everything (surface, size or placement changed) */
  private fullDraw = true;
  /** backing size, placement, frame stats and draw scheduling, shared with the WebGL blitter */
  private readonly fit: CanvasFit;
  private readonly bg: string;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    opts: BlitterOptions = {},
  ) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new BlitterError('Canvas 2D is not available in this window');
    this.ctx = ctx;
    const [r, g, b] = (opts.background ?? [0.09, 0.09, 0.1]).map((c) => Math.round(c * 255));
    this.bg = `rgb(${r},${g},${b})`;
    this.fit = new CanvasFit(canvas, {
      backingSizeSet: (changed) => {
        if (changed) this.requestFullDraw(); // resizing clears the canvas: everything is put again
      },
      paint: () => this.putPending(),
    });
    this.fit.resize();
  }

  /** the fit holds the surface's size (it places it); read here by the uploads and draws */
  private get surface(): Size | undefined {
    return this.fit.surfaceSize();
  }

  surfaceSize(): Size | undefined {
    return this.fit.surfaceSize();
  }

  setSurface(width: number, height: number): void {
    if (!(width > 0 && height > 0)) throw new BlitterError(`surface ${width}x${height} is empty`);
    this.fit.setSurface({ width, height });
    this.image = new ImageData(width, height);
    this.image32 = littleEndian ? new Uint32Array(this.image.data.buffer, this.image.data.byteOffset, width * height) : undefined;
    this.image.data.fill(0);
    for (let i = 3; i < this.image.data.length; i += 4) this.image.data[i] = 255; // black, as a new texture shows
    this.store = this.storeCtx = undefined;
    this.storeStale = true;
    this.dirtyRects.length = 0;
    this.requestFullDraw();
  }

  uploadFromSurface(rects: readonly Rect[], pixels: Uint8Array, stride: number, arrivedAt = NaN): void {
    if (!this.surface) return;
    if (stride % 4 !== 0 || stride < this.surface.width * 4) throw new BlitterError(`stride ${stride} does not fit a ${this.surface.width}px wide surface`);
    if (pixels.byteLength < stride * (this.surface.height - 1) + this.surface.width * 4) throw new BlitterError('surface buffer is smaller than the surface');
    const t0 = performance.now();
    const src32 = this.words(pixels);
    for (const r of rects) {
      if (!this.inside(r)) throw new BlitterError(`rect ${r.x},${r.y} ${r.w}x${r.h} lies outside the surface`);
      this.convert(r, pixels, src32, r.y * stride + r.x * 4, stride);
    }
    this.fit.afterUpload(rects.length, t0, arrivedAt);
  }

  uploadPacked(rects: readonly Rect[], pixels: readonly Uint8Array[], arrivedAt = NaN): void {
    if (!this.surface) return;
    if (pixels.length !== rects.length) throw new BlitterError(`${rects.length} rects but ${pixels.length} pixel blocks`);
    const t0 = performance.now();
    for (let i = 0; i < rects.length; i++) {
      const r = rects[i];
      if (!this.inside(r)) throw new BlitterError(`rect ${r.x},${r.y} ${r.w}x${r.h} lies outside the surface`);
      if (pixels[i].byteLength < r.w * r.h * 4) throw new BlitterError(`rect ${i} has ${pixels[i].byteLength} bytes, needs ${r.w * r.h * 4}`);
      this.convert(r, pixels[i], this.words(pixels[i]), 0, r.w * 4);
    }
    this.fit.afterUpload(rects.length, t0, arrivedAt);
  }

  setScaling(mode: ScaleMode, integer: boolean): void {
    const was = this.fit.placement();
    this.fit.setScaling(mode, integer);
    const p = this.fit.placement();
    if (!was || !p || was.x !== p.x || was.y !== p.y || was.w !== p.w || was.h !== p.h) this.requestFullDraw();
  }

  placement(): Placement | undefined {
    return this.fit.placement();
  }

  devicePixelRatio(): number {
    return this.fit.devicePixelRatio();
  }

  resize(): void {
    this.fit.resize();
  }

  subscribe(cb: (s: Readonly<FrameStats>) => void): () => void {
    return this.fit.subscribe(cb);
  }

  /** A 2D context is never lost the way a GL one is. */
  isContextLost(): boolean {
    return false;
  }

  /**
   * The guest surface at 1:1, RGBA, top row first, read back from what was put on a canvas (the
   * visible one at 1:1, else the offscreen copy) after putting what is pending. Allocates.
   */
  readPixels(): Uint8Array {
    if (!this.surface || !this.image) return new Uint8Array(0);
    const { width, height } = this.surface;
    this.putPending();
    const p = this.fit.placement();
    if (p && this.isOneToOne(p) && p.x >= 0 && p.y >= 0 && p.x + width <= this.canvas.width && p.y + height <= this.canvas.height) {
      return new Uint8Array(this.ctx.getImageData(p.x, p.y, width, height).data.buffer);
    }
    this.syncStore();
    return new Uint8Array(this.storeCtx!.getImageData(0, 0, width, height).data.buffer);
  }

  /** Nothing is asynchronous here: putImageData has finished when it returns. */
  finish(): void {}

  destroy(): void {
    this.fit.destroy();
    this.store = this.storeCtx = this.image = this.image32 = this.lastWords = undefined;
  }

  /** `src` as 32-bit words when its bytes are 4-aligned on a little-endian host (else the byte loop runs). */
  private words(src: Uint8Array): Uint32Array | undefined {
    if (!littleEndian || src.byteOffset % 4 !== 0) return undefined;
    const last = this.lastWords;
    // A shared surface view is the same memory every frame: keep its word view.
    if (last && last.buffer === src.buffer && last.byteOffset === src.byteOffset && last.length === src.byteLength >> 2) return last;
    return (this.lastWords = new Uint32Array(src.buffer, src.byteOffset, src.byteLength >> 2));
  }

  /** B,G,R,X rows at `from` (every `stride` bytes) → R,G,B,255 into the ImageData; the rect is put at the next draw. */
  private convert(r: Rect, src: Uint8Array, src32: Uint32Array | undefined, from: number, stride: number): void {
    const img = this.image!;
    const dst = img.data;
    const dstStride = img.width * 4;
    const d32 = this.image32;
    if (d32 && src32 && from % 4 === 0 && stride % 4 === 0) {
      // Four bytes at a time: 0xXXRRGGBB → 0xFFBBGGRR.
      for (let y = 0; y < r.h; y++) {
        let s = (from + y * stride) >> 2;
        let d = ((r.y + y) * dstStride + r.x * 4) >> 2;
        for (let x = 0; x < r.w; x++, s++, d++) {
          const v = src32[s];
          d32[d] = 0xff000000 | ((v & 0xff) << 16) | (v & 0xff00) | ((v >>> 16) & 0xff);
        }
      }
    } else {
      for (let y = 0; y < r.h; y++) {
        let s = from + y * stride;
        let d = (r.y + y) * dstStride + r.x * 4;
        for (let x = 0; x < r.w; x++, s += 4, d += 4) {
          dst[d] = src[s + 2];
          dst[d + 1] = src[s + 1];
          dst[d + 2] = src[s];
          dst[d + 3] = 255;
        }
      }
    }
    this.markDirty(r);
    this.fit.stats.bytes += r.w * r.h * 4;
  }

  private markDirty(r: Rect): void {
    if (this.fullDraw) return; // everything is put anyway
    const d = this.dirtyRects;
    if (d.length < MAX_DIRTY_RECTS) {
      d.push({ x: r.x, y: r.y, w: r.w, h: r.h });
      return;
    }
    // Too many: fold them all into their bounding box (kept as the only entry).
    let x0 = r.x,
      y0 = r.y,
      x1 = r.x + r.w,
      y1 = r.y + r.h;
    for (const q of d) {
      x0 = Math.min(x0, q.x);
      y0 = Math.min(y0, q.y);
      x1 = Math.max(x1, q.x + q.w);
      y1 = Math.max(y1, q.y + q.h);
    }
    d.length = 1;
    d[0] = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
  }

  private inside(r: Rect): boolean {
    const s = this.surface!;
    return r.w > 0 && r.h > 0 && r.x >= 0 && r.y >= 0 && r.x + r.w <= s.width && r.y + r.h <= s.height;
  }

  private isOneToOne(p: Placement): boolean {
    return p.w === this.surface!.width && p.h === this.surface!.height;
  }

  private requestFullDraw(): void {
    this.fullDraw = true;
    this.dirtyRects.length = 0;
    this.fit.requestDraw();
  }

  /** Brings the offscreen copy up to the ImageData (scaled placements and readPixels only). */
  private syncStore(): void {
    const { width, height } = this.surface!;
    if (!this.store || !this.storeCtx) {
      this.store = document.createElement('canvas');
      this.store.width = width;
      this.store.height = height;
      this.storeCtx = this.store.getContext('2d', { alpha: false }) ?? undefined;
      if (!this.storeCtx) throw new BlitterError('Canvas 2D is not available for the surface');
      this.storeStale = true;
    }
    if (this.storeStale) this.storeCtx.putImageData(this.image!, 0, 0);
    this.storeStale = false;
  }

  /** Puts what changed since the last draw; returns whether anything was painted. */
  private putPending(): boolean {
    const p = this.fit.placement();
    const img = this.image;
    const full = this.fullDraw;
    const dirty = this.dirtyRects;
    if (!full && dirty.length === 0) return false;
    this.fullDraw = false;
    const ctx = this.ctx;
    if (!p || !img) {
      ctx.fillStyle = this.bg;
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
      dirty.length = 0;
      return true;
    }
    if (this.isOneToOne(p)) {
      // putImageData ignores transforms and does no scaling: the rects land 1:1 at the placement.
      if (full) {
        ctx.fillStyle = this.bg;
        ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
        ctx.putImageData(img, p.x, p.y);
      } else {
        for (const r of dirty) ctx.putImageData(img, p.x, p.y, r.x, r.y, r.w, r.h);
      }
      this.storeStale = true; // the offscreen copy is not kept at 1:1
    } else {
      if (full) this.storeStale = true; // rects uploaded while a full draw was pending were not listed
      if (this.storeStale || !this.store) this.syncStore();
      else for (const r of dirty) this.storeCtx!.putImageData(img, 0, 0, r.x, r.y, r.w, r.h);
      ctx.fillStyle = this.bg;
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
      ctx.imageSmoothingEnabled = false; // nearest, as the GL texture's filter
      ctx.drawImage(this.store!, p.x, p.y, p.w, p.h);
    }
    dirty.length = 0;
    return true;
  }
}

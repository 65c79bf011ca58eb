// Canvas 2D blitter: for windows whose WebGL is software (SwiftShader, llvmpipe), where a GL canvas
// is read back on every draw. Damage is converted from B,G,R,X to R,G,B,A into a surface-sized
// ImageData and put into an offscreen canvas (dirty rects only); a draw scales that onto the visible
// canvas. Same API and pixels as the WebGL Blitter. Runs on the renderer's main thread.
import type { Rect } from '../../common/contract.js';
import { BlitterError, type BlitterOptions, type FrameStats } from './blitter.js';
import type { DisplayBlitter } from './display-blitter.js';
import { placeSurface, type Placement, type ScaleMode, type Size } from './scaling.js';

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class Canvas2dBlitter implements DisplayBlitter {
  readonly kind = 'canvas2d' as const;
  private readonly ctx: CanvasRenderingContext2D;
  /** the guest surface at 1:1 (offscreen); drawn scaled onto the visible canvas */
  private store: HTMLCanvasElement | undefined;
  private storeCtx: CanvasRenderingContext2D | undefined;
  private image: ImageData | undefined;
  private surface: Size | undefined;
  private mode: ScaleMode = 'fit';
  private integer = false;
  private dpr = 1;
  private place: Placement | undefined;
  private dirty = false;
  private rafId = 0;
  private readonly stats: FrameStats = { frames: 0, uploads: 0, bytes: 0, uploadMs: 0, latencyMs: NaN, drawnAt: 0 };
  private readonly listeners = new Set<(s: Readonly<FrameStats>) => void>();
  private readonly resizeObserver: ResizeObserver | undefined;
  private readonly bg: string;

  constructor(private readonly canvas: HTMLCanvasElement, opts: BlitterOptions = {}) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new BlitterError('Canvas 2D is not available in this window');
    this.ctx = ctx;
    const [r, g, b] = (opts.background ?? [0.09, 0.09, 0.1]).map((c) => Math.round(c * 255));
    this.bg = `rgb(${r},${g},${b})`;
    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObserver = new ResizeObserver((entries) => this.onResize(entries));
      try {
        this.resizeObserver.observe(canvas, { box: 'device-pixel-content-box' });
      } catch {
        this.resizeObserver.observe(canvas);
      }
    }
    this.resize();
  }

  surfaceSize(): Size | undefined {
    return this.surface;
  }

  setSurface(width: number, height: number): void {
    if (!(width > 0 && height > 0)) throw new BlitterError(`surface ${width}x${height} is empty`);
    this.surface = { width, height };
    this.store = document.createElement('canvas');
    this.store.width = width;
    this.store.height = height;
    this.storeCtx = this.store.getContext('2d', { alpha: false }) ?? undefined;
    if (!this.storeCtx) throw new BlitterError('Canvas 2D is not available for the surface');
    this.image = new ImageData(width, height);
    this.image.data.fill(0);
    for (let i = 3; i < this.image.data.length; i += 4) this.image.data[i] = 255; // black, as a new texture shows
    this.storeCtx.putImageData(this.image, 0, 0);
    this.updatePlacement();
    this.requestDraw();
  }

  uploadFromSurface(rects: readonly Rect[], pixels: Uint8Array, stride: number, arrivedAt = NaN): void {
    if (!this.surface) return;
    if (stride % 4 !== 0 || stride < this.surface.width * 4) throw new BlitterError(`stride ${stride} does not fit a ${this.surface.width}px wide surface`);
    if (pixels.byteLength < stride * (this.surface.height - 1) + this.surface.width * 4) throw new BlitterError('surface buffer is smaller than the surface');
    const t0 = performance.now();
    for (const r of rects) {
      if (!this.inside(r)) throw new BlitterError(`rect ${r.x},${r.y} ${r.w}x${r.h} lies outside the surface`);
      this.convert(r, pixels, r.y * stride + r.x * 4, stride);
    }
    this.afterUpload(rects.length, t0, arrivedAt);
  }

  uploadPacked(rects: readonly Rect[], pixels: readonly Uint8Array[], arrivedAt = NaN): void {
    if (!this.surface) return;
    if (pixels.length !== rects.length) throw new BlitterError(`${rects.length} rects but ${pixels.length} pixel blocks`);
    const t0 = performance.now();
    for (let i = 0; i < rects.length; i++) {
      const r = rects[i];
      if (!this.inside(r)) throw new BlitterError(`rect ${r.x},${r.y} ${r.w}x${r.h} lies outside the surface`);
      if (pixels[i].byteLength < r.w * r.h * 4) throw new BlitterError(`rect ${i} has ${pixels[i].byteLength} bytes, needs ${r.w * r.h * 4}`);
      this.convert(r, pixels[i], 0, r.w * 4);
    }
    this.afterUpload(rects.length, t0, arrivedAt);
  }

  setScaling(mode: ScaleMode, integer: boolean): void {
    this.mode = mode;
    this.integer = integer;
    this.updatePlacement();
    this.requestDraw();
  }

  placement(): Placement | undefined {
    return this.place;
  }

  devicePixelRatio(): number {
    return this.dpr;
  }

  resize(): void {
    this.dpr = window.devicePixelRatio || 1;
    this.setBackingSize(Math.round(this.canvas.clientWidth * this.dpr), Math.round(this.canvas.clientHeight * this.dpr));
  }

  subscribe(cb: (s: Readonly<FrameStats>) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** A 2D context is never lost the way a GL one is. */
  isContextLost(): boolean {
    return false;
  }

  /** The guest surface at 1:1, RGBA, top row first (read back from the offscreen canvas). Allocates. */
  readPixels(): Uint8Array {
    if (!this.surface || !this.storeCtx) return new Uint8Array(0);
    const { width, height } = this.surface;
    return new Uint8Array(this.storeCtx.getImageData(0, 0, width, height).data.buffer);
  }

  /** Nothing is asynchronous here: putImageData has finished when it returns. */
  finish(): void {}

  destroy(): void {
    if (this.rafId) cancelAnimationFrame(this.rafId);
    this.rafId = 0;
    this.resizeObserver?.disconnect();
    this.store = this.storeCtx = this.image = undefined;
    this.listeners.clear();
  }

  /** B,G,R,X rows at `from` (every `stride` bytes) → R,G,B,255 into the ImageData and the offscreen canvas. */
  private convert(r: Rect, src: Uint8Array, from: number, stride: number): void {
    const img = this.image!;
    const dst = img.data;
    const dstStride = img.width * 4;
    const aligned = littleEndian && (src.byteOffset + from) % 4 === 0 && stride % 4 === 0;
    if (aligned) {
      // Four bytes at a time: 0xXXRRGGBB → 0xFFBBGGRR.
      const s32 = new Uint32Array(src.buffer, src.byteOffset, src.byteLength >> 2);
      const d32 = new Uint32Array(dst.buffer, dst.byteOffset, dst.byteLength >> 2);
      for (let y = 0; y < r.h; y++) {
        let s = (from + y * stride) >> 2;
        let d = ((r.y + y) * dstStride + r.x * 4) >> 2;
        for (let x = 0; x < r.w; x++, s++, d++) {
          const v = s32[s];
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
    this.storeCtx!.putImageData(img, 0, 0, r.x, r.y, r.w, r.h);
    this.stats.bytes += r.w * r.h * 4;
  }

  private inside(r: Rect): boolean {
    const s = this.surface!;
    return r.w > 0 && r.h > 0 && r.x >= 0 && r.y >= 0 && r.x + r.w <= s.width && r.y + r.h <= s.height;
  }

  private afterUpload(count: number, t0: number, arrivedAt: number): void {
    const t1 = performance.now();
    this.stats.uploads += count;
    this.stats.uploadMs += t1 - t0;
    if (!Number.isNaN(arrivedAt)) this.stats.latencyMs = t1 - arrivedAt;
    this.requestDraw();
  }

  private setBackingSize(w: number, h: number): void {
    w = Math.max(1, w);
    h = Math.max(1, h);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.updatePlacement();
    this.requestDraw();
  }

  private onResize(entries: ResizeObserverEntry[]): void {
    const e = entries[entries.length - 1];
    this.dpr = window.devicePixelRatio || 1;
    const dev = e.devicePixelContentBoxSize?.[0];
    if (dev) this.setBackingSize(dev.inlineSize, dev.blockSize);
    else this.setBackingSize(Math.round(e.contentRect.width * this.dpr), Math.round(e.contentRect.height * this.dpr));
  }

  private updatePlacement(): void {
    this.place = this.surface
      ? placeSurface(this.mode, this.integer, { width: this.canvas.width, height: this.canvas.height }, this.surface)
      : undefined;
  }

  private requestDraw(): void {
    this.dirty = true;
    if (!this.rafId) this.rafId = requestAnimationFrame(this.draw);
  }

  private readonly draw = (now: number): void => {
    this.rafId = 0;
    if (!this.dirty) return;
    this.dirty = false;
    const ctx = this.ctx;
    ctx.fillStyle = this.bg;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const p = this.place;
    if (p && this.store) {
      ctx.imageSmoothingEnabled = false; // nearest, as the GL texture's filter
      ctx.drawImage(this.store, p.x, p.y, p.w, p.h);
    }
    const s = this.stats;
    s.frames++;
    s.drawnAt = now;
    for (const cb of this.listeners) cb(s);
    s.uploads = 0;
    s.bytes = 0;
    s.uploadMs = 0;
  };
}

// The canvas's backing size, the surface's placement in it, the frame statistics and the
// requestAnimationFrame scheduling, for either blitter (WebGL2 or Canvas 2D), which owns one each.
// The blitter owns the canvas's context and pixels; this owns only sizes and figures. Main thread.
import { placeSurface, type Placement, type ScaleMode, type Size } from './scaling.js';

/** Figures about the uploads since the previous drawn frame. One object, reused: copy what you keep. */
export interface FrameStats {
  /** frames drawn since the blitter was made */
  frames: number;
  /** texSubImage2D calls (Canvas 2D: rects converted) folded into this frame */
  uploads: number;
  /** pixel bytes handed to WebGL (Canvas 2D: converted) for this frame */
  bytes: number;
  /** ms spent inside texSubImage2D calls (submission; the GPU may finish later) */
  uploadMs: number;
  /** ms from the arrival of the newest damage (caller's performance.now()) to the end of its upload; NaN if unknown */
  latencyMs: number;
  /** performance.now() when the frame was drawn */
  drawnAt: number;
}

/** What the owning blitter does for the fit; every hook is called on the renderer's main thread. */
export interface CanvasFitHooks {
  /** after the backing size was set and the placement updated; `changed`: the canvas was resized (which clears it) */
  backingSizeSet(changed: boolean): void;
  /** paints from the animation-frame callback; false when nothing was painted (no frame is counted) */
  paint(now: number): boolean;
  /** false keeps requestDraw from scheduling a frame (WebGL while its context is lost); true if absent */
  mayDraw?(): boolean;
}

export class CanvasFit {
  /** the figures of the frame being gathered; the blitter adds `bytes`, the fit the rest */
  readonly stats: FrameStats = { frames: 0, uploads: 0, bytes: 0, uploadMs: 0, latencyMs: NaN, drawnAt: 0 };
  private readonly listeners = new Set<(s: Readonly<FrameStats>) => void>();
  private readonly resizeObserver: ResizeObserver | undefined;
  private surface: Size | undefined;
  private mode: ScaleMode = 'fit';
  private integer = false;
  private dpr = 1;
  private place: Placement | undefined;
  private rafId = 0;

  /** Starts watching the canvas's size; the owner calls resize() once it is ready for backingSizeSet. */
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly hooks: CanvasFitHooks,
  ) {
    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObserver = new ResizeObserver((entries) => this.onResize(entries));
      try {
        this.resizeObserver.observe(canvas, { box: 'device-pixel-content-box' });
      } catch {
        this.resizeObserver.observe(canvas);
      }
    }
  }

  /** The current surface size, or undefined before the first setSurface. */
  surfaceSize(): Size | undefined {
    return this.surface;
  }

  /** Records the surface's size (the blitter has checked it) and places it. */
  setSurface(size: Size): void {
    this.surface = size;
    this.updatePlacement();
  }

  setScaling(mode: ScaleMode, integer: boolean): void {
    this.mode = mode;
    this.integer = integer;
    this.updatePlacement();
  }

  /** Where the surface is drawn, in device pixels relative to the canvas; undefined without a surface. */
  placement(): Placement | undefined {
    return this.place;
  }

  /** Device pixels per CSS pixel of the canvas backing store. */
  devicePixelRatio(): number {
    return this.dpr;
  }

  /** Re-reads the canvas's CSS size and devicePixelRatio (the ResizeObserver calls this itself). */
  resize(): void {
    this.dpr = window.devicePixelRatio || 1;
    this.setBackingSize(Math.round(this.canvas.clientWidth * this.dpr), Math.round(this.canvas.clientHeight * this.dpr));
  }

  /** Subscribes to per-frame stats, called from the draw callback; returns the unsubscribe function. */
  subscribe(cb: (s: Readonly<FrameStats>) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Counts `count` rects uploaded since `t0` (performance.now()) and asks for a draw. */
  afterUpload(count: number, t0: number, arrivedAt: number): void {
    const t1 = performance.now();
    this.stats.uploads += count;
    this.stats.uploadMs += t1 - t0;
    if (!Number.isNaN(arrivedAt)) this.stats.latencyMs = t1 - arrivedAt;
    this.requestDraw();
  }

  /** Schedules one paint on the next animation frame (at most one is pending), unless mayDraw says no. */
  requestDraw(): void {
    if (!this.rafId && (this.hooks.mayDraw?.() ?? true)) this.rafId = requestAnimationFrame(this.frame);
  }

  /** Drops the pending animation frame, if any. */
  cancelDraw(): void {
    if (this.rafId) cancelAnimationFrame(this.rafId);
    this.rafId = 0;
  }

  /** Stops the frame, the ResizeObserver and the stats listeners. */
  destroy(): void {
    this.cancelDraw();
    this.resizeObserver?.disconnect();
    this.listeners.clear();
  }

  private setBackingSize(w: number, h: number): void {
    w = Math.max(1, w);
    h = Math.max(1, h);
    const changed = this.canvas.width !== w || this.canvas.height !== h;
    if (changed) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.updatePlacement();
    this.hooks.backingSizeSet(changed);
  }

  private onResize(entries: ResizeObserverEntry[]): void {
    const e = entries[entries.length - 1];
    this.dpr = window.devicePixelRatio || 1;
    const dev = e.devicePixelContentBoxSize?.[0];
    if (dev) this.setBackingSize(dev.inlineSize, dev.blockSize);
    else this.setBackingSize(Math.round(e.contentRect.width * this.dpr), Math.round(e.contentRect.height * this.dpr));
  }

  private updatePlacement(): void {
    this.place = this.surface ? placeSurface(this.mode, this.integer, { width: this.canvas.width, height: this.canvas.height }, this.surface) : undefined;
  }

  private readonly frame = (now: number): void => {
    this.rafId = 0;
    if (!this.hooks.paint(now)) return;
    const s = this.stats;
    s.frames++;
    s.drawnAt = now;
    for (const cb of this.listeners) cb(s);
    s.uploads = 0;
    s.bytes = 0;
    s.uploadMs = 0;
  };
}

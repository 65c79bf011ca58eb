// The guest's cursor, drawn locally. In absolute mode it becomes the element's CSS cursor, so the
// host moves it with no round trip to the guest; while the pointer is locked (relative mode) it is
// a small canvas placed where the guest says the pointer is (MouseSet). Main thread only.
import type { CursorShape } from '../../common/contract.js';
import type { Placement, Size } from './scaling.js';

/** Browsers ignore CSS cursor images larger than this (Chromium: 128×128). */
const MAX_CSS_CURSOR = 128;

/** BGRA (QEMU's ARGB32 in memory) to RGBA, into `out`. */
export function bgraToRgba(src: Uint8Array, out: Uint8ClampedArray): void {
  for (let i = 0; i + 3 < src.length; i += 4) {
    out[i] = src[i + 2];
    out[i + 1] = src[i + 1];
    out[i + 2] = src[i];
    out[i + 3] = src[i + 3];
  }
}

function sameShape(a: CursorShape | undefined, b: CursorShape): boolean {
  if (!a || a.width !== b.width || a.height !== b.height || a.hotX !== b.hotX || a.hotY !== b.hotY) return false;
  const x = a.pixels;
  const y = b.pixels;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export class CursorOverlay {
  private shape: CursorShape | undefined;
  private readonly image = document.createElement('canvas');
  private readonly sprite = document.createElement('canvas');
  private visible = true;
  private absolute = true;
  private locked = false;
  private guestX = 0;
  private guestY = 0;
  private cssScale = 1;
  private cssCursor = '';
  private place: Placement | undefined;
  private surface: Size | undefined;
  private dpr = 1;

  /** `target`: the display canvas; the sprite is placed in its parent, which must be positioned. */
  constructor(private readonly target: HTMLElement) {
    this.sprite.className = 'kju-cursor-sprite';
    Object.assign(this.sprite.style, { position: 'absolute', pointerEvents: 'none', display: 'none', imageRendering: 'pixelated' });
    target.parentElement?.appendChild(this.sprite);
  }

  /** A new shape from the guest (qxl resends the same shape on every move: that is cheap here). */
  define(shape: CursorShape): void {
    if (sameShape(this.shape, shape)) return;
    this.shape = { ...shape, pixels: shape.pixels.slice() };
    this.image.width = shape.width;
    this.image.height = shape.height;
    const ctx = this.image.getContext('2d');
    if (ctx && shape.width > 0 && shape.height > 0) {
      const img = ctx.createImageData(shape.width, shape.height);
      bgraToRgba(shape.pixels, img.data);
      ctx.putImageData(img, 0, 0);
    }
    this.sprite.width = shape.width;
    this.sprite.height = shape.height;
    this.sprite.getContext('2d')?.drawImage(this.image, 0, 0);
    this.cssCursor = '';
    this.update();
  }

  /** The guest's pointer position and visibility (MouseSet). */
  moveGuest(x: number, y: number, visible: boolean): void {
    this.guestX = x;
    this.guestY = y;
    if (visible !== this.visible) this.cssCursor = '';
    this.visible = visible;
    this.update();
  }

  setMode(absolute: boolean, locked: boolean): void {
    this.absolute = absolute;
    this.locked = locked;
    this.update();
  }

  /** How the surface is drawn now, so the cursor has the same size as the guest's pixels. */
  setPlacement(place: Placement | undefined, surface: Size | undefined, dpr: number): void {
    const scale = place && surface ? place.w / surface.width / dpr : 1;
    if (Math.abs(scale - this.cssScale) > 1e-3) this.cssCursor = '';
    this.cssScale = scale;
    this.place = place;
    this.surface = surface;
    this.dpr = dpr;
    this.update();
  }

  destroy(): void {
    this.sprite.remove();
    this.target.style.cursor = '';
  }

  private update(): void {
    const s = this.shape;
    if (this.absolute && !this.locked) {
      this.sprite.style.display = 'none';
      this.target.style.cursor = this.cssCursorValue();
      return;
    }
    this.target.style.cursor = 'none';
    if (!s || !this.visible || !this.place || !this.surface) {
      this.sprite.style.display = 'none';
      return;
    }
    const k = this.place.w / this.surface.width / this.dpr; // CSS px per guest px
    const left = this.place.x / this.dpr + this.guestX * k - s.hotX * k;
    const top = this.place.y / this.dpr + this.guestY * k - s.hotY * k;
    Object.assign(this.sprite.style, {
      display: 'block',
      left: `${this.target.offsetLeft + left}px`,
      top: `${this.target.offsetTop + top}px`,
      width: `${s.width * k}px`,
      height: `${s.height * k}px`,
    });
  }

  private cssCursorValue(): string {
    if (this.cssCursor) return this.cssCursor;
    const s = this.shape;
    if (!s) return (this.cssCursor = 'default');
    if (!this.visible || s.width === 0 || s.height === 0) return (this.cssCursor = 'none');
    const k = Math.min(this.cssScale, MAX_CSS_CURSOR / Math.max(s.width, s.height));
    const w = Math.max(1, Math.round(s.width * k));
    const h = Math.max(1, Math.round(s.height * k));
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const ctx = c.getContext('2d');
    if (!ctx) return (this.cssCursor = 'default');
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, 0, 0, w, h);
    const hx = Math.min(w - 1, Math.round(s.hotX * k));
    const hy = Math.min(h - 1, Math.round(s.hotY * k));
    this.cssCursor = `url(${c.toDataURL('image/png')}) ${hx} ${hy}, default`;
    return this.cssCursor;
  }
}

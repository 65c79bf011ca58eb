// Where the guest surface lands inside the display box. Pure; shared by the blitter (viewport) and
// the mouse (CSS position -> guest pixel).

export type ScaleMode = 'fit' | 'one-to-one' | 'fill';
export const SCALE_MODES: readonly ScaleMode[] = ['fit', 'one-to-one', 'fill'];

export interface Size {
  width: number;
  height: number;
}

/** A destination rectangle in device pixels, relative to the box's top-left corner. */
export interface Placement {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Places a surface in a box. `box` is in device pixels (CSS size × devicePixelRatio), so every mode
 * lands on whole device pixels and NEAREST sampling stays crisp.
 * - fit: largest size that keeps the aspect ratio, centred, letterboxed
 * - one-to-one: one guest pixel per device pixel, centred (cropped if larger than the box)
 * - fill: stretched to the box
 * `integer` rounds fit's scale down to a whole number (at least 1) of device pixels per guest pixel.
 */
export function placeSurface(mode: ScaleMode, integer: boolean, box: Size, surface: Size): Placement {
  const sw = Math.max(1, surface.width);
  const sh = Math.max(1, surface.height);
  if (mode === 'fill') return { x: 0, y: 0, w: box.width, h: box.height };
  let scale = 1;
  if (mode === 'fit') {
    scale = Math.min(box.width / sw, box.height / sh);
    if (integer && scale >= 1) scale = Math.floor(scale);
  }
  const w = Math.max(1, Math.round(sw * scale));
  const h = Math.max(1, Math.round(sh * scale));
  return { x: Math.floor((box.width - w) / 2), y: Math.floor((box.height - h) / 2), w, h };
}

/**
 * Maps a point in device pixels (relative to the box) to the guest pixel under it, clamped to the
 * surface so a pointer over the letterbox lands on the nearest edge pixel.
 */
export function boxToGuest(px: number, py: number, place: Placement, surface: Size): { x: number; y: number } {
  const gx = Math.floor(((px - place.x) * surface.width) / place.w);
  const gy = Math.floor(((py - place.y) * surface.height) / place.h);
  return {
    x: Math.min(surface.width - 1, Math.max(0, gx)),
    y: Math.min(surface.height - 1, Math.max(0, gy)),
  };
}

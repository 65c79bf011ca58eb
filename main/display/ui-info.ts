// The size kju asks a guest to take (Console.SetUIInfo): whole pixels inside what virtio-gpu's
// guest driver accepts. A non-size is refused; an absurd but real size is clamped. Pure; any thread.

/** virtio-gpu's Linux driver offers modes up to 8192×8192 (XRES_MAX/YRES_MAX). */
export const MAX_GUEST_SIZE = 8192;
/** Below this a guest console is unusable; a collapsed window asks for it now and then. */
export const MIN_GUEST_SIZE = 64;

export type UiInfoSize = { width: number; height: number; clamped: string | null } | { refused: string };

/** What to send for a requested guest size; `clamped`/`refused` is the log line saying why. */
export function fitUiInfo(width: number, height: number): UiInfoSize {
  if (!Number.isFinite(width) || !Number.isFinite(height) || width < 1 || height < 1) {
    return { refused: `guest size ${width}x${height} refused: width and height must be at least 1 pixel` };
  }
  const fit = (v: number) => Math.min(MAX_GUEST_SIZE, Math.max(MIN_GUEST_SIZE, Math.round(v)));
  const w = fit(width),
    h = fit(height);
  const clamped = w !== width || h !== height ? `guest size ${width}x${height} clamped to ${w}x${h} (kju asks for ${MIN_GUEST_SIZE}..${MAX_GUEST_SIZE} pixels a side)` : null;
  return { width: w, height: h, clamped };
}

/** `1000x700` → {width, height}; null when it is not two whole numbers joined by x. */
export function parseSize(text: string): { width: number; height: number } | null {
  const m = /^(\d{1,9})[x×](\d{1,9})$/i.exec(text.trim());
  return m ? { width: Number(m[1]), height: Number(m[2]) } : null;
}

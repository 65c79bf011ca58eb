// The listener worker's surfaces: maps QEMU's memfd (map transport) or keeps a buffer kju fills
// from inline pixels (copy transport), and keeps old surfaces alive until the owner has switched.
// Runs on the listener worker's event loop only.
import type { SurfaceInfo } from '../../common/contract.js';
import { PIXMAN_A8R8G8B8, PIXMAN_X8R8G8B8 } from '../../common/contract.js';
import { Mapping, closeFd } from '../../native/index.js';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

export class SurfaceError extends KjuError {
  override name = 'SurfaceError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('bad-surface', message, options);
  }
}

export interface StoredSurface {
  info: SurfaceInfo;
  pixels: Uint8Array;
  mapping: Mapping | null;
  reason?: string;
}

/** Old surfaces kept while the owner may still read them; beyond this the oldest is released. */
const MAX_RETAINED = 4;

export function checkGeometry(width: number, height: number, stride: number, format: number): void {
  if (format !== PIXMAN_X8R8G8B8 && format !== PIXMAN_A8R8G8B8) {
    throw new SurfaceError(`pixel format 0x${format.toString(16)} is not supported (kju reads x8r8g8b8/a8r8g8b8)`);
  }
  if (width < 1 || height < 1 || width > 16384 || height > 16384) throw new SurfaceError(`surface size ${width}x${height} is out of range`);
  if (stride < width * 4 || stride % 4 !== 0) throw new SurfaceError(`stride ${stride} does not fit width ${width}`);
}

export class SurfaceStore {
  private nextId = 1;
  current: StoredSurface | null = null;
  private retained: StoredSurface[] = [];

  /**
   * ScanoutMap: maps `fd` read-only. On success the returned surface's `fd` is that same fd, for
   * the caller to hand on (the listener worker passes it to the owner thread, which then owns it);
   * the store never closes it. On failure fd is closed here.
   */
  scanoutMap(fd: number, offset: number, width: number, height: number, stride: number, format: number): StoredSurface & { fd: { fd: number; offset: number } } {
    let mapping: Mapping;
    try {
      checkGeometry(width, height, stride, format);
      mapping = Mapping.open(fd, offset, stride * height, { writable: false, view: 'shared' });
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    const s: StoredSurface = {
      info: { id: this.nextId++, width, height, stride, format, transport: 'map' },
      pixels: mapping.view,
      mapping,
      reason: mapping.mode === 'copy' ? mapping.reason : undefined,
    };
    this.replace(s);
    return { ...s, fd: { fd, offset } };
  }

  /**
   * Scanout: the whole frame inline. Reuses the current copy buffer when the geometry is unchanged
   * (no new surface for the owner), else allocates a new shared buffer.
   * Returns the surface and whether it is new.
   */
  scanoutCopy(width: number, height: number, stride: number, format: number, data: Uint8Array): { surface: StoredSurface; isNew: boolean } {
    checkGeometry(width, height, stride, format);
    if (data.byteLength < stride * (height - 1) + width * 4) throw new SurfaceError(`Scanout carries ${data.byteLength} bytes, ${width}x${height} stride ${stride} needs ${stride * height}`);
    const cur = this.current;
    if (cur && !cur.mapping && cur.info.width === width && cur.info.height === height && cur.info.stride === stride && cur.info.format === format) {
      cur.pixels.set(data.subarray(0, Math.min(data.byteLength, cur.pixels.byteLength)));
      return { surface: cur, isNew: false };
    }
    const pixels = new Uint8Array(new SharedArrayBuffer(stride * height));
    pixels.set(data.subarray(0, Math.min(data.byteLength, pixels.byteLength)));
    const s: StoredSurface = { info: { id: this.nextId++, width, height, stride, format, transport: 'copy' }, pixels, mapping: null };
    this.replace(s);
    return { surface: s, isNew: true };
  }

  /** Update: inline pixels of one rect, rows `dataStride` bytes apart. Returns bytes copied. */
  updateCopy(x: number, y: number, w: number, h: number, dataStride: number, format: number, data: Uint8Array): number {
    const cur = this.current;
    if (!cur || cur.mapping) throw new SurfaceError('Update without a copy surface');
    if (format !== cur.info.format && format !== PIXMAN_X8R8G8B8 && format !== PIXMAN_A8R8G8B8) throw new SurfaceError(`Update format 0x${format.toString(16)} is not supported`);
    if (!inBounds(x, y, w, h, cur.info)) throw new SurfaceError(`Update rect ${x},${y} ${w}x${h} lies outside the ${cur.info.width}x${cur.info.height} surface`);
    const rowBytes = w * 4;
    if (dataStride < rowBytes || data.byteLength < dataStride * (h - 1) + rowBytes) throw new SurfaceError(`Update data of ${data.byteLength} bytes is too short for ${w}x${h} stride ${dataStride}`);
    const { stride } = cur.info;
    for (let row = 0; row < h; row++) {
      const src = row * dataStride;
      cur.pixels.set(data.subarray(src, src + rowBytes), (y + row) * stride + x * 4);
    }
    return rowBytes * h;
  }

  /** The owner has switched past every surface older than `id`. */
  releaseBefore(id: number): void {
    this.retained = this.retained.filter((s) => {
      if (s.info.id >= id) return true;
      s.mapping?.release();
      return false;
    });
  }

  releaseAll(): void {
    for (const s of this.retained) s.mapping?.release();
    this.retained = [];
    this.current?.mapping?.release();
    this.current = null;
  }

  private replace(s: StoredSurface): void {
    if (this.current) this.retained.push(this.current);
    this.current = s;
    while (this.retained.length > MAX_RETAINED) this.retained.shift()!.mapping?.release();
  }
}

function inBounds(x: number, y: number, w: number, h: number, s: { width: number; height: number }): boolean {
  return Number.isInteger(x) && Number.isInteger(y) && x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= s.width && y + h <= s.height;
}

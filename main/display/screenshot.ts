// Guest screen → image: PNG of what kju's display holds (read from the shared surface), and the
// reader for QEMU's PPM `screendump`, so the two can be compared pixel for pixel.
import { PNG } from 'pngjs';
import type { Surface } from './display-source.js';

export interface RgbImage {
  width: number;
  height: number;
  /** width*height*3 bytes, R,G,B */
  rgb: Buffer;
}

/** Converts a B,G,R,X surface to tightly packed RGB (alpha dropped: the guest screen is opaque). */
export function surfaceToRgb(s: Pick<Surface, 'width' | 'height' | 'stride' | 'pixels'>): RgbImage {
  const rgb = Buffer.allocUnsafe(s.width * s.height * 3);
  const px = s.pixels;
  let o = 0;
  for (let y = 0; y < s.height; y++) {
    let i = y * s.stride;
    for (let x = 0; x < s.width; x++, i += 4) {
      rgb[o++] = px[i + 2];
      rgb[o++] = px[i + 1];
      rgb[o++] = px[i];
    }
  }
  return { width: s.width, height: s.height, rgb };
}

export function encodePng(img: RgbImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  img.rgb.copy(png.data);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

export function decodePng(buf: Buffer): RgbImage {
  const png = PNG.sync.read(buf);
  const rgb = Buffer.allocUnsafe(png.width * png.height * 3);
  for (let i = 0, o = 0; i < png.data.length; i += 4) {
    rgb[o++] = png.data[i];
    rgb[o++] = png.data[i + 1];
    rgb[o++] = png.data[i + 2];
  }
  return { width: png.width, height: png.height, rgb };
}

/** Binary PPM (P6, maxval 255), as QEMU's screendump writes by default. */
export function decodePpm(buf: Buffer): RgbImage {
  let pos = 0;
  const fields: string[] = [];
  while (fields.length < 4) {
    while (pos < buf.length && /\s/.test(String.fromCharCode(buf[pos]))) pos++;
    if (buf[pos] === 0x23) {
      while (pos < buf.length && buf[pos] !== 0x0a) pos++;
      continue;
    }
    const start = pos;
    while (pos < buf.length && !/\s/.test(String.fromCharCode(buf[pos]))) pos++;
    if (start === pos) throw new Error('PPM header is truncated');
    fields.push(buf.subarray(start, pos).toString('ascii'));
  }
  pos++; // the single whitespace byte after maxval
  const [magic, w, h, max] = fields;
  if (magic !== 'P6' || max !== '255') throw new Error(`unsupported PPM (${magic}, maxval ${max})`);
  const width = Number(w),
    height = Number(h);
  const rgb = buf.subarray(pos, pos + width * height * 3);
  if (rgb.length !== width * height * 3) throw new Error('PPM pixel data is truncated');
  return { width, height, rgb: Buffer.from(rgb) };
}

/** Number of pixels that differ, and the first one, for test messages. */
export function diffImages(a: RgbImage, b: RgbImage): { differing: number; first?: { x: number; y: number; a: number[]; b: number[] } } {
  if (a.width !== b.width || a.height !== b.height) return { differing: Math.max(a.width * a.height, b.width * b.height) };
  let differing = 0;
  let first: { x: number; y: number; a: number[]; b: number[] } | undefined;
  for (let i = 0; i < a.rgb.length; i += 3) {
    if (a.rgb[i] !== b.rgb[i] || a.rgb[i + 1] !== b.rgb[i + 1] || a.rgb[i + 2] !== b.rgb[i + 2]) {
      differing++;
      if (!first) {
        const p = i / 3;
        first = { x: p % a.width, y: Math.floor(p / a.width), a: [...a.rgb.subarray(i, i + 3)], b: [...b.rgb.subarray(i, i + 3)] };
      }
    }
  }
  return { differing, first };
}

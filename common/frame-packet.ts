// FramePacket: a batch of damage rectangles, optionally with their pixels, in one transferable
// buffer. Layout (little-endian u32 words):
//   [0] magic 'KJUF'  [1] surface id  [2] rect count  [3] flags (bit 0: pixels follow)
//   then per rect: x, y, w, h
//   then, if flags & 1, each rect's pixels in order, rows packed tightly (w*4 bytes per row).
// The serve socket and the utility-process port both carry this; decode validates every field
// against the surface so a malformed packet is an error, never an out-of-bounds read.
import type { Rect, SurfaceInfo } from './contract.js';
import { KjuError, type KjuErrorOptions } from './errors.js';

export const FRAME_MAGIC = 0x464a554b; // 'KJUF' read as little-endian u32
const HEADER_WORDS = 4;
export const FLAG_PIXELS = 1;

export interface DecodedFrame {
  surfaceId: number;
  rects: Rect[];
  /** present when the packet carries pixels: one tightly packed view per rect */
  pixels?: Uint8Array[];
}

export class FramePacketError extends KjuError {
  override name = 'FramePacketError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('bad-frame', message, options);
  }
}

export function framePacketSize(rects: readonly Rect[], withPixels: boolean): number {
  let size = (HEADER_WORDS + rects.length * 4) * 4;
  if (withPixels) for (const r of rects) size += r.w * r.h * 4;
  return size;
}

/**
 * Packs rects (and, when `source` is given, their pixels read from a surface buffer with the given
 * stride). Runs on the Node side; the returned buffer is owned by the caller and can be transferred.
 * `alloc` may return uninitialised memory (every byte is written): it spares zero-filling megabytes
 * per frame.
 */
export function encodeFramePacket(
  surfaceId: number,
  rects: readonly Rect[],
  source?: { pixels: Uint8Array; stride: number },
  alloc: (bytes: number) => ArrayBuffer = (bytes) => new ArrayBuffer(bytes),
): ArrayBuffer {
  const size = framePacketSize(rects, !!source);
  const buf = alloc(size);
  if (buf.byteLength !== size) throw new RangeError(`frame packet allocator returned ${buf.byteLength} bytes, not ${size}`);
  const words = new Uint32Array(buf, 0, HEADER_WORDS + rects.length * 4);
  words[0] = FRAME_MAGIC;
  words[1] = surfaceId >>> 0;
  words[2] = rects.length;
  words[3] = source ? FLAG_PIXELS : 0;
  let i = HEADER_WORDS;
  for (const r of rects) {
    words[i++] = r.x;
    words[i++] = r.y;
    words[i++] = r.w;
    words[i++] = r.h;
  }
  if (source) {
    const out = new Uint8Array(buf);
    let off = i * 4;
    for (const r of rects) {
      const rowBytes = r.w * 4;
      if (rowBytes === source.stride) {
        // Full-width rows of an unpadded surface are one contiguous block.
        out.set(source.pixels.subarray(r.y * source.stride, (r.y + r.h) * source.stride), off);
        off += rowBytes * r.h;
        continue;
      }
      for (let y = 0; y < r.h; y++) {
        const src = (r.y + y) * source.stride + r.x * 4;
        out.set(source.pixels.subarray(src, src + rowBytes), off);
        off += rowBytes;
      }
    }
  }
  return buf;
}

/** Validates and decodes a packet against the surface it claims to belong to. Views share `buf`. */
export function decodeFramePacket(buf: ArrayBuffer, surface: Pick<SurfaceInfo, 'width' | 'height'>): DecodedFrame {
  if (buf.byteLength < HEADER_WORDS * 4 || buf.byteLength % 4 !== 0) throw new FramePacketError(`frame packet of ${buf.byteLength} bytes is malformed`);
  const head = new Uint32Array(buf, 0, HEADER_WORDS);
  if (head[0] !== FRAME_MAGIC) throw new FramePacketError('frame packet has a bad magic number');
  const count = head[2];
  const withPixels = (head[3] & FLAG_PIXELS) !== 0;
  if ((HEADER_WORDS + count * 4) * 4 > buf.byteLength) throw new FramePacketError(`frame packet claims ${count} rects but is too short`);
  const words = new Uint32Array(buf, 0, HEADER_WORDS + count * 4);
  const rects: Rect[] = [];
  for (let i = 0; i < count; i++) {
    const o = HEADER_WORDS + i * 4;
    const r = { x: words[o], y: words[o + 1], w: words[o + 2], h: words[o + 3] };
    if (r.w === 0 || r.h === 0 || r.x + r.w > surface.width || r.y + r.h > surface.height) {
      throw new FramePacketError(`rect ${r.x},${r.y} ${r.w}x${r.h} lies outside the ${surface.width}x${surface.height} surface`);
    }
    rects.push(r);
  }
  if (!withPixels) {
    if (buf.byteLength !== words.byteLength) throw new FramePacketError('frame packet has trailing bytes');
    return { surfaceId: head[1], rects };
  }
  const pixels: Uint8Array[] = [];
  let off = words.byteLength;
  for (const r of rects) {
    const n = r.w * r.h * 4;
    if (off + n > buf.byteLength) throw new FramePacketError('frame packet pixels are truncated');
    pixels.push(new Uint8Array(buf, off, n));
    off += n;
  }
  if (off !== buf.byteLength) throw new FramePacketError('frame packet has trailing bytes');
  return { surfaceId: head[1], rects, pixels };
}

// The physical reference: one frame copied with Buffer.copy on this machine, best of N.

export interface MemcpyResult {
  width: number;
  height: number;
  bytes: number;
  bestMs: number;
  /** GB/s at the best time */
  gbPerSec: number;
}

export function memcpyFrame(width: number, height: number, rounds = 60): MemcpyResult {
  const bytes = width * height * 4;
  const src = Buffer.alloc(bytes, 0x5a);
  const dst = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4096) src[i] = i & 0xff; // touch every page of both
  dst.fill(1);
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    src.copy(dst);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms < best) best = ms;
  }
  return { width, height, bytes, bestMs: best, gbPerSec: bytes / (best / 1000) / 1e9 };
}

// The guest workloads, run in the demo guest's busybox shell over ttyS0. Each starts a background
// loop and returns how to stop it. Node event loop (serial console I/O).
import type { SerialConsole } from '../main/testing/guest.js';

export const WORKLOADS = ['still', 'typing', 'scroll', 'fullscreen'] as const;
export type Workload = (typeof WORKLOADS)[number];

export const WORKLOAD_NOTES: Record<Workload, string> = {
  still: 'shell prompt on tty1, nothing changing',
  typing: 'one 60-character line echoed to tty1 every 200 ms (5 lines/s)',
  scroll: 'cat /proc/cpuinfo to tty1 in a loop (fbcon scrolling as fast as the guest can)',
  fullscreen: 'cat of two prepared random frames to /dev/fb0, alternating (incompressible full frames)',
};

export interface FbInfo {
  width: number;
  height: number;
  stride: number;
}

export async function fbInfo(serial: SerialConsole): Promise<FbInfo> {
  const out = await serial.run('cat /sys/class/graphics/fb0/virtual_size /sys/class/graphics/fb0/stride');
  const m = /^(\d+),(\d+)\s+(\d+)/.exec(out.trim());
  if (!m) throw new Error(`cannot read the guest framebuffer geometry: ${out}`);
  return { width: Number(m[1]), height: Number(m[2]), stride: Number(m[3]) };
}

/** Writes the two frames the fullscreen loop alternates; once per boot. */
export async function prepareFrames(serial: SerialConsole, fb: FbInfo): Promise<void> {
  for (const f of ['f1', 'f2']) {
    await serial.run(`dd if=/dev/urandom of=/tmp/${f} bs=${fb.stride} count=${fb.height} 2>/dev/null`, { timeoutMs: 120_000 });
  }
}

const LOOPS: Record<Exclude<Workload, 'still'>, string> = {
  typing: `i=0; while :; do i=$((i+1)); echo "line $i: the quick brown fox jumps over the lazy dog 0123" > /dev/tty1; sleep 0.2; done`,
  scroll: 'while :; do cat /proc/cpuinfo > /dev/tty1; done',
  // The count of frames written, so the bench knows what the guest produced (read with framesWritten).
  fullscreen: 'n=0; while :; do cat /tmp/f1 > /dev/fb0; cat /tmp/f2 > /dev/fb0; n=$((n+2)); echo $n > /tmp/frames; done',
};

/** Starts `w` in the guest; the returned function stops it. */
export async function startWorkload(serial: SerialConsole, w: Workload): Promise<() => Promise<void>> {
  if (w === 'still') {
    await serial.run('printf "\\033[2J\\033[H" > /dev/tty1');
    return async () => {};
  }
  if (w === 'fullscreen') await serial.run('echo 0 > /tmp/frames');
  const pid = (await serial.run(`(${LOOPS[w]}) >/dev/null 2>&1 & echo $!`)).trim();
  if (!/^\d+$/.test(pid)) throw new Error(`workload ${w} did not start: ${pid}`);
  return async () => {
    await serial.run(`kill ${pid}; wait ${pid} 2>/dev/null; true`, { allowFailure: true, timeoutMs: 30_000 });
  };
}

/** Full frames the fullscreen loop has written since it started (0 before the first pair). */
export async function framesWritten(serial: SerialConsole): Promise<number> {
  const out = await serial.run('cat /tmp/frames 2>/dev/null || echo 0', { allowFailure: true });
  return Number(out.trim().split(/\s+/).pop()) || 0;
}

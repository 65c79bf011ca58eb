// What the page and the AudioWorklet processor (pcm-worklet-processor.ts, its own bundle
// pcm-worklet.js, loaded with addModule: CSP allows only 'self' scripts) say to each other.

export const WORKLET_NAME = 'kju-pcm';
/** the processor's bundle, next to the page's (scripts/build.mjs) */
export const WORKLET_FILE = 'pcm-worklet.js';

export interface WorkletOptions {
  channels: number;
  targetFrames: number;
  maxFrames: number;
}

/** Page → worklet: interleaved samples (transferred) and when kju's Node side read them from QEMU. */
export interface WorkletPcm {
  samples: Float32Array;
  receivedAt: number;
}

/** Worklet → page, every ~100 ms. `latenciesMs`: for each chunk that started playing, Date.now() − receivedAt. */
export interface WorkletReport {
  underruns: number;
  droppedFrames: number;
  queuedFrames: number;
  latenciesMs: number[];
  /** RMS of what was played since the last report, 0..1 */
  level: number;
}

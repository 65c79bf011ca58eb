// The AudioWorklet processor that plays the guest's PCM out of a JitterBuffer. Its source is made
// here from JitterBuffer's own (the worklet scope cannot import the page's modules) and loaded
// from a Blob URL. In the worklet: process() runs on the audio rendering thread every 128 frames;
// every ~100 ms it posts its figures (underruns, dropped frames, queue, PCM latency) to the page.

import { JitterBuffer } from './jitter-buffer.js';

export const WORKLET_NAME = 'kju-pcm';

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

export function workletSource(): string {
  return `const JitterBuffer = (${JitterBuffer.toString()});
class KjuPcmProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.jb = new JitterBuffer(o.channels, o.targetFrames, o.maxFrames);
    this.nextReport = 0;
    this.latencies = [];
    this.sumSquares = 0;
    this.count = 0;
    this.port.onmessage = (e) => this.jb.push(e.data.samples, e.data.receivedAt);
  }
  process(_inputs, outputs) {
    const out = outputs[0];
    const now = Date.now();
    for (const at of this.jb.pull(out)) this.latencies.push(now - at);
    const first = out[0];
    for (let i = 0; i < first.length; i++) this.sumSquares += first[i] * first[i];
    this.count += first.length;
    if (currentFrame >= this.nextReport) {
      this.nextReport = currentFrame + sampleRate / 10;
      this.port.postMessage({ underruns: this.jb.underruns, droppedFrames: this.jb.droppedFrames, queuedFrames: this.jb.queuedFrames, latenciesMs: this.latencies, level: Math.sqrt(this.sumSquares / Math.max(1, this.count)) });
      this.latencies = [];
      this.sumSquares = 0;
      this.count = 0;
    }
    return true;
  }
}
registerProcessor('${WORKLET_NAME}', KjuPcmProcessor);
`;
}

// The AudioWorklet processor that plays the guest's PCM out of a JitterBuffer. Runs on the audio
// rendering thread: process() every 128 frames; every ~100 ms it posts its figures to the page.
import { JitterBuffer } from './jitter-buffer.js';
import { WORKLET_NAME, type WorkletOptions, type WorkletPcm, type WorkletReport } from './pcm-worklet.js';

// AudioWorkletGlobalScope, which the DOM lib does not describe.
declare const currentFrame: number;
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, ctor: new (options: { processorOptions: WorkletOptions }) => AudioWorkletProcessor): void;

class KjuPcmProcessor extends AudioWorkletProcessor {
  private readonly jb: JitterBuffer;
  private nextReport = 0;
  private latencies: number[] = [];
  private sumSquares = 0;
  private count = 0;

  constructor(options: { processorOptions: WorkletOptions }) {
    super(options);
    const o = options.processorOptions;
    this.jb = new JitterBuffer(o.channels, o.targetFrames, o.maxFrames);
    this.port.onmessage = (e: MessageEvent<WorkletPcm>) => this.jb.push(e.data.samples, e.data.receivedAt);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0];
    const now = Date.now();
    for (const at of this.jb.pull(out)) this.latencies.push(now - at);
    const first = out[0];
    for (let i = 0; i < first.length; i++) this.sumSquares += first[i] * first[i];
    this.count += first.length;
    if (currentFrame >= this.nextReport) {
      this.nextReport = currentFrame + sampleRate / 10;
      const report: WorkletReport = {
        underruns: this.jb.underruns,
        droppedFrames: this.jb.droppedFrames,
        queuedFrames: this.jb.queuedFrames,
        latenciesMs: this.latencies,
        level: Math.sqrt(this.sumSquares / Math.max(1, this.count)),
      };
      this.port.postMessage(report);
      this.latencies = [];
      this.sumSquares = 0;
      this.count = 0;
    }
    return true;
  }
}

registerProcessor(WORKLET_NAME, KjuPcmProcessor);

// A bounded jitter buffer for the guest's PCM: interleaved float32 frames in a ring. It starts
// playing once `targetFrames` are queued, plays silence (one underrun) when it runs dry and then
// waits for the target again, and drops the oldest frames past `maxFrames`, so the delay it adds
// stays between the target and the bound whatever the network does.
// Runs inside the AudioWorklet (pcm-worklet-processor.ts), on the audio rendering thread.

export class JitterBuffer {
  private readonly ring: Float32Array;
  private readPos = 0;
  private fill = 0;
  private playing = false;
  /** (frames pushed before this chunk, its receivedAt) for chunks not yet played */
  private marks: { at: number; receivedAt: number }[] = [];
  private pushedFrames = 0;
  private playedFrames = 0;
  underruns = 0;
  droppedFrames = 0;

  constructor(
    readonly channels: number,
    readonly targetFrames: number,
    readonly maxFrames: number,
  ) {
    this.ring = new Float32Array(maxFrames * channels);
  }

  get queuedFrames(): number {
    return this.fill;
  }

  /** Queues interleaved `samples` (a trailing partial frame is ignored). */
  push(samples: Float32Array, receivedAt: number): void {
    const ch = this.channels;
    let frames = Math.floor(samples.length / ch);
    let from = 0;
    if (frames > this.maxFrames) {
      from = (frames - this.maxFrames) * ch;
      this.droppedFrames += frames - this.maxFrames;
      this.pushedFrames += frames - this.maxFrames;
      frames = this.maxFrames;
    }
    const over = this.fill + frames - this.maxFrames;
    if (over > 0) this.skip(over);
    this.marks.push({ at: this.pushedFrames, receivedAt });
    let write = (this.readPos + this.fill) % this.maxFrames;
    for (let f = 0; f < frames; f++) {
      for (let c = 0; c < ch; c++) this.ring[write * ch + c] = samples[from + f * ch + c];
      write = write + 1 === this.maxFrames ? 0 : write + 1;
    }
    this.fill += frames;
    this.pushedFrames += frames;
  }

  /**
   * Fills `out` (one array per channel, all of one length) with the next frames, silence where
   * there are none. Returns the receivedAt of each chunk whose first frame was played now.
   */
  pull(out: Float32Array[]): number[] {
    const n = out[0]?.length ?? 0;
    const ch = this.channels;
    if (!this.playing && this.fill >= this.targetFrames) this.playing = true;
    let got = 0;
    if (this.playing) {
      got = Math.min(n, this.fill);
      for (let f = 0; f < got; f++) {
        const at = ((this.readPos + f) % this.maxFrames) * ch;
        for (let c = 0; c < out.length; c++) out[c][f] = this.ring[at + Math.min(c, ch - 1)];
      }
      this.readPos = (this.readPos + got) % this.maxFrames;
      this.fill -= got;
      if (got < n) {
        this.underruns++;
        this.playing = false;
      }
    }
    for (let c = 0; c < out.length; c++) out[c].fill(0, got);
    this.playedFrames += got;
    const played: number[] = [];
    while (this.marks.length && this.marks[0].at < this.playedFrames) played.push(this.marks.shift()!.receivedAt);
    return played;
  }

  private skip(frames: number): void {
    this.readPos = (this.readPos + frames) % this.maxFrames;
    this.fill -= frames;
    this.playedFrames += frames;
    this.droppedFrames += frames;
    while (this.marks.length && this.marks[0].at < this.playedFrames) this.marks.shift();
  }
}

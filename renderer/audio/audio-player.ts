// Plays one VM's sound in the page: AudioStream → AudioPackets → an AudioWorklet (pcm-worklet.ts,
// bounded jitter buffer) → gain (volume, mute, mute-while-hidden) → an analyser → the speakers.
// Runs on the page's main thread; the worklet does the per-sample work on the audio thread.
import { decodeAudioPacket } from '../../common/audio-packet.js';
import type { AudioStream } from '../../common/contract.js';
import { WORKLET_FILE, WORKLET_NAME, type WorkletOptions, type WorkletReport } from './pcm-worklet.js';

/** What the jitter buffer holds before it plays, and its bound: the delay kju adds stays in between. */
export const TARGET_MS = 40;
export const MAX_MS = 200;

export interface AudioStatus {
  /** waiting: no stream from the guest yet; suspended: the page needs a click before it may play */
  state: 'waiting' | 'suspended' | 'playing' | 'closed';
  muted: boolean;
  /** 0..1 */
  volume: number;
  /** the guest muted its own mixer */
  guestMuted: boolean;
  /** RMS level of what played in the last ~100 ms, 0..1 */
  level: number;
  underruns: number;
  /** the most recent chunk's PCM latency (kju read it from QEMU → the worklet played it), ms */
  latencyMs: number;
  reason?: string;
}

export class AudioPlayer {
  private ctx: AudioContext | null = null;
  private node: AudioWorkletNode | null = null;
  private gain: GainNode | null = null;
  /** the last stage before the speakers; e2e tests read the played frequency from it */
  analyser: AnalyserNode | null = null;
  private format: { rate: number; channels: number } | null = null;
  private hidden = false;
  private readonly listeners = new Set<(s: AudioStatus) => void>();
  /** every chunk's latency since the start, for the bench (bounded) */
  readonly latencies: number[] = [];
  status: AudioStatus = { state: 'waiting', muted: false, volume: 1, guestMuted: false, level: 0, underruns: 0, latencyMs: NaN };

  constructor(
    private readonly stream: AudioStream,
    private muteWhenHidden = false,
  ) {
    stream.onMessage((m) => {
      if (m.t === 'format') void this.open(m.rate, m.channels);
      else if (m.t === 'guest-volume') this.update({ guestMuted: m.mute });
      else if (m.t === 'closed') this.end(m.reason);
    });
    stream.onPcm((packet) => {
      const c = decodeAudioPacket(packet);
      if (typeof c === 'string' || !this.node) return;
      if (!this.format || c.rate !== this.format.rate || c.channels !== this.format.channels) return void this.open(c.rate, c.channels);
      this.node.port.postMessage({ samples: c.samples.slice(), receivedAt: c.receivedAt });
    });
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  subscribe(cb: (s: AudioStatus) => void): () => void {
    this.listeners.add(cb);
    cb(this.status);
    return () => void this.listeners.delete(cb);
  }

  setVolume(v: number): void {
    this.update({ volume: Math.min(1, Math.max(0, v)) });
  }

  setMuted(m: boolean): void {
    this.update({ muted: m });
  }

  setMuteWhenHidden(on: boolean): void {
    this.muteWhenHidden = on;
    this.applyGain();
  }

  /** Browsers start audio suspended until the user interacts: call from a click or key handler. */
  resume(): void {
    void this.ctx?.resume().then(() => this.update({ state: 'playing' }));
  }

  destroy(): void {
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.stream.close();
    void this.ctx?.close();
    this.ctx = null;
    this.node = null;
  }

  private readonly onVisibility = () => {
    this.hidden = document.visibilityState === 'hidden';
    this.applyGain();
  };

  private async open(rate: number, channels: number): Promise<void> {
    if (this.format && this.format.rate === rate && this.format.channels === channels) return;
    this.format = { rate, channels };
    void this.ctx?.close();
    // The context runs at the guest's rate: the browser resamples once, on the way out.
    const ctx = new AudioContext({ sampleRate: rate, latencyHint: 'interactive' });
    this.ctx = ctx;
    await ctx.audioWorklet.addModule(new URL(WORKLET_FILE, document.baseURI).href);
    if (this.ctx !== ctx) return;
    const processorOptions: WorkletOptions = { channels, targetFrames: Math.round((rate * TARGET_MS) / 1000), maxFrames: Math.round((rate * MAX_MS) / 1000) };
    const node = new AudioWorkletNode(ctx, WORKLET_NAME, { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [channels], processorOptions });
    node.port.onmessage = (e: MessageEvent<WorkletReport>) => this.onReport(e.data);
    this.gain = new GainNode(ctx);
    this.analyser = new AnalyserNode(ctx, { fftSize: 8192 });
    node.connect(this.gain).connect(this.analyser).connect(ctx.destination);
    this.node = node;
    this.applyGain();
    this.update({ state: ctx.state === 'running' ? 'playing' : 'suspended' });
  }

  private onReport(r: WorkletReport): void {
    for (const l of r.latenciesMs) if (this.latencies.length < 100_000) this.latencies.push(l);
    const latencyMs = r.latenciesMs.length ? r.latenciesMs[r.latenciesMs.length - 1] : this.status.latencyMs;
    this.update({ level: r.level, underruns: r.underruns, latencyMs, ...(this.ctx?.state === 'running' ? { state: 'playing' as const } : {}) });
  }

  private applyGain(): void {
    if (!this.gain || !this.ctx) return;
    const silent = this.status.muted || (this.muteWhenHidden && this.hidden);
    this.gain.gain.setTargetAtTime(silent ? 0 : this.status.volume, this.ctx.currentTime, 0.01);
  }

  private end(reason: string): void {
    this.update({ state: 'closed', reason });
    void this.ctx?.close();
    this.ctx = null;
    this.node = null;
  }

  private update(p: Partial<AudioStatus>): void {
    this.status = { ...this.status, ...p };
    if ('muted' in p || 'volume' in p) this.applyGain();
    for (const cb of this.listeners) cb(this.status);
  }
}

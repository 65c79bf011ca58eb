// Messages between the audio out-listener worker (serves QEMU's org.qemu.Display1.AudioOutListener
// on its own event loop) and the thread that owns the AudioOut.
import type { PcmFormat } from './pcm-format.js';

export interface AudioWorkerData {
  /** our end of the listener socketpair; the worker takes ownership */
  fd: number;
  /** for log lines */
  name: string;
}

export type AudioWorkerToOwner =
  | { t: 'handshake-started' }
  | { t: 'connected' }
  /** a playback stream QEMU opened with a format kju plays */
  | { t: 'init'; stream: number; format: PcmFormat }
  /** an Init kju refused; that stream's Writes are dropped */
  | { t: 'rejected'; stream: number; reason: string }
  | { t: 'fini'; stream: number }
  | { t: 'enabled'; stream: number; enabled: boolean }
  /** the guest's own mixer: mute, and per-channel volume 0..255 */
  | { t: 'volume'; stream: number; mute: boolean; volume: number[] }
  /**
   * Interleaved float32 samples (ownership moves to the owner). `receivedAt`: when the Write was
   * read, in ms since the epoch at sub-ms resolution (performance.timeOrigin + now()), for latency.
   */
  | { t: 'pcm'; stream: number; samples: Float32Array; receivedAt: number }
  | { t: 'closed'; reason: string };

export type AudioOwnerToWorker = { t: 'close' };

// The guest's sound as it leaves QEMU: registers an AudioOutListener (a second p2p D-Bus link over
// a socketpair, served by audio-listener-worker.ts) on /org/qemu/Display1/Audio of the control
// connection. Runs on the owner's Node loop; events fire there.
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { closeFd, socketpair } from '../../native/index.js';
import type { PeerConnection } from '../dbus/peer-connection.js';
import { spawnWorker } from '../util/spawn-worker.js';
import type { AudioWorkerToOwner } from './audio-protocol.js';
import type { PcmFormat } from './pcm-format.js';

export const AUDIO_PATH = '/org/qemu/Display1/Audio';
export const AUDIO_IFACE = 'org.qemu.Display1.Audio';

export interface AudioOutEvents {
  /** a playback stream opened with a format kju plays */
  format: [stream: number, format: PcmFormat];
  /** an Init kju refused (absurd format); the reason is already logged */
  rejected: [stream: number, reason: string];
  /** interleaved float32 samples of `stream` (the listener owns nothing of them any more) */
  pcm: [stream: number, samples: Float32Array, receivedAt: number];
  /** the guest mixer's mute and per-channel volume (0..255) */
  volume: [stream: number, mute: boolean, volume: number[]];
  enabled: [stream: number, enabled: boolean];
  fini: [stream: number];
  closed: [reason: string];
}

export class AudioOut extends EventEmitter<AudioOutEvents> {
  private closedReason: string | null = null;
  readonly formats = new Map<number, PcmFormat>();

  private constructor(private readonly worker: Worker) {
    super();
    worker.on('message', (m: AudioWorkerToOwner) => this.onWorker(m));
    worker.on('error', (err) => this.finish(`audio listener crashed: ${err.message}`));
    worker.on('exit', () => this.finish('audio listener stopped'));
  }

  /**
   * Registers kju as an out-listener. Fails with QEMU's D-Bus error when the VM has no audiodev on
   * its D-Bus display (no sound card: there is no /org/qemu/Display1/Audio object).
   */
  static async open(control: PeerConnection, name: string): Promise<AudioOut> {
    const [ours, theirs] = socketpair();
    let worker: Worker;
    try {
      worker = spawnWorker(import.meta.url, 'audio-listener-worker', { fd: ours, name });
    } catch (err) {
      closeFd(ours);
      closeFd(theirs);
      throw err;
    }
    const out = new AudioOut(worker);
    try {
      // QEMU runs its side of the handshake synchronously: ours must already be listening.
      await new Promise<void>((resolve, reject) => {
        const onMsg = (m: AudioWorkerToOwner) => {
          if (m.t === 'handshake-started') {
            worker.off('message', onMsg);
            resolve();
          }
        };
        worker.on('message', onMsg);
        worker.once('error', reject);
        worker.once('exit', () => reject(new Error('audio listener exited before its handshake')));
      });
      await control.call(AUDIO_PATH, AUDIO_IFACE, 'RegisterOutListener', { signature: 'h', body: [0], fds: [theirs], timeoutMs: 10_000 });
    } catch (err) {
      out.close();
      throw err;
    } finally {
      closeFd(theirs); // QEMU holds its own copy now (or never will)
    }
    return out;
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  close(): void {
    if (this.closedReason !== null) return;
    this.worker.postMessage({ t: 'close' });
    this.finish('closed');
    void this.worker.terminate();
  }

  private onWorker(m: AudioWorkerToOwner): void {
    switch (m.t) {
      case 'init':
        this.formats.set(m.stream, m.format);
        this.emit('format', m.stream, m.format);
        return;
      case 'rejected':
        this.emit('rejected', m.stream, m.reason);
        return;
      case 'pcm':
        this.emit('pcm', m.stream, m.samples, m.receivedAt);
        return;
      case 'volume':
        this.emit('volume', m.stream, m.mute, m.volume);
        return;
      case 'enabled':
        this.emit('enabled', m.stream, m.enabled);
        return;
      case 'fini':
        this.formats.delete(m.stream);
        this.emit('fini', m.stream);
        return;
      case 'closed':
        this.finish(m.reason);
        return;
    }
  }

  private finish(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.emit('closed', reason);
  }
}

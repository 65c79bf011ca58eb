// What a VM window is given and may send, whatever carries it: `kju serve` (a WebSocket,
// main/serve/display-hub.ts) and the Electron display utility (a MessagePort,
// main/electron/utility/display-utility.ts) both drive one ViewerEndpoint per viewer. It pumps the
// display stream (surface, cursor, input mode, frames on pull) into a sink, and acts on the
// viewer's checked messages: pull, refresh, input, and clipboard sharing (off until the viewer asks;
// only then does the guest's text reach it, or its text reach the guest). The clipboard is the VM's
// (VmSession.sharedClipboard: one per VM, not per head), handed in by whoever opened the endpoint. The transport keeps its
// own flow control and decides what a violation costs (closing the viewer). relaySound is the
// window's sound: the same for both transports too.
import { encodeAudioPacket } from '../../common/audio-packet.js';
import type { AudioMessage, DisplayMessage, ViewerMessage } from '../../common/contract.js';
import type { AudioOut } from './audio-out.js';
import type { DisplaySource } from './display-source.js';
import type { GuestClipboard } from './guest-clipboard.js';
import { FramePump, type FramePumpOptions, type FramePumpStats, type FrameSink } from './frame-pump.js';

/** A viewer message after the transport's strict checks (main/backend/arg-checks.ts checkViewerMessage). */
export type CheckedViewerMessage = { kind: 'ok'; value: ViewerMessage } | { kind: 'drop'; why: string } | { kind: 'fatal' | 'reply'; why?: string };

export interface ViewerSink extends FrameSink {
  /** one line for the log (not shown to the viewer) */
  log(line: string): void;
}

export interface ViewerEndpointOptions extends FramePumpOptions {
  /** the VM's clipboard when it shares it (absent: the viewer is told the VM does not) */
  clipboard?: GuestClipboard;
}

export interface ViewerEndpointStats extends FramePumpStats {
  inputsSent: number;
  inputsDropped: number;
}

export class ViewerEndpoint {
  private readonly pump: FramePump;
  private readonly clipboard: GuestClipboard | undefined;
  private unshareClipboard: (() => void) | null = null;
  private inputsSent = 0;
  private inputsDropped = 0;
  private disposed = false;

  constructor(
    source: DisplaySource,
    private readonly sink: ViewerSink,
    { clipboard, ...opts }: ViewerEndpointOptions = {},
  ) {
    this.pump = new FramePump(source, sink, opts);
    this.clipboard = clipboard;
  }

  start(): void {
    this.pump.start();
  }

  /** Lets the pump send a pulled frame it held while the sink was not ready. */
  flush(): void {
    this.pump.flush();
  }

  /** The next frame is the whole surface (e.g. the zero-copy mapping went away). */
  refresh(): void {
    this.pump.refresh();
  }

  stats(): ViewerEndpointStats {
    return { ...this.pump.stats(), inputsSent: this.inputsSent, inputsDropped: this.inputsDropped };
  }

  /** Acts on one checked message; returns why the viewer must be closed, or null. */
  receive(p: CheckedViewerMessage): string | null {
    if (this.disposed) return null;
    if (p.kind === 'drop') {
      this.inputsDropped++;
      return null;
    }
    if (p.kind !== 'ok') return p.kind === 'fatal' ? (p.why ?? 'malformed message') : 'unexpected message';
    const m = p.value;
    switch (m.t) {
      case 'pull':
        this.pump.pull();
        return null;
      case 'refresh':
        this.pump.refresh();
        return null;
      case 'clipboard-share':
        this.shareClipboard(m.on);
        return null;
      case 'clipboard':
        this.toGuestClipboard(m.text);
        return null;
      case 'input':
        this.inputsSent++;
        this.pump.input(m.input);
        return null;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pump.dispose();
    this.unshareClipboard?.();
    this.unshareClipboard = null;
  }

  private send(m: DisplayMessage): void {
    if (!this.disposed) this.sink.message(m);
  }

  private shareClipboard(on: boolean): void {
    const clipboard = this.clipboard;
    this.unshareClipboard?.();
    this.unshareClipboard = null;
    if (on && clipboard) {
      const text = (t: string) => this.send({ t: 'clipboard', text: t });
      const refused = (notice: string) => this.sendClipboardState(notice);
      clipboard.on('text', text);
      clipboard.on('refused', refused);
      this.unshareClipboard = () => {
        clipboard.off('text', text);
        clipboard.off('refused', refused);
      };
    }
    this.sendClipboardState(on && !clipboard ? "this VM does not share its clipboard (turn on 'Share clipboard' in its settings and restart it)" : undefined);
  }

  private toGuestClipboard(text: string): void {
    const clipboard = this.clipboard;
    if (!clipboard || !this.unshareClipboard) return this.sendClipboardState('clipboard sharing is off for this viewer; the text was not sent to the guest');
    clipboard.setHostText(text).catch((err: Error) => {
      this.sink.log(err.message);
      this.sendClipboardState(err.message);
    });
  }

  private sendClipboardState(notice?: string): void {
    this.send({ t: 'clipboard-state', available: !!this.clipboard, shared: !!this.unshareClipboard, ...(notice ? { notice } : {}) });
  }
}

/** What the sound relay needs of a VM's sound (AudioOut: one out-listener per viewer). */
export type SoundSource = Pick<AudioOut, 'formats' | 'on' | 'close'>;

export interface SoundSink {
  message(m: AudioMessage): void;
  /** an AudioPacket (common/audio-packet.ts); the sink owns it */
  packet(p: ArrayBuffer): void;
  /** bytes the transport still holds for the viewer (0 where it cannot tell) */
  backlog(): number;
  /** the sound ended (`reason` was just sent as a closed message) */
  ended(reason: string): void;
  log(line: string): void;
}

export interface SoundRelayStats {
  sent: number;
  dropped: number;
}

/** ~0.5 s of 48 kHz stereo float32 waiting for the viewer: past it, packets are dropped, not queued. */
export const MAX_SOUND_BACKLOG = 384 * 1024;

/**
 * The sound half of a VM window: format and guest volume as messages, PCM as AudioPackets, pushed
 * with a bound (when the viewer does not keep up the newest packets are dropped: late sound is
 * worse than a gap). The caller closes `audio` when the viewer goes.
 */
export function relaySound(audio: SoundSource, sink: SoundSink): SoundRelayStats {
  const stats: SoundRelayStats = { sent: 0, dropped: 0 };
  for (const f of audio.formats.values()) sink.message({ t: 'format', rate: f.rate, channels: f.channels });
  audio.on('format', (_s, f) => sink.message({ t: 'format', rate: f.rate, channels: f.channels }));
  audio.on('volume', (_s, mute, volume) => sink.message({ t: 'guest-volume', mute, volume: Math.max(0, ...volume) / 255 }));
  audio.on('pcm', (stream, samples, receivedAt) => {
    const f = audio.formats.get(stream);
    if (!f) return;
    if (sink.backlog() > MAX_SOUND_BACKLOG) {
      if (stats.dropped++ === 0) sink.log('audio: a viewer is not keeping up with the sound; dropping packets');
      return;
    }
    stats.sent++;
    sink.packet(encodeAudioPacket({ rate: f.rate, channels: f.channels, samples, receivedAt }));
  });
  audio.on('closed', (reason) => {
    sink.message({ t: 'closed', reason });
    sink.ended(reason);
  });
  return stats;
}

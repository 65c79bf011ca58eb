// `kju serve`'s audio socket: one AudioOut (an out-listener of its own) per page, its PCM sent as
// AudioPackets and its format/volume as JSON. Push with a bound: when the page does not read, the
// newest packets are dropped (late sound is worse than a gap) and counted. Runs on serve's Node loop.
import type { WebSocket } from 'ws';
import { encodeAudioPacket } from '../../common/audio-packet.js';
import type { AudioMessage } from '../../common/contract.js';
import type { AudioOut } from '../display/audio-out.js';
import { CloseCode } from './protocol.js';

/** ~0.5 s of 48 kHz stereo float32 waiting in the socket: past it, packets are dropped, not queued. */
export const MAX_AUDIO_BUFFERED = 384 * 1024;

export interface AudioRelayStats {
  sent: number;
  dropped: number;
}

/** Relays `audio` to `ws` until either ends; `audio` is the relay's to close. */
export function relayAudio(audio: AudioOut, ws: WebSocket, log: (line: string) => void): AudioRelayStats {
  const stats: AudioRelayStats = { sent: 0, dropped: 0 };
  const send = (m: AudioMessage) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
  for (const f of audio.formats.values()) send({ t: 'format', rate: f.rate, channels: f.channels });
  audio.on('format', (_s, f) => send({ t: 'format', rate: f.rate, channels: f.channels }));
  audio.on('volume', (_s, mute, volume) => send({ t: 'guest-volume', mute, volume: Math.max(0, ...volume) / 255 }));
  audio.on('pcm', (stream, samples, receivedAt) => {
    const f = audio.formats.get(stream);
    if (!f || ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_AUDIO_BUFFERED) {
      if (stats.dropped++ === 0) log('audio: a page is not keeping up with the sound; dropping packets');
      return;
    }
    stats.sent++;
    ws.send(encodeAudioPacket({ rate: f.rate, channels: f.channels, samples, receivedAt }));
  });
  audio.on('closed', (reason) => {
    send({ t: 'closed', reason });
    if (ws.readyState === ws.OPEN) ws.close(CloseCode.displayEnded, reason.slice(0, 120));
  });
  ws.on('close', () => audio.close());
  ws.on('message', () => ws.close(CloseCode.unsupportedData, 'the audio socket takes no messages'));
  return stats;
}

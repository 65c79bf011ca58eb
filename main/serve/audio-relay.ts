// `kju serve`'s audio socket: one AudioOut (an out-listener of its own) per page, relayed by the
// viewer endpoint's relaySound (main/display/viewer-endpoint.ts): PCM as binary AudioPackets,
// format/volume as JSON, bounded by the socket's backlog. Runs on serve's Node loop.
import type { WebSocket } from 'ws';
import type { AudioOut } from '../display/audio-out.js';
import { relaySound, type SoundRelayStats } from '../display/viewer-endpoint.js';
import { CloseCode } from './protocol.js';

/** Relays `audio` to `ws` until either ends; `audio` is the relay's to close. */
export function relayAudio(audio: AudioOut, ws: WebSocket, log: (line: string) => void): SoundRelayStats {
  const open = () => ws.readyState === ws.OPEN;
  const stats = relaySound(audio, {
    message: (m) => open() && ws.send(JSON.stringify(m)),
    packet: (p) => open() && ws.send(p),
    backlog: () => ws.bufferedAmount,
    ended: (reason) => open() && ws.close(CloseCode.displayEnded, reason.slice(0, 120)),
    log,
  });
  ws.on('close', () => audio.close());
  ws.on('message', () => ws.close(CloseCode.unsupportedData, 'the audio socket takes no messages'));
  return stats;
}

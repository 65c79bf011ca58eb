// Worker-thread entry: serves org.qemu.Display1.AudioOutListener for one VM. QEMU's audio timer
// calls Write every ~10 ms whatever the owner thread is doing, so the listener drains the socket on
// its own event loop; PCM is converted to float32 here and posted, ownership moving with it.
import { workerData } from 'node:worker_threads';
import type { DbusMessage } from '../dbus/peer-connection.js';
import type { AudioOwnerToWorker, AudioWorkerData, AudioWorkerToOwner } from './audio-protocol.js';
import { runListenerWorker } from './listener-worker-boot.js';
import { checkPcmFormat, pcmToFloat32, type InitArgs, type PcmFormat } from './pcm-format.js';

const OUT_IFACE = 'org.qemu.Display1.AudioOutListener';
/** QEMU opens a stream per voice; more than this is not a sound card, it is a misbehaving peer. */
const MAX_STREAMS = 64;

const data = workerData as AudioWorkerData;
/** stream id → its format, or null when its Init was refused (its Writes are dropped) */
const streams = new Map<number, PcmFormat | null>();

const { conn, post } = runListenerWorker<AudioWorkerToOwner, AudioOwnerToWorker>({
  fd: data.fd,
  name: `${data.name} audio`,
  iface: OUT_IFACE,
  interfaces: [],
  errorName: 'org.qemu.Display1.AudioOutListener.Error.Failed',
  handle: handleCall,
});

function handleCall(m: DbusMessage): void {
  const body = m.body ?? [];
  const stream = Number(body[0]);
  switch (m.member) {
    case 'Init': {
      conn.reply(m);
      if (!streams.has(stream) && streams.size >= MAX_STREAMS) {
        console.error(`kju: ${data.name}: audio Init for stream ${stream} refused: already ${MAX_STREAMS} streams`);
        return;
      }
      const args = body.slice(1, 9).map((v) => (typeof v === 'boolean' ? v : Number(v))) as InitArgs;
      const r = checkPcmFormat(args);
      if (r.ok) {
        streams.set(stream, r.format);
        post({ t: 'init', stream, format: r.format });
      } else {
        streams.set(stream, null);
        console.error(`kju: ${data.name}: audio stream ${stream} refused, it stays silent: ${r.reason}`);
        post({ t: 'rejected', stream, reason: r.reason });
      }
      return;
    }
    case 'Write': {
      const receivedAt = performance.timeOrigin + performance.now();
      conn.reply(m);
      const format = streams.get(stream);
      const pcm = body[1];
      if (!format || !(pcm instanceof Uint8Array)) return;
      const samples = pcmToFloat32(pcm, format);
      if (samples.length) post({ t: 'pcm', stream, samples, receivedAt }, [samples.buffer as ArrayBuffer]);
      return;
    }
    case 'Fini':
      conn.reply(m);
      if (streams.delete(stream)) post({ t: 'fini', stream });
      return;
    case 'SetEnabled':
      conn.reply(m);
      if (streams.get(stream)) post({ t: 'enabled', stream, enabled: body[1] === true });
      return;
    case 'SetVolume': {
      conn.reply(m);
      const vol = body[2] instanceof Uint8Array ? [...body[2]].slice(0, 8) : [];
      if (streams.get(stream)) post({ t: 'volume', stream, mute: body[1] === true, volume: vol });
      return;
    }
    default:
      conn.replyError(m, 'org.freedesktop.DBus.Error.UnknownMethod', `kju's audio listener does not implement ${m.interface}.${m.member}`);
  }
}

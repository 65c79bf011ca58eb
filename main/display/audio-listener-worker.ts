// Worker-thread entry: serves org.qemu.Display1.AudioOutListener for one VM. QEMU's audio timer
// calls Write every ~10 ms whatever the owner thread is doing, so the listener drains the socket on
// its own event loop; PCM is converted to float32 here and posted, ownership moving with it.
import { parentPort, workerData } from 'node:worker_threads';
import { PeerConnection, variant, type DbusMessage } from '../dbus/peer-connection.js';
import type { AudioOwnerToWorker, AudioWorkerData, AudioWorkerToOwner } from './audio-protocol.js';
import { checkPcmFormat, pcmToFloat32, type InitArgs, type PcmFormat } from './pcm-format.js';

const OUT_IFACE = 'org.qemu.Display1.AudioOutListener';
const PROPS_IFACE = 'org.freedesktop.DBus.Properties';
/** QEMU opens a stream per voice; more than this is not a sound card, it is a misbehaving peer. */
const MAX_STREAMS = 64;

const data = workerData as AudioWorkerData;
const port = parentPort!;
/** stream id → its format, or null when its Init was refused (its Writes are dropped) */
const streams = new Map<number, PcmFormat | null>();
let closed = false;

const post = (m: AudioWorkerToOwner, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

const conn = new PeerConnection(data.fd, { name: `${data.name} audio`, ayView: true });
post({ t: 'handshake-started' });
conn.ready.then(() => post({ t: 'connected' }), () => {});
conn.on('close', (err) => shutdown(err?.message ?? 'audio listener connection closed'));
conn.on('call', (m) => {
  try {
    handleCall(m);
  } catch (err) {
    console.error(`kju: ${data.name}: audio ${m.member} failed:`, err);
    conn.replyError(m, 'org.qemu.Display1.AudioOutListener.Error.Failed', err instanceof Error ? err.message : String(err));
  }
});
port.on('message', (m: AudioOwnerToWorker) => {
  if (m.t === 'close') shutdown('closed by its owner');
});

function handleCall(m: DbusMessage): void {
  const body = m.body ?? [];
  if (m.interface === PROPS_IFACE) return handleProperties(m);
  if (m.interface === 'org.freedesktop.DBus.Peer' && m.member === 'Ping') return conn.reply(m);
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

function handleProperties(m: DbusMessage): void {
  const [iface, prop] = (m.body ?? []) as string[];
  const props: Record<string, [string, unknown]> = iface === OUT_IFACE ? { Interfaces: ['as', []] } : {};
  if (m.member === 'GetAll') {
    conn.reply(m, 'a{sv}', [Object.entries(props).map(([k, [sig, v]]) => [k, variant(sig, v)])]);
  } else if (m.member === 'Get' && prop && props[prop]) {
    const [sig, v] = props[prop];
    conn.reply(m, 'v', [variant(sig, v)]);
  } else {
    conn.replyError(m, 'org.freedesktop.DBus.Error.UnknownProperty', `no property ${iface}.${prop ?? ''}`);
  }
}

function shutdown(reason: string): void {
  if (closed) return;
  closed = true;
  conn.close();
  post({ t: 'closed', reason });
  port.close();
}

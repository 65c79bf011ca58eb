// The audio listener worker against a scripted QEMU on a real socketpair: QEMU's SASL answer, then
// an absurd Init (refused: one log line, that stream's Writes dropped), a good Init, a Write of a
// known s16le ramp, SetVolume and Fini. The worker's posts to its owner are the observed output.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { FdSocket, socketpair } from '../../native/index.js';
import { MessageType } from '../dbus/peer-connection.js';
import { spawnWorker } from '../util/spawn-worker.js';
import type { AudioWorkerToOwner } from './audio-protocol.js';

const require = createRequire(import.meta.url);
const wire = require('dbus-native/lib/message.js') as { marshall(msg: Record<string, unknown>): Buffer };

const PATH = '/org/qemu/Display1/AudioOutListener';
const IFACE = 'org.qemu.Display1.AudioOutListener';
const call = (serial: number, member: string, signature: string, body: unknown[]) => wire.marshall({ type: MessageType.methodCall, serial, path: PATH, interface: IFACE, member, signature, body });

test('absurd Init is refused with a log line and its Writes dropped; a good stream is converted and posted', async (t) => {
  const [ours, theirs] = socketpair();
  const logged: string[] = [];
  const worker: Worker = spawnWorker(new URL('./audio-out.ts', import.meta.url).href, 'audio-listener-worker', { fd: ours, name: 'scripted' });
  worker.on('error', (e) => logged.push(`worker error ${e.message}`));
  const posts: AudioWorkerToOwner[] = [];
  const done = new Promise<void>((resolve) => worker.on('message', (m: AudioWorkerToOwner) => (posts.push(m), m.t === 'fini' && resolve())));
  const qemu = new FdSocket(theirs);
  t.after(async () => {
    // the worker first: a hang-up arriving while its env is torn down is a separate, rare native race
    await worker.terminate();
    qemu.destroy();
  });
  const ramp = new Uint8Array(new Int16Array([0, 16384, -16384, 32767, 1, 2, 3]).buffer); // 3.5 stereo frames
  qemu.write(
    Buffer.concat([
      Buffer.from('OK 0123456789abcdef0123456789abcdef\r\nAGREE_UNIX_FD\r\n'),
      call(1, 'Init', 'tybbuyuub', [7, 16, true, false, 0, 2, 4, 0, false]),
      call(2, 'Write', 'tay', [7, Buffer.from(ramp)]),
      call(3, 'Init', 'tybbuyuub', [9, 16, true, false, 48000, 2, 4, 192000, false]),
      call(4, 'Write', 'tay', [9, Buffer.from(ramp)]),
      call(5, 'SetVolume', 'tbay', [9, true, Buffer.from([255, 128])]),
      call(6, 'Fini', 't', [9]),
    ]),
  );
  await done;
  assert.deepEqual(logged, []);
  const kinds = posts.map((p) => p.t).filter((k) => k !== 'handshake-started' && k !== 'connected');
  assert.deepEqual(kinds, ['rejected', 'init', 'pcm', 'volume', 'fini']);
  const rejected = posts.find((p) => p.t === 'rejected') as Extract<AudioWorkerToOwner, { t: 'rejected' }>;
  assert.equal(rejected.stream, 7);
  assert.match(rejected.reason, /a rate of 0 Hz is outside 4000\.\.192000/);
  const pcm = posts.find((p) => p.t === 'pcm') as Extract<AudioWorkerToOwner, { t: 'pcm' }>;
  assert.equal(pcm.stream, 9);
  assert.deepEqual([...pcm.samples], [0, 0.5, -0.5, 32767 / 32768, 1 / 32768, 2 / 32768], 'three whole frames as float32, the half frame dropped');
  assert.ok(Math.abs(pcm.receivedAt - Date.now()) < 10_000);
  assert.deepEqual(
    posts.find((p) => p.t === 'volume'),
    { t: 'volume', stream: 9, mute: true, volume: [255, 128] },
  );
});

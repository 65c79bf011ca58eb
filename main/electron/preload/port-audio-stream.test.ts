import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AudioMessage } from '../../../common/contract.js';
import { PortAudioStream } from './port-audio-stream.js';
import type { PortLike } from './port-display-stream.js';

function fakePort() {
  const port: PortLike & { closed: boolean } = { onmessage: null, postMessage: () => {}, close: () => void (port.closed = true), closed: false };
  return port;
}

test('what arrives before the page registers is delivered in order once it does; closed ends the port', () => {
  const port = fakePort();
  let ended = 0;
  const s = new PortAudioStream(port, () => ended++);
  const pcm = new ArrayBuffer(8);
  port.onmessage!({ data: { t: 'format', rate: 48000, channels: 2 } });
  port.onmessage!({ data: pcm });
  port.onmessage!({ data: 'junk' });
  const got: Array<AudioMessage | ArrayBuffer> = [];
  const bridge = s.toBridgeObject();
  bridge.onMessage((m) => got.push(m));
  assert.deepEqual(got, [{ t: 'format', rate: 48000, channels: 2 }], 'pcm waits for its callback, keeping order');
  bridge.onPcm((p) => got.push(p));
  assert.equal(got[1], pcm);
  port.onmessage?.({ data: { t: 'closed', reason: 'gone' } });
  assert.deepEqual(got[2], { t: 'closed', reason: 'gone' });
  assert.equal(port.closed, true);
  assert.equal(ended, 1);
});

test('end() tells the page why and closes once', () => {
  const port = fakePort();
  const s = new PortAudioStream(port);
  const got: AudioMessage[] = [];
  s.onMessage((m) => got.push(m));
  s.end('the display process stopped');
  s.end('again');
  assert.deepEqual(got, [{ t: 'closed', reason: 'the display process stopped' }]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUDIO_HEADER_BYTES, decodeAudioPacket, encodeAudioPacket } from './audio-packet.js';

test('an audio packet round-trips; a trailing partial frame is not sent', () => {
  const samples = new Float32Array([0.5, -0.5, 0.25, -0.25, 1]);
  const buf = encodeAudioPacket({ rate: 48000, channels: 2, samples, receivedAt: 1234.5 });
  assert.equal(buf.byteLength, AUDIO_HEADER_BYTES + 16);
  const c = decodeAudioPacket(buf);
  assert.ok(typeof c !== 'string');
  assert.deepEqual({ rate: c.rate, channels: c.channels, receivedAt: c.receivedAt, samples: [...c.samples] }, { rate: 48000, channels: 2, receivedAt: 1234.5, samples: [0.5, -0.5, 0.25, -0.25] });
});

test('malformed packets are refused with the reason, split at every length', () => {
  const good = encodeAudioPacket({ rate: 48000, channels: 2, samples: new Float32Array(8), receivedAt: 1 });
  for (let n = 0; n < good.byteLength; n++) assert.equal(typeof decodeAudioPacket(good.slice(0, n)), 'string', `${n} bytes`);
  const edit = (at: number, value: number) => {
    const b = good.slice(0);
    new DataView(b).setUint32(at, value, true);
    return decodeAudioPacket(b);
  };
  assert.match(edit(0, 0x464a554b) as string, /bad magic/);
  assert.match(edit(4, 0) as string, /rate 0 Hz/);
  assert.match(edit(8, 9) as string, /9 channels/);
  assert.match(edit(12, 0xffffffff) as string, /does not hold 4294967295 frames/);
});

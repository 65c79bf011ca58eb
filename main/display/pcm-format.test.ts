import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPcmFormat, pcmToFloat32, type InitArgs } from './pcm-format.js';
import { channelOf, dominantFrequency } from './tone.js';

const S16_STEREO_48K: InitArgs = [16, true, false, 48000, 2, 4, 192000, false];

test("QEMU's usual format (s16le 48 kHz stereo) is accepted", () => {
  const r = checkPcmFormat(S16_STEREO_48K);
  assert.ok(r.ok);
  assert.deepEqual(r.format, { bits: 16, signed: true, float: false, rate: 48000, channels: 2, bytesPerFrame: 4, bytesPerSecond: 192000, bigEndian: false });
  assert.ok(checkPcmFormat([32, true, true, 44100, 1, 4, 176400, false]).ok, 'f32');
  assert.ok(checkPcmFormat([8, false, false, 8000, 1, 1, 8000, false]).ok, 'u8');
});

test('absurd Init formats are refused with the reason and what Init said', () => {
  const cases: [InitArgs, RegExp][] = [
    [[24, true, false, 48000, 2, 6, 288000, false], /24-bit integer samples are not a PCM kju plays/],
    [[16, true, true, 48000, 2, 4, 192000, false], /16-bit float/],
    [[16, true, false, 0, 2, 4, 0, false], /a rate of 0 Hz is outside 4000\.\.192000/],
    [[16, true, false, 4_000_000_000, 2, 4, 192000, false], /a rate of 4000000000 Hz/],
    [[16, true, false, 48000, 0, 0, 0, false], /0 channels is outside 1\.\.8/],
    [[16, true, false, 48000, 255, 510, 24480000, false], /255 channels/],
    [[16, true, false, 48000, 2, 1, 48000, false], /1 bytes per frame does not match 2 × 16 bits/],
    [[16, true, false, 48000, 2, 4, 1, false], /1 bytes per second does not match 48000 Hz × 4 bytes/],
  ];
  for (const [args, why] of cases) {
    const r = checkPcmFormat(args);
    assert.ok(!r.ok, JSON.stringify(args));
    assert.match(r.reason, why);
    assert.match(r.reason, /\(Init said [suf]\d+/);
  }
});

test('samples convert to float32 for every accepted layout; a partial frame is dropped', () => {
  const ok = (a: InitArgs) => {
    const r = checkPcmFormat(a);
    assert.ok(r.ok);
    return r.format;
  };
  const s16 = new Uint8Array(new Int16Array([-32768, 16384, 32767, 0]).buffer);
  assert.deepEqual([...pcmToFloat32(s16, ok(S16_STEREO_48K))], [-1, 0.5, 32767 / 32768, 0]);
  assert.deepEqual([...pcmToFloat32(s16.subarray(0, 6), ok(S16_STEREO_48K))], [-1, 0.5], 'a frame and a half is one frame');
  const be = new Uint8Array([0x40, 0x00, 0xc0, 0x00]);
  assert.deepEqual([...pcmToFloat32(be, ok([16, true, false, 48000, 2, 4, 192000, true]))], [0.5, -0.5]);
  assert.deepEqual([...pcmToFloat32(new Uint8Array([0, 128, 192]), ok([8, false, false, 8000, 1, 1, 8000, false]))], [-1, 0, 0.5]);
  const f32 = new Uint8Array(new Float32Array([0.25, -0.75]).buffer);
  assert.deepEqual([...pcmToFloat32(f32, ok([32, true, true, 44100, 1, 4, 176400, false]))], [0.25, -0.75]);
  const u16 = new Uint8Array(new Uint16Array([0, 32768]).buffer);
  assert.deepEqual([...pcmToFloat32(u16, ok([16, false, false, 48000, 1, 2, 96000, false]))], [-1, 0]);
});

test('dominantFrequency finds a tone within 0.5% and tells 1000 Hz from 440 Hz; channelOf picks one channel', () => {
  const rate = 48000;
  for (const freq of [440, 1000, 1234.5]) {
    const stereo = new Float32Array(9600 * 2);
    for (let i = 0; i < 9600; i++) {
      stereo[i * 2] = 0.5 * Math.sin((2 * Math.PI * freq * i) / rate) + 0.05 * (Math.random() - 0.5);
      stereo[i * 2 + 1] = 0.3 * Math.sin((2 * Math.PI * 3000 * i) / rate);
    }
    const left = channelOf(stereo, 2, 0);
    assert.ok(Math.abs(dominantFrequency(left, rate) - freq) / freq < 0.005, `${freq}: ${dominantFrequency(left, rate)}`);
    assert.ok(Math.abs(dominantFrequency(channelOf(stereo, 2, 1), rate) - 3000) < 15);
  }
});

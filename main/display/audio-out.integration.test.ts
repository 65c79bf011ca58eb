// Integration (real QEMU under TCG, the demo guest with an intel-hda + hda-duplex card on QEMU's
// D-Bus audiodev): the guest's tone-play tool writes 1 kHz then 440 Hz through raw ALSA ioctls;
// kju's AudioOutListener receives the PCM, and a Goertzel scan of it finds both tones within 2%.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { bootDemoGuest, type BootedGuest } from '../testing/guest.js';
import { AudioOut } from './audio-out.js';
import { DisplayConnection } from './display-connection.js';
import type { PcmFormat } from './pcm-format.js';
import { channelOf, dominantFrequency } from './tone.js';

let guest: BootedGuest | undefined;
let connection: DisplayConnection | undefined;
let audio: AudioOut | undefined;
after(async () => {
  audio?.close();
  connection?.close();
  await guest?.stop();
});

test('the guest plays 1000 Hz then 440 Hz; kju receives PCM whose dominant frequencies match within 2%', async () => {
  guest = await bootDemoGuest({ name: 'it-sound', sound: 'intel-hda' });
  connection = await DisplayConnection.open(guest.qmp, 'it-sound');
  audio = await AudioOut.open(connection.control, 'it-sound');
  let format: PcmFormat | undefined;
  const chunks: Float32Array[] = [];
  audio.on('format', (_s, f) => (format = f));
  audio.on('pcm', (_s, samples) => chunks.push(samples));

  const out = await guest.serial.run('tone-play -s 2 1000 440 2>&1', { timeoutMs: 60_000 });
  assert.match(out, /tone-play: start 1000\n[\s\S]*tone-play: start 440\n[\s\S]*tone-play: done/);
  await new Promise((r) => setTimeout(r, 500)); // the last Writes after the drain

  assert.ok(format, 'QEMU sent Init with a format kju accepted');
  assert.equal(format.channels, 2);
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (all.set(c, at), at + c.length), 0);
  const left = channelOf(all, format.channels, 0);
  // 100 ms windows; silence (before, between Writes, after) is skipped by its level.
  const win = Math.round(format.rate / 10);
  const tones: number[] = [];
  for (let at = 0; at + win <= left.length; at += win) {
    const w = left.subarray(at, at + win);
    const rms = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    if (rms > 0.05) tones.push(dominantFrequency(w, format.rate));
  }
  const near = (f: number, want: number) => Math.abs(f - want) / want <= 0.02;
  const first1000 = tones.findIndex((f) => near(f, 1000));
  const first440 = tones.findIndex((f) => near(f, 440));
  assert.ok(first1000 >= 0, `a 1000 Hz window among ${tones.length}: ${tones.join(' ')}`);
  assert.ok(first440 > first1000, `440 Hz after 1000 Hz: ${tones.join(' ')}`);
  // Windows that straddle a switch or a gap may be neither; nearly all are one of the two.
  const matched = tones.filter((f) => near(f, 1000) || near(f, 440)).length;
  assert.ok(matched >= tones.length * 0.8 && tones.length >= 20, `${matched} of ${tones.length} windows are a tone: ${tones.join(' ')}`);
});

// kju serve with the real demo guest (intel-hda on QEMU's D-Bus audio) and the real React app in
// Chromium: the guest's tone-play writes 1 kHz then 440 Hz; the page's AudioWorklet output, read
// from the AnalyserNode after it, peaks at those frequencies within 2%. The PCM latency (kju read
// the Write from QEMU → the worklet played it) and the underruns are printed, never asserted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openVmPage, startRealServe, until, type RealServe } from './helpers/real-serve.js';
import { peakFrequency } from './helpers/sound-probe.js';

let rs: RealServe;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  rs = await startRealServe({ name: 'kju-serve-sound', sound: 'intel-hda' });
  page = await openVmPage(rs, { errors: pageErrors });
});
after(async () => {
  await rs?.stop();
});

test('the page plays the guest tone: its analyser peaks at 1000 Hz, then at 440 Hz, within 2%', async () => {
  // Autoplay needs a user gesture: a click in the window resumes the AudioContext.
  await page.getByTestId('screen').click();
  const playing = rs.guest.serial.run('tone-play -s 4 1000 440 2>&1', { timeoutMs: 90_000 });
  const near = (f: number, want: number) => Math.abs(f - want) / want <= 0.02;
  const seen: string[] = [];
  const watch = (want: number) =>
    until(
      `the page's analyser to peak at ${want} Hz`,
      async () => {
        await page.getByTestId('screen').click();
        const p = await peakFrequency(page);
        seen.push(p ? `${p.freq.toFixed(1)} Hz ${p.state}` : `silent: ${await page.getByTestId('sound-state').getAttribute('data-state')} ${await page.getByTestId('sound-state').textContent()}`);
        return p && near(p.freq, want) ? p : false;
      },
      30_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the last readings: ${seen.slice(-6).join('; ')}; page errors: ${pageErrors.join(' | ')}; serve log: ${rs.log.slice(-5).join(' | ')}`);
    });
  const first = await watch(1000);
  const second = await watch(440);
  const out = await playing;
  assert.match(out, /tone-play: done/);
  const stats = await page.evaluate(() => ({ latencies: window.__kjuAudio!.latencies.slice(), status: window.__kjuAudio!.status }));
  const sorted = stats.latencies.sort((a: number, b: number) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  console.log(
    `# page peaks: ${first.freq.toFixed(1)} Hz, then ${second.freq.toFixed(1)} Hz; PCM latency (kju read → worklet played) median ${q(0.5)} ms, p99 ${q(0.99)} ms over ${sorted.length} chunks; ${stats.status.underruns} underruns`,
  );
  assert.match((await page.getByTestId('sound-state').textContent()) ?? '', /^sound: /);
  assert.deepEqual(pageErrors, []);
});

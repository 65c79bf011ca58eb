// The sound row of `npm run bench`: the demo guest (intel-hda on QEMU's D-Bus audio) plays a steady
// 1 kHz tone; kju serve relays it to the real app (app/out/renderer) in Chromium, whose AudioWorklet
// reports each chunk's latency from kju reading QEMU's Write to the worklet starting to play it.
// Figures only: median, p99 and the worklet's underruns over the measured window. This row drives
// the page with Playwright (the display rows use a DevTools-free harness; audio has no CPU figure).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { BackendArgs, BackendMethod, BackendValue, Result, VmSummary } from '../common/contract.js';
import type { ServeBackend } from '../main/backend/backend.js';
import { AudioOut } from '../main/display/audio-out.js';
import type { DisplaySource } from '../main/display/display-source.js';
import { startServe } from '../main/serve/serve.js';
import { VmSession } from '../main/session/vm-session.js';
import { bootDemoGuest } from '../main/testing/guest.js';
import { CHROMIUM, CHROMIUM_ARGS } from './browser.js';
import { percentile } from './stats.js';

const RENDERER_DIR = fileURLToPath(new URL('../app/out/renderer/', import.meta.url));

export interface SoundResult {
  seconds: number;
  /** chunks that started playing in the window */
  chunks: number;
  medianMs: number;
  p99Ms: number;
  underruns: number;
}

interface SoundProbe {
  latencies: number[];
  status: { underruns: number; state: string };
}

export async function runSoundLatency(seconds: number, log: string[]): Promise<SoundResult> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error(`${RENDERER_DIR}index.html is missing: run node scripts/build.mjs`);
  const guest = await bootDemoGuest({ name: 'bench-sound', sound: 'intel-hda' });
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => guest.stop()];
  try {
    const session = await VmSession.attach({
      name: guest.desc.name,
      runtimeDir: guest.qemu.runtimeDir,
      pid: guest.qemu.pid,
      exited: guest.qemu.exited.then((e) => ({ code: e.code, signal: e.signal, logTail: e.logTail })),
      qmp: guest.qmp,
    });
    cleanups.unshift(() => session.display.close('bench over'));
    const summary: VmSummary = { id: 'demo', name: 'Demo', state: 'running', displayDevice: 'virtio-vga', memoryMiB: guest.desc.memoryMiB, cpus: guest.desc.cpus, soundDevice: 'intel-hda' };
    const backend: ServeBackend = {
      call: async <M extends BackendMethod>(method: M, _a: BackendArgs<M>): Promise<Result<BackendValue<M>>> =>
        method === 'listVms' ? { ok: true, value: [summary] as BackendValue<M> } : { ok: false, code: 'unknown-method', message: `${method} is not in the sound bench` },
      openDisplay: async (): Promise<Result<DisplaySource>> => ({ ok: true, value: await session.primaryDisplay() }),
      openAudio: async (): Promise<Result<AudioOut>> => ({ ok: true, value: await AudioOut.open(session.display.control, 'bench-sound') }),
      onVmsChanged: () => () => {},
    };
    const serve = await startServe({ backend, host: '127.0.0.1', staticDir: RENDERER_DIR, log: (l) => log.push(`sound serve: ${l}`) });
    cleanups.unshift(() => serve.close());
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    cleanups.unshift(() => browser.close());
    const page = await browser.newPage();
    page.on('pageerror', (e) => log.push(`sound page: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && log.push(`sound page console: ${m.text()}`));
    await page.goto(`${serve.origin}/#/vm/demo?test=1&token=${serve.token}`);
    await page.waitForFunction(() => !!(globalThis as { __kjuAudio?: unknown }).__kjuAudio, undefined, { timeout: 30_000 });
    await page.waitForFunction(() => !!(globalThis as { __kju?: { surfaceSize(): unknown } }).__kju?.surfaceSize(), undefined, { timeout: 30_000 });
    await page.getByTestId('screen').click(); // a user gesture lets the AudioContext start
    const warmupS = 3;
    const tone = guest.serial.run(`tone-play -s ${seconds + warmupS + 2} 1000 2>&1`, { timeoutMs: (seconds + 60) * 1000 });
    const read = () =>
      page.evaluate(() => {
        const a = (globalThis as unknown as { __kjuAudio: SoundProbe }).__kjuAudio;
        return { n: a.latencies.length, underruns: a.status.underruns, state: a.status.state };
      });
    await page.waitForTimeout(warmupS * 1000);
    const start = await read();
    await page.waitForTimeout(seconds * 1000);
    const end = await read();
    const played = await page.evaluate(([from, to]) => (globalThis as unknown as { __kjuAudio: SoundProbe }).__kjuAudio.latencies.slice(from, to), [start.n, end.n]);
    await tone.catch((e: Error) => log.push(`sound: tone-play: ${e.message}`));
    if (end.state !== 'playing') log.push(`sound: the page's audio ended ${end.state}`);
    return { seconds, chunks: played.length, medianMs: percentile(played, 50), p99Ms: percentile(played, 99), underruns: end.underruns - start.underruns };
  } finally {
    for (const c of cleanups) await Promise.resolve(c()).catch(() => {});
  }
}

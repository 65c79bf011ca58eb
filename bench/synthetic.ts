// The no-QEMU reference for damage-to-texture latency: SyntheticDisplay paints one 256×256 rect at
// a time into a 1024×768 surface, served by `kju serve` to the same bench page and Viewer.
// Node event loop (painting included, as a listener worker's damage would arrive there).
import type { Browser } from 'playwright-core';
import { SyntheticDisplay, patternFor } from '../main/display/synthetic-display.js';
import { startServe } from '../main/serve/serve.js';
import { clockOffset, openPage } from './browser.js';
import { inPage, sleep, until } from './measure.js';
import { median, percentile } from './stats.js';
import { TimedSource } from './timed-source.js';

export interface SyntheticResult {
  rectsPerSec: number;
  samples: number;
  medianMs: number;
  p99Ms: number;
  pageUploadMedianMs: number;
  clockErrorMs: number;
}

export async function runSyntheticLatency(browser: Browser, siteDir: string, durationMs: number, log: string[]): Promise<SyntheticResult> {
  const display = new SyntheticDisplay({ width: 1024, height: 768 });
  let src: TimedSource | null = null;
  const serve = await startServe({
    staticDir: siteDir,
    log: (l) => log.push(`serve: ${l}`),
    backend: {
      call: async (method) => ({ ok: false, code: 'unsupported', message: `${method} is not part of the bench` }),
      openDisplay: async () => {
        src = new TimedSource(display, () => serve.viewers()[0]?.framesSent ?? 0);
        return { ok: true, value: src };
      },
      onVmsChanged: () => () => {},
    },
  });
  try {
    const page = await openPage(browser, serve.url, log);
    try {
      const opened = await inPage<string>(page, 'window.kjuBench.open("synthetic")');
      if (opened !== 'ok') throw new Error(`the bench page could not open the synthetic display: ${opened}`);
      await until('the first frame', async () => (await inPage<{ total: number }>(page, 'window.kjuBench.take(1e9)')).total > 0, 20_000);
      const clock = await clockOffset(page, 'kjuBench');
      const s = src as TimedSource | null;
      if (!s) throw new Error('serve did not open the synthetic display');
      const from = s.records.length;
      const pageFrom = (await inPage<{ total: number }>(page, 'window.kjuBench.take(1e9)')).total;
      // 30 rects/s, spaced so each usually travels alone (latency, not throughput).
      const rate = 30;
      const end = Date.now() + durationMs;
      for (let i = 0; Date.now() < end; i++) {
        const x = (i * 197) % (1024 - 256);
        const y = (i * 131) % (768 - 256);
        display.paint([{ x, y, w: 256, h: 256 }], patternFor(i + 7));
        await sleep(1000 / rate);
      }
      await sleep(300);
      s.settle();
      const frames = await inPage<{ frames: { seq: number; arrivedAt: number; uploadedAt: number }[] }>(page, `window.kjuBench.take(${pageFrom})`);
      const up = new Map(frames.frames.map((f) => [f.seq, f.uploadedAt]));
      const lat: number[] = [];
      const recs = s.records.slice(from);
      for (const r of recs) {
        const u = r.frame ? up.get(r.frame) : undefined;
        if (u !== undefined) lat.push(u - clock.offsetMs - r.arrivedAt);
      }
      return {
        rectsPerSec: recs.length / (durationMs / 1000),
        samples: lat.length,
        medianMs: median(lat),
        p99Ms: percentile(lat, 99),
        pageUploadMedianMs: median(frames.frames.map((f) => f.uploadedAt - f.arrivedAt)),
        clockErrorMs: clock.rttMs / 2,
      };
    } finally {
      await inPage(page, 'window.kjuBench.close()').catch(() => undefined);
      await page.close().catch(() => undefined);
    }
  } finally {
    await serve.close();
    display.close();
  }
}

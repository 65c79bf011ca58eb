// The no-QEMU reference for damage-to-texture latency: SyntheticDisplay paints one 256×256 rect at
// a time into a 1024×768 surface, served by `kju serve` in a serving child (painting included,
// as a listener worker's damage would arrive on that thread) to the same bench page and Viewer in
// a Chromium of its own. Node event loop.
import { openChromium } from './browser.js';
import { pageFrames, type KjuReport } from './kju-path.js';
import { sleep } from './measure.js';
import { pageUrl, startServing } from './serving.js';
import { median, percentile } from './stats.js';

export interface SyntheticResult {
  rectsPerSec: number;
  samples: number;
  medianMs: number;
  p99Ms: number;
  pageUploadMedianMs: number;
  clockErrorMs: number;
}

export async function runSyntheticLatency(siteDir: string, durationMs: number, log: string[]): Promise<SyntheticResult> {
  const serving = await startServing({ op: 'start', mode: 'synthetic', siteDir }, { log: (l) => log.push(l) });
  try {
    const page = await openChromium(pageUrl(serving.url, 'synthetic'), log);
    try {
      await page.waitFor('the first frame', (r) => (r as KjuReport).total > 0 || (r as KjuReport).errors?.length > 0, 20_000);
      if (!(page.reports as KjuReport[]).some((r) => r.total > 0))
        throw new Error(`the bench page could not open the synthetic display: ${(page.reports as KjuReport[]).flatMap((r) => r.errors).join('; ')}`);
      await sleep(500);
      const markA = await serving.mark();
      // 30 rects/s, spaced so each usually travels alone (latency, not throughput).
      const painted = await serving.paint(durationMs, 30);
      await sleep(300);
      const markB = await serving.mark();
      await page.nextReport();
      const frames = pageFrames(page.reports);
      const pageClock = page.reports[page.reports.length - 1].clock;
      const recs = await serving.records(markA.records, markB.records);
      const lat: number[] = [];
      for (const [arrivedAt, frame] of recs.records) {
        const u = frame ? frames.get(frame)?.[1] : undefined;
        if (u !== undefined) lat.push(u - pageClock - (arrivedAt - recs.clock));
      }
      const upload: number[] = [];
      for (const [seq, [arr, up]] of frames) if (seq > markA.framesSent && seq <= markB.framesSent) upload.push(up - arr);
      return {
        rectsPerSec: painted / (durationMs / 1000),
        samples: lat.length,
        medianMs: median(lat),
        p99Ms: percentile(lat, 99),
        pageUploadMedianMs: median(upload),
        clockErrorMs: Math.max(0.01, Math.abs(recs.clock - markA.clock)),
      };
    } finally {
      await page.close();
    }
  } finally {
    await serving.close();
  }
}

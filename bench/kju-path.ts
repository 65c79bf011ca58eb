// One scenario through kju: the guest's console → D-Bus listener (map or copy) → kju serve →
// WebSocket → the renderer's Viewer in Chromium. Node event loop.
import type { DbusDisplay } from '../main/display/dbus-display.js';
import { clockOffset, openPage } from './browser.js';
import { cpuFigures, inPage, meterFor, sleep, until } from './measure.js';
import type { Rig } from './rig.js';
import type { ScenarioResult } from './scenario.js';
import { median, percentile, ratio } from './stats.js';
import { framesWritten, startWorkload, type Workload } from './workloads.js';

interface PageFrame {
  seq: number;
  arrivedAt: number;
  uploadedAt: number;
  bytes: number;
}
interface PageTake {
  frames: PageFrame[];
  total: number;
  draws: number;
  surfaces: number;
  closed: string | null;
  errors: string[];
}

export interface RunOpts {
  durationMs: number;
  warmupMs: number;
  browserRoot: number | undefined;
}

export async function runKju(rig: Rig, workload: Workload, o: RunOpts): Promise<ScenarioResult> {
  const path = rig.device === 'virtio-vga' ? 'kju-map' : 'kju-copy';
  const notes: string[] = [];
  const stopWorkload = await startWorkload(rig.guest.serial, workload);
  try {
    const page = await openPage(rig.browser, rig.serve.url, rig.log);
    try {
      const opened = await inPage<string>(page, 'window.kjuBench.open("bench")');
      if (opened !== 'ok') throw new Error(`the bench page could not open the display: ${opened}`);
      const take = (from: number) => inPage<PageTake>(page, `window.kjuBench.take(${from})`);
      await until('the first frame in the page', async () => (await take(1e9)).total > 0, 30_000);
      await sleep(o.warmupMs);
      const clock = await clockOffset(page, 'kjuBench');
      const src = rig.current;
      if (!src) throw new Error('serve has no open display');
      const display = src.inner as DbusDisplay;
      const expected = path === 'kju-map' ? 'map' : 'copy';
      if (display.surface?.transport !== expected) notes.push(`transport is ${display.surface?.transport} (${display.transportNote ?? 'no reason given'}), expected ${expected}`);
      const meter = meterFor(rig.guest.qemu.pid, o.browserRoot);

      const guestA = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
      src.settle();
      const a = meter.snapshot();
      const statsA = display.stats();
      const viewerA = rig.serve.viewers()[0];
      const recA = src.records.length;
      const pageA = await take(1e9);
      await sleep(o.durationMs);
      src.settle();
      const b = meter.snapshot();
      const statsB = display.stats();
      const viewerB = rig.serve.viewers()[0];
      const recB = src.records.length;
      const guestB = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
      // Let packets carrying the window's last damage land before reading the page.
      await sleep(300);
      src.settle();
      const pageB = await take(pageA.total);
      const sentA = viewerA?.framesSent ?? 0;
      const sentB = viewerB?.framesSent ?? 0;
      const delivered = Math.max(0, sentB - sentA);
      const framesInWindow = pageB.frames.filter((f) => f.seq > sentA && f.seq <= sentB).length;
      if (framesInWindow < delivered) notes.push(`${delivered - framesInWindow} packets sent but not uploaded by the end`);
      const fig = cpuFigures(a, b, delivered);
      const seconds = fig.seconds;

      const uploadedAt = new Map(pageB.frames.map((f) => [f.seq, f.uploadedAt]));
      const lat: number[] = [];
      let unsent = 0;
      for (const r of src.records.slice(recA, recB)) {
        const up = r.frame ? uploadedAt.get(r.frame) : undefined;
        if (up === undefined) unsent++;
        else lat.push(up - clock.offsetMs - r.arrivedAt);
      }
      const pageUpload = pageB.frames.map((f) => f.uploadedAt - f.arrivedAt);
      if (pageB.errors.length) notes.push(`page errors: ${pageB.errors.slice(0, 3).join('; ')}`);
      const emitted = statsB.updates - statsA.updates;
      return {
        path,
        workload,
        resolution: `${rig.fb.width}x${rig.fb.height}`,
        ...fig,
        guestFramesPerSec: workload === 'fullscreen' ? (guestB - guestA) / seconds : undefined,
        emittedPerSec: emitted / seconds,
        scanoutsPerSec: (statsB.scanouts - statsA.scanouts) / seconds,
        batchesPerSec: (statsB.batches - statsA.batches) / seconds,
        deliveredPerSec: delivered / seconds,
        mergedPct: emitted ? Math.max(0, (1 - delivered / emitted) * 100) : 0,
        copiedBytesPerFrame: ratio(statsB.copiedBytes - statsA.copiedBytes, delivered),
        packetBytesPerFrame: ratio((viewerB?.bytesSent ?? 0) - (viewerA?.bytesSent ?? 0), delivered),
        inlineBytesPerSec: (statsB.inlineBytes - statsA.inlineBytes) / seconds,
        latency: { samples: lat.length, medianMs: median(lat), p99Ms: percentile(lat, 99), clockErrorMs: clock.rttMs / 2, unsentAtEnd: unsent },
        pageUploadMedianMs: median(pageUpload),
        notes,
      };
    } finally {
      await inPage(page, 'window.kjuBench.close()').catch(() => undefined);
      await page.close().catch(() => undefined);
    }
  } finally {
    await stopWorkload();
  }
}

// One scenario through kju: the guest's console → D-Bus listener (map or copy) → kju serve →
// WebSocket → the renderer's Viewer in a Chromium of its own. The serving side runs in the rig's
// serving child; this orchestrator only starts the workload and the browser, takes the window's
// snapshots and collects the figures afterwards. Node event loop.
import { openChromium, type PageReport } from './browser.js';
import { cpuFigures, meterFor, sleep } from './measure.js';
import type { Rig } from './rig.js';
import type { MarkReply } from './serving-protocol.js';
import type { ScenarioResult, StageLatency, StageName } from './scenario.js';
import { pageUrl } from './serving.js';
import { median, percentile, ratio } from './stats.js';
import { framesWritten, startWorkload, type Workload } from './workloads.js';

/** kju-page.tsx's report */
export interface KjuReport extends PageReport {
  frames: [seq: number, arrivedAt: number, uploadedAt: number, bytes: number, presentedAt: number | null][];
  total: number;
  draws: number;
  surfaces: number;
  closed: string | null;
  errors: string[];
  /** the blitter the page's Viewer made */
  blitter?: string | null;
}

export interface RunOpts {
  durationMs: number;
  warmupMs: number;
}

/** Every frame the page reported so far, by packet number: [arrivedAt, uploadedAt, presentedAt] on the page's wall clock. */
export function pageFrames(reports: PageReport[]): Map<number, [number, number, number]> {
  const m = new Map<number, [number, number, number]>();
  for (const r of reports as KjuReport[]) for (const f of r.frames ?? []) m.set(f[0], [f[1], f[2], f[4] ?? NaN]);
  return m;
}

/** the page's blitter setting for a run: undefined = the page's default ('auto') */
export type BlitterParam = 'webgl' | 'canvas2d' | undefined;

export async function runKju(rig: Rig, workload: Workload, o: RunOpts, blitter?: BlitterParam): Promise<ScenarioResult> {
  const path = rig.device === 'virtio-vga' ? 'kju-map' : 'kju-copy';
  const notes: string[] = [];
  const stopWorkload = await startWorkload(rig.guest.serial, workload);
  try {
    const url = new URL(pageUrl(rig.serving.url, 'bench'));
    if (blitter) url.searchParams.set('blitter', blitter);
    const page = await openChromium(url.href, rig.log);
    try {
      await page.waitFor('the first frame in the page', (r) => (r as KjuReport).total > 0 || (r as KjuReport).errors?.length > 0, 30_000);
      const errs = (page.reports as KjuReport[]).flatMap((r) => r.errors ?? []);
      if (!(page.reports as KjuReport[]).some((r) => r.total > 0)) throw new Error(`the bench page could not open the display: ${errs.join('; ')}`);
      await sleep(o.warmupMs);
      const meter = meterFor({ nodePid: rig.serving.pid, qemuPid: rig.guest.qemu.pid, browserRoot: page.pid });

      const { guestA, guestB, markA, markB, a, b } = await measureWindow(rig, meter, workload, o.durationMs);
      // Let packets carrying the window's last damage land, then wait for a report sent after that.
      await sleep(300);
      await page.nextReport();
      const expected = path === 'kju-map' ? 'map' : 'copy';
      if (markB.transport !== expected) notes.push(`transport is ${markB.transport} (${markB.transportNote ?? 'no reason given'}), expected ${expected}`);
      if (!markA.open || !markB.open) throw new Error('serve had no open display in the window');
      const sentA = markA.framesSent;
      const sentB = markB.framesSent;
      const delivered = Math.max(0, sentB - sentA);
      const frames = pageFrames(page.reports);
      let framesInWindow = 0;
      for (let s = sentA + 1; s <= sentB; s++) if (frames.has(s)) framesInWindow++;
      if (framesInWindow < delivered) notes.push(`${delivered - framesInWindow} packets sent but not uploaded by the end`);
      const fig = cpuFigures(a, b, delivered);
      const seconds = fig.seconds;

      const pageClock = page.reports[page.reports.length - 1].clock;
      const recs = await rig.serving.records(markA.records, markB.records);
      // Each side calibrates its wall clock against Date.now() once; a drift between calibrations
      // (NTP slewing) would show here as the child's offset moving across the window.
      const drift = Math.abs(recs.clock - markA.clock);
      if (drift > 0.5) notes.push(`serving child's clock offset moved ${drift.toFixed(3)} ms across the window: latency is off by about that`);
      const lat: number[] = [];
      let unsent = 0;
      const st: Record<StageName, number[]> = { batch: [], pump: [], transport: [], upload: [], present: [], total: [] };
      const push = (k: StageName, v: number) => {
        if (Number.isFinite(v)) st[k].push(v);
      };
      for (const [arrivedAt, frame, receivedAt, sentAt] of recs.records) {
        const pf = frame ? frames.get(frame) : undefined;
        if (pf === undefined) {
          unsent++;
          continue;
        }
        const [pArr, pUp, pPres] = pf;
        const toNode = (t: number) => t - pageClock + recs.clock; // page wall clock → Node wall clock
        lat.push(toNode(pUp) - arrivedAt);
        push('batch', arrivedAt - (receivedAt ?? NaN));
        push('pump', (sentAt ?? NaN) - arrivedAt);
        push('transport', toNode(pArr) - (sentAt ?? NaN));
        push('upload', pUp - pArr);
        push('present', pPres - pUp);
        push('total', toNode(pPres) - (receivedAt ?? NaN));
      }
      const stages = Object.fromEntries(Object.entries(st).map(([k, v]) => [k, { samples: v.length, medianMs: median(v), p99Ms: percentile(v, 99) }])) as StageLatency;
      const pageUpload: number[] = [];
      const presents = new Set<number>();
      for (const [seq, [arr, up, pres]] of frames) {
        if (seq > sentA && seq <= sentB) {
          pageUpload.push(up - arr);
          if (Number.isFinite(pres)) presents.add(pres);
        }
      }
      const blitterUsed = (page.reports as KjuReport[]).findLast((r) => r.blitter)?.blitter ?? undefined;
      if (blitter && blitterUsed !== blitter) notes.push(`asked for the ${blitter} blitter, the page made ${blitterUsed ?? 'none'}`);
      const pageErrors = (page.reports as KjuReport[]).flatMap((r) => r.errors ?? []);
      if (pageErrors.length) notes.push(`page errors: ${pageErrors.slice(0, 3).join('; ')}`);
      return {
        path,
        workload,
        resolution: `${rig.fb.width}x${rig.fb.height}`,
        ...fig,
        guestFramesPerSec: workload === 'fullscreen' ? (guestB - guestA) / seconds : undefined,
        ...displayRates(markA, markB, delivered, seconds),
        // clock error: each end calibrates against Date.now() edges (wire.ts), µs each, plus drift
        latency: { samples: lat.length, medianMs: median(lat), p99Ms: percentile(lat, 99), clockErrorMs: Math.max(0.01, drift), unsentAtEnd: unsent },
        stages,
        byStage: {
          guestFrames: workload === 'fullscreen' ? guestB - guestA : undefined,
          updates: markB.stats!.updates - markA.stats!.updates,
          batches: markB.stats!.batches - markA.stats!.batches,
          packets: delivered,
          uploads: framesInWindow,
          presents: presents.size,
        },
        blitter: blitterUsed === 'webgl' || blitterUsed === 'canvas2d' ? blitterUsed : undefined,
        pageUploadMedianMs: median(pageUpload),
        notes,
      };
    } finally {
      await page.close();
    }
  } finally {
    await stopWorkload();
  }
}

/**
 * The Node side of the Electron zero-copy window (kju-map-shared): the serving child's own
 * display, share server + client and rect-only FramePump with a prompt sink (serve-child.ts
 * 'shared-open'); no serve viewer and no browser, so the browser figures are NaN ("–").
 */
export async function runShared(rig: Rig, workload: Workload, o: RunOpts): Promise<ScenarioResult> {
  if (rig.device !== 'virtio-vga') throw new Error('kju-map-shared needs a virtio-vga rig');
  const notes: string[] = [];
  const stopWorkload = await startWorkload(rig.guest.serial, workload);
  try {
    const opened = await rig.serving.sharedOpen();
    let closed = false;
    try {
      if (opened.transport !== 'map') notes.push(`transport is ${opened.transport}, expected map`);
      await sleep(o.warmupMs);
      const meter = meterFor({ nodePid: rig.serving.pid, qemuPid: rig.guest.qemu.pid });
      const { guestA, guestB, markA, markB, a, b } = await measureWindow(rig, meter, workload, o.durationMs);
      if (!markA.open || !markB.open) throw new Error('the shared display closed in the window');
      if (markB.transport !== 'map') notes.push(`transport is ${markB.transport} (${markB.transportNote ?? 'no reason given'}), expected map`);
      const delivered = Math.max(0, markB.framesSent - markA.framesSent);
      const fig = cpuFigures(a, b, delivered);
      const seconds = fig.seconds;
      const none = NaN; // no browser in this path
      fig.cpu = { ...fig.cpu, renderer: none, gpu: none, browserNet: none, other: none };
      fig.cpuPct = { ...fig.cpuPct, browser: none };
      fig.cpuMsPerFrame = { ...fig.cpuMsPerFrame, browser: none };
      const guestFrames = guestB - guestA;
      const shA = markA.share!;
      const shB = markB.share!;
      const withPixels = shB.framesWithPixels - shA.framesWithPixels;
      if (withPixels) notes.push(`${withPixels} packets carried pixels in the window (the share client did not hold the surface)`);
      const clientBytes = shB.clientBytes - shA.clientBytes;
      const fds = shB.fds - shA.fds;
      closed = true;
      const end = await rig.serving.sharedClose();
      if (!end.viewMatches) notes.push("the share client's view and the display's pixels differ at close");
      return {
        path: 'kju-map-shared',
        workload,
        resolution: `${rig.fb.width}x${rig.fb.height}`,
        ...fig,
        guestFramesPerSec: workload === 'fullscreen' ? guestFrames / seconds : undefined,
        nodeMsPerGuestFrame: workload === 'fullscreen' ? ratio(fig.cpu.node * 1000, guestFrames) : undefined,
        ...displayRates(markA, markB, delivered, seconds),
        share: { clientBytes, fds, framesWithPixels: withPixels, viewMatches: end.viewMatches },
        notes,
      };
    } finally {
      if (!closed) await rig.serving.sharedClose().catch(() => undefined);
    }
  } finally {
    await stopWorkload();
  }
}

/**
 * A throw-away kju window (not measured) so that the serving child's one-time start-up — module
 * loading, JIT of the serve/WebSocket/FramePump/encode paths, the first D-Bus listener — is not
 * charged to the rig's first measured scenario: Chromium on the bench page with the typing
 * workload for `ms` after the first frame, then closed.
 */
export async function warmUp(rig: Rig, ms: number): Promise<void> {
  const stopWorkload = await startWorkload(rig.guest.serial, 'typing');
  try {
    const page = await openChromium(pageUrl(rig.serving.url, 'bench'), rig.log);
    try {
      await page.waitFor('the first frame in the page (warm-up)', (r) => (r as KjuReport).total > 0 || (r as KjuReport).errors?.length > 0, 30_000);
      await sleep(ms);
    } finally {
      await page.close();
    }
  } finally {
    await stopWorkload();
  }
}

/** What the listener worker and the frame pump did between two marks, per second or per delivered frame. */
function displayRates(markA: MarkReply, markB: MarkReply, delivered: number, seconds: number) {
  const sa = markA.stats!;
  const sb = markB.stats!;
  const emitted = sb.updates - sa.updates;
  return {
    emittedPerSec: emitted / seconds,
    scanoutsPerSec: (sb.scanouts - sa.scanouts) / seconds,
    batchesPerSec: (sb.batches - sa.batches) / seconds,
    deliveredPerSec: delivered / seconds,
    mergedPct: emitted ? Math.max(0, (1 - delivered / emitted) * 100) : 0,
    copiedBytesPerFrame: ratio(sb.copiedBytes - sa.copiedBytes, delivered),
    packetBytesPerFrame: ratio(markB.bytesSent - markA.bytesSent, delivered),
    inlineBytesPerSec: (sb.inlineBytes - sa.inlineBytes) / seconds,
  };
}

/** The measured window: the guest's frame counter, the serving child's marks and CPU, at both edges. */
async function measureWindow(rig: Rig, meter: ReturnType<typeof meterFor>, workload: Workload, durationMs: number) {
  const guestA = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
  const markA = await rig.serving.mark();
  const a = meter.snapshot();
  await sleep(durationMs);
  const b = meter.snapshot();
  const markB = await rig.serving.mark();
  const guestB = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
  return { guestA, guestB, markA, markB, a, b };
}

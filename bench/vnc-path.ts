// One scenario through QEMU's VNC server and noVNC in a Chromium of its own, the no-viewer QEMU
// baseline, and the idle floor. Node event loop.
import { openChromium, type PageReport } from './browser.js';
import type { RunOpts } from './kju-path.js';
import { cpuFigures, meterFor, sleep, systemNow } from './measure.js';
import type { Rig } from './rig.js';
import type { ScenarioResult } from './scenario.js';
import { pageUrl, startServing } from './serving.js';
import { framesWritten, startWorkload, type Workload } from './workloads.js';

/** vnc-page.tsx's report */
interface VncReport extends PageReport {
  updates: number;
  flips: number;
  pixels: number;
  encodings: Record<string, number>;
  connected: boolean;
  disconnected: string | null;
  errors: string[];
  flipsAt: number[];
  updatesAt: [number, number][];
}

export async function runVnc(rig: Rig, vncSiteUrl: string, workload: Workload, o: RunOpts): Promise<ScenarioResult> {
  if (!rig.vncWsPort) throw new Error('this guest has no VNC server');
  const notes: string[] = [];
  const stopWorkload = await startWorkload(rig.guest.serial, workload);
  try {
    const page = await openChromium(`${vncSiteUrl}?ws=${encodeURIComponent(`ws://127.0.0.1:${rig.vncWsPort}`)}`, rig.log);
    try {
      const first = (await page.waitFor('the first VNC update', (r) => (r as VncReport).updates > 0 || !!(r as VncReport).disconnected, 30_000)) as VncReport;
      if (first.disconnected) throw new Error(`noVNC could not connect: ${first.disconnected}`);
      await sleep(o.warmupMs);
      // no Node in this path: the rig's serving child sits idle and is not charged to noVNC
      const meter = meterFor({ qemuPid: rig.guest.qemu.pid, browserRoot: page.pid });
      const guestA = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
      systemNow(); // calibrates once, outside the window
      const a = meter.snapshot();
      const tA = systemNow();
      await sleep(o.durationMs);
      const b = meter.snapshot();
      const tB = systemNow();
      const guestB = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
      // flips and updates are timestamped in the page: count those inside [a, b] on the system clock
      await sleep(300);
      const cb = (await page.nextReport()) as VncReport;
      const inWindow = (t: number, clock: number) => t - clock > tA && t - clock <= tB;
      let delivered = 0;
      let emitted = 0;
      let pixA = 0;
      let pixB = 0;
      for (const r of page.reports as VncReport[]) {
        for (const t of r.flipsAt ?? []) if (inWindow(t, r.clock)) delivered++;
        for (const [t, px] of r.updatesAt ?? []) {
          if (t - r.clock <= tA) pixA = pixB = px;
          else if (inWindow(t, r.clock)) {
            emitted++;
            pixB = px;
          }
        }
      }
      const ca = first;
      const fig = cpuFigures(a, b, delivered);
      const errors = (page.reports as VncReport[]).flatMap((r) => r.errors ?? []);
      if (errors.length) notes.push(`page errors: ${errors.slice(0, 3).join('; ')}`);
      if (cb.disconnected) notes.push(`noVNC disconnected: ${cb.disconnected}`);
      // encodings: rect counts per encoding from the first update to the end (informational)
      const encodings: Record<string, number> = {};
      for (const [k, v] of Object.entries(cb.encodings)) encodings[k] = v - (ca.encodings[k] ?? 0);
      return {
        path: 'novnc',
        workload,
        resolution: `${rig.fb.width}x${rig.fb.height}`,
        ...fig,
        guestFramesPerSec: workload === 'fullscreen' ? (guestB - guestA) / fig.seconds : undefined,
        emittedPerSec: emitted / fig.seconds,
        deliveredPerSec: delivered / fig.seconds,
        mergedPct: emitted ? Math.max(0, (1 - delivered / emitted) * 100) : 0,
        vnc: { fullFramesPerSec: (pixB - pixA) / (rig.fb.width * rig.fb.height) / fig.seconds, encodings },
        notes,
      };
    } finally {
      await page.close();
    }
  } finally {
    await stopWorkload();
  }
}

/** QEMU's CPU for the workload with no viewer at all: what every viewer's QEMU figure is compared to. */
export async function runBaseline(rig: Rig, workload: Workload, o: RunOpts): Promise<ScenarioResult> {
  const stopWorkload = await startWorkload(rig.guest.serial, workload);
  try {
    await sleep(o.warmupMs);
    const meter = meterFor({ qemuPid: rig.guest.qemu.pid });
    const guestA = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
    const a = meter.snapshot();
    await sleep(o.durationMs);
    const b = meter.snapshot();
    const guestB = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
    const fig = cpuFigures(a, b, 0);
    const guestFramesPerSec = workload === 'fullscreen' ? (guestB - guestA) / fig.seconds : undefined;
    return { path: 'none', workload, resolution: `${rig.fb.width}x${rig.fb.height}`, ...fig, guestFramesPerSec, emittedPerSec: NaN, deliveredPerSec: NaN, mergedPct: NaN, notes: [] };
  } finally {
    await stopWorkload();
  }
}

export interface IdleFloorResult {
  nodePct: number;
  browserPct: number;
  benchPct: number;
  seconds: number;
}

/**
 * An idle serving child (serve listening, no display) and a Chromium on the kju bench page with
 * no display (?vm=none: it only sends its once-a-second reports): the floor under every 'still'
 * figure, harness reporting included.
 */
export async function runIdleFloor(siteDir: string, o: RunOpts, log: string[]): Promise<IdleFloorResult> {
  const serving = await startServing({ op: 'start', mode: 'idle', siteDir }, { log: (l) => log.push(l) });
  try {
    const page = await openChromium(pageUrl(serving.url, 'none'), log);
    try {
      // Chromium's start-up (profile, page load and compile) takes a few seconds on 2 cores
      await page.waitFor('the first report of the floor page', () => true, 30_000);
      await sleep(o.warmupMs + 2000);
      const meter = meterFor({ nodePid: serving.pid, browserRoot: page.pid });
      const a = meter.snapshot();
      await sleep(o.durationMs);
      const fig = cpuFigures(a, meter.snapshot(), 0);
      return { nodePct: fig.cpuPct.node, browserPct: fig.cpuPct.browser, benchPct: fig.cpuPct.bench, seconds: fig.seconds };
    } finally {
      await page.close();
    }
  } finally {
    await serving.close();
  }
}

// One scenario through QEMU's VNC server and noVNC in the same Chromium, and the no-viewer QEMU
// baseline. Node event loop.
import { openPage } from './browser.js';
import type { RunOpts } from './kju-path.js';
import { cpuFigures, inPage, meterFor, sleep, until } from './measure.js';
import type { Rig } from './rig.js';
import type { ScenarioResult } from './scenario.js';
import { framesWritten, startWorkload, type Workload } from './workloads.js';

interface VncCounters {
  updates: number;
  flips: number;
  pixels: number;
  encodings: Record<string, number>;
  connected: boolean;
  disconnected: string | null;
  errors: string[];
}

export async function runVnc(rig: Rig, vncSiteUrl: string, workload: Workload, o: RunOpts): Promise<ScenarioResult> {
  if (!rig.vncWsPort) throw new Error('this guest has no VNC server');
  const notes: string[] = [];
  const stopWorkload = await startWorkload(rig.guest.serial, workload);
  try {
    const page = await openPage(rig.browser, vncSiteUrl, rig.log);
    try {
      const opened = await inPage<string>(page, `window.vncBench.open("ws://127.0.0.1:${rig.vncWsPort}")`);
      if (opened !== 'ok') throw new Error(`noVNC could not connect: ${opened}`);
      const counters = () => inPage<VncCounters>(page, 'window.vncBench.counters()');
      await until('the first VNC update', async () => (await counters()).updates > 0, 30_000);
      await sleep(o.warmupMs);
      const meter = meterFor(rig.guest.qemu.pid, o.browserRoot);
      const guestA = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
      const a = meter.snapshot();
      const ca = await counters();
      await sleep(o.durationMs);
      const b = meter.snapshot();
      const cb = await counters();
      const guestB = workload === 'fullscreen' ? await framesWritten(rig.guest.serial) : 0;
      const delivered = cb.flips - ca.flips;
      const emitted = cb.updates - ca.updates;
      const fig = cpuFigures(a, b, delivered);
      if (cb.errors.length) notes.push(`page errors: ${cb.errors.slice(0, 3).join('; ')}`);
      if (cb.disconnected) notes.push(`noVNC disconnected: ${cb.disconnected}`);
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
        vnc: { fullFramesPerSec: (cb.pixels - ca.pixels) / (rig.fb.width * rig.fb.height) / fig.seconds, encodings },
        notes,
      };
    } finally {
      await inPage(page, 'window.vncBench.close()').catch(() => undefined);
      await page.close().catch(() => undefined);
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
    const meter = meterFor(rig.guest.qemu.pid, undefined);
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

/** Node and Chromium (one blank page) doing nothing: the floor under every 'still' figure. */
export async function runIdleFloor(browser: import('playwright-core').Browser, o: RunOpts): Promise<{ nodePct: number; browserPct: number; seconds: number }> {
  const page = await browser.newPage();
  try {
    await page.goto('about:blank');
    await sleep(o.warmupMs);
    const meter = meterFor(0, o.browserRoot);
    const a = meter.snapshot();
    await sleep(o.durationMs);
    const fig = cpuFigures(a, meter.snapshot(), 0);
    return { nodePct: fig.cpuPct.node, browserPct: fig.cpuPct.browser, seconds: fig.seconds };
  } finally {
    await page.close().catch(() => undefined);
  }
}

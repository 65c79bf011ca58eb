// The measurement window shared by every path: CPU of Node, Chromium (renderer, GPU, rest) and
// QEMU between two snapshots, and derived per-second and per-frame figures. Node event loop.
import type { Page } from 'playwright-core';
import { chromiumGroups, CpuMeter, type CpuSnapshot } from './proc.js';
import type { ScenarioResult } from './scenario.js';
import { ratio } from './stats.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Evaluates a JS expression in the page (strings keep DOM types out of the Node-side build). */
export async function inPage<T>(page: Page, expr: string): Promise<T> {
  return (await page.evaluate(expr)) as T;
}

export async function until(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

export function meterFor(qemuPid: number, browserRoot: number | undefined): CpuMeter {
  return new CpuMeter(() => ({
    node: [process.pid],
    qemu: qemuPid > 0 ? [qemuPid] : [],
    ...(browserRoot ? chromiumGroups(browserRoot) : { renderer: [], gpu: [], browserOther: [] }),
  }));
}

/** CPU figures of a window; `frames` delivered frames. */
export function cpuFigures(a: CpuSnapshot, b: CpuSnapshot, frames: number): Pick<ScenarioResult, 'cpu' | 'cpuMsPerFrame' | 'cpuPct' | 'seconds'> {
  const d = CpuMeter.delta(a, b);
  const seconds = (b.at - a.at) / 1000;
  const cpu = { node: d.node ?? 0, renderer: d.renderer ?? 0, gpu: d.gpu ?? 0, browserOther: d.browserOther ?? 0, qemu: d.qemu ?? 0 };
  const browser = cpu.renderer + cpu.gpu + cpu.browserOther;
  return {
    seconds,
    cpu,
    cpuMsPerFrame: { node: ratio(cpu.node * 1000, frames), browser: ratio(browser * 1000, frames), qemu: ratio(cpu.qemu * 1000, frames) },
    cpuPct: { node: (cpu.node / seconds) * 100, browser: (browser / seconds) * 100, qemu: (cpu.qemu / seconds) * 100 },
  };
}

// The measurement window shared by every path: CPU of the serving Node child, the orchestrator,
// Chromium (renderer, GPU, browser+network, other) and QEMU between two snapshots, and derived
// per-second and per-frame figures. Node event loop.
import { chromiumGroups, CpuMeter, type CpuSnapshot } from './proc.js';
import type { ScenarioResult } from './scenario.js';
import { ratio } from './stats.js';
import { nodeWall } from './timed-source.js';
import { wallOffset } from './wire.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let offset: number | undefined;
/** The system clock in ms with this process's sub-ms resolution (comparable with a page's `t − clock`). */
export function systemNow(): number {
  offset ??= wallOffset(nodeWall, Date.now);
  return nodeWall() - offset;
}

/**
 * `node` is the serving child (kju's display work), `bench` this orchestrator process (reported
 * apart, never charged to kju), `browserRoot` the Chromium the scenario spawned.
 */
export function meterFor(p: { nodePid?: number; qemuPid?: number; browserRoot?: number }): CpuMeter {
  return new CpuMeter(() => ({
    node: p.nodePid ? [p.nodePid] : [],
    bench: [process.pid],
    qemu: p.qemuPid ? [p.qemuPid] : [],
    ...(p.browserRoot ? chromiumGroups(p.browserRoot) : { renderer: [], gpu: [], browserNet: [], other: [] }),
  }));
}

/** CPU figures of a window; `frames` delivered frames. */
export function cpuFigures(a: CpuSnapshot, b: CpuSnapshot, frames: number): Pick<ScenarioResult, 'cpu' | 'cpuMsPerFrame' | 'cpuPct' | 'seconds'> {
  const d = CpuMeter.delta(a, b);
  const seconds = (b.at - a.at) / 1000;
  const cpu = { node: d.node ?? 0, bench: d.bench ?? 0, renderer: d.renderer ?? 0, gpu: d.gpu ?? 0, browserNet: d.browserNet ?? 0, other: d.other ?? 0, qemu: d.qemu ?? 0 };
  const browser = cpu.renderer + cpu.gpu + cpu.browserNet + cpu.other;
  return {
    seconds,
    cpu,
    cpuMsPerFrame: { node: ratio(cpu.node * 1000, frames), browser: ratio(browser * 1000, frames), qemu: ratio(cpu.qemu * 1000, frames) },
    cpuPct: { node: (cpu.node / seconds) * 100, browser: (browser / seconds) * 100, qemu: (cpu.qemu / seconds) * 100, bench: (cpu.bench / seconds) * 100 },
  };
}

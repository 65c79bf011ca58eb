// CPU time of the processes a run involves, read from /proc (Linux only). Node event loop.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds, parseProcStat, type ProcStat } from './stats.js';
import { chromiumKind } from './wire.js';

let ticks: number | undefined;
/** sysconf(_SC_CLK_TCK): the unit of utime/stime. */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone
  }
}

/** CPU seconds the process has used so far (all its threads); 0 if it is gone. */
export function processCpu(pid: number): number {
  const s = readStat(pid);
  return s ? cpuSeconds(s, clockTicks()) : 0;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** `root` and every process below it, with Chromium's --type= (browser for the root). */
export function processTree(root: number): { pid: number; kind: string }[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const out: { pid: number; kind: string }[] = [];
  const walk = (pid: number) => {
    const type = /--type=([\w-]+)/.exec(commandLine(pid))?.[1];
    out.push({ pid, kind: pid === root ? 'browser' : (type ?? 'other') });
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

export interface CpuSnapshot {
  at: number;
  /** CPU seconds per process group name */
  groups: Record<string, number>;
}

/**
 * Samples named groups of processes. Chromium's tree is re-read on every snapshot because
 * renderers come and go; a process that exits between snapshots loses its last slice, which is
 * why a scenario's page stays open until its closing snapshot.
 */
export class CpuMeter {
  constructor(private readonly groups: () => Record<string, number[]>) {}

  snapshot(): CpuSnapshot {
    const groups: Record<string, number> = {};
    const perPid = new Map<number, number>();
    for (const [name, pids] of Object.entries(this.groups())) {
      let sum = 0;
      for (const pid of pids) {
        let v = perPid.get(pid);
        if (v === undefined) perPid.set(pid, (v = processCpu(pid)));
        sum += v;
      }
      groups[name] = sum;
    }
    return { at: performance.now(), groups };
  }

  /** CPU seconds per group between two snapshots (a process new in `b` counts from 0). */
  static delta(a: CpuSnapshot, b: CpuSnapshot): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(b.groups)) out[k] = Math.max(0, v - (a.groups[k] ?? 0));
    return out;
  }
}

/**
 * Groups for Chromium under `browserPid` (the process the bench spawned): renderer, gpu,
 * browserNet (the browser process and its network service, which carry every WebSocket frame),
 * and other (zygotes, storage, audio and other utilities).
 */
export function chromiumGroups(browserPid: number): Record<'renderer' | 'gpu' | 'browserNet' | 'other', number[]> {
  const tree = processTree(browserPid);
  const groups = { renderer: [] as number[], gpu: [] as number[], browserNet: [] as number[], other: [] as number[] };
  for (const p of tree) {
    const k = p.pid === browserPid ? 'browser' : chromiumKind(commandLine(p.pid));
    (k === 'renderer' ? groups.renderer : k === 'gpu' ? groups.gpu : k === 'browser' || k === 'network' ? groups.browserNet : groups.other).push(p.pid);
  }
  return groups;
}

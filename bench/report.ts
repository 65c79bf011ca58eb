// The side-by-side table, the ratios between paths, and the targets (reported, never asserted).
import type { MemcpyResult } from './memcpy.js';
import { STAGES, type ScenarioResult } from './scenario.js';
import type { SyntheticResult } from './synthetic.js';

export interface Target {
  name: string;
  status: 'MET' | 'MISSED' | 'NOT RUN';
  detail: string;
}

const f = (v: number | undefined | null, digits = 1): string => (v === undefined || v === null || Number.isNaN(v) ? '–' : Number.isFinite(v) ? v.toFixed(digits) : '∞');
const kb = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : `${(v / 1024).toFixed(0)}K`);

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/** path, with the blitter when the page reported one: kju-map/gl, kju-map/2d */
export const label = (r: { path: string; blitter?: string }): string => (r.blitter ? `${r.path}/${r.blitter === 'canvas2d' ? '2d' : 'gl'}` : r.path);

export function table(results: ScenarioResult[]): string {
  const head = ['path', 'workload', 'res', 'guest f/s', 'emit/s', 'deliv/s', 'merged%', 'node%', 'brws%', 'qemu%', 'node ms/f', 'brws ms/f', 'qemu ms/f', 'copied/f', 'packet/f', 'lat med', 'lat p99'];
  const rows = results.map((r) => [
    label(r),
    r.workload,
    r.resolution,
    f(r.guestFramesPerSec),
    f(r.emittedPerSec),
    f(r.deliveredPerSec),
    f(r.mergedPct, 0),
    f(r.cpuPct.node),
    f(r.cpuPct.browser),
    f(r.cpuPct.qemu),
    f(r.cpuMsPerFrame.node, 2),
    f(r.cpuMsPerFrame.browser, 2),
    f(r.cpuMsPerFrame.qemu, 2),
    kb(r.copiedBytesPerFrame),
    kb(r.packetBytesPerFrame),
    f(r.latency?.medianMs, 2),
    f(r.latency?.p99Ms, 2),
  ]);
  return pad([head, ...rows]);
}

/** the rate a headless Chromium presents at (its default begin-frame rate) */
export const REFRESH_HZ = 60;

const find = (rs: ScenarioResult[], path: string, workload: string, res: string) => rs.find((r) => r.path === path && r.workload === workload && r.resolution === res);

/** QEMU CPU above the no-viewer baseline, per delivered frame, in ms (NaN without a baseline). */
export function qemuExtraMsPerFrame(rs: ScenarioResult[], r: ScenarioResult): number {
  const base = find(rs, 'none', r.workload, r.resolution);
  if (!base || !r.deliveredPerSec) return NaN;
  const extraPerSec = Math.max(0, r.cpu.qemu / r.seconds - base.cpu.qemu / base.seconds);
  return (extraPerSec * 1000) / r.deliveredPerSec;
}

/** Whole viewer cost per delivered frame: Node + Chromium + QEMU above its no-viewer baseline. */
export function viewerMsPerFrame(rs: ScenarioResult[], r: ScenarioResult): number {
  const q = qemuExtraMsPerFrame(rs, r);
  return r.cpuMsPerFrame.node + r.cpuMsPerFrame.browser + (Number.isNaN(q) ? 0 : q);
}

export function ratios(rs: ScenarioResult[]): string {
  const lines: string[] = [];
  const keys = [...new Set(rs.filter((r) => r.path !== 'none').map((r) => `${r.workload}|${r.resolution}`))];
  for (const k of keys) {
    const [w, res] = k.split('|');
    const maps = rs.filter((r) => r.path === 'kju-map' && r.workload === w && r.resolution === res);
    const c = find(rs, 'kju-copy', w, res);
    const v = find(rs, 'novnc', w, res);
    const fps = (x?: ScenarioResult) => (x ? f(x.deliveredPerSec) : '–');
    const cost = (x?: ScenarioResult) => (x ? f(viewerMsPerFrame(rs, x), 2) : '–');
    const rel = (a?: ScenarioResult, b?: ScenarioResult, g?: (x: ScenarioResult) => number) => (a && b && g ? f(g(a) / g(b), 2) : '–');
    for (const m of maps.length ? maps : [undefined]) {
      const n = m ? label(m).replace('kju-', '') : 'map';
      lines.push(
        `${w} ${res}: delivered/s ${n} ${fps(m)} / copy ${fps(c)} / noVNC ${fps(v)}  (${n}÷copy ${rel(m, c, (x) => x.deliveredPerSec)}, ${n}÷noVNC ${rel(m, v, (x) => x.deliveredPerSec)});` +
          ` viewer CPU ms/frame ${n} ${cost(m)} / copy ${cost(c)} / noVNC ${cost(v)}  (${n}÷noVNC ${rel(m, v, (x) => viewerMsPerFrame(rs, x))})`,
      );
    }
  }
  return lines.join('\n');
}

export interface IdleFloor {
  nodePct: number;
  browserPct: number;
}

export function targets(rs: ScenarioResult[], memcpy: MemcpyResult[], synth: SyntheticResult | undefined, floor: IdleFloor | undefined): Target[] {
  const out: Target[] = [];
  const maps = rs.filter((r) => r.path === 'kju-map' && r.workload === 'fullscreen');
  if (!maps.length) out.push({ name: 'map path: guest frames never shown whole ≤ 5% beyond the refresh rate', status: 'NOT RUN', detail: '' });
  for (const m of maps) {
    const n = `${label(m)} ${m.resolution}`;
    // QEMU's UpdateMap calls are partial rects (the guest's fbdev flushes per write), so "frames"
    // are the guest's full frames (its own counter) against presents that showed new pixels; the
    // page presents at most REFRESH_HZ times a second, so what it could not have shown is not lost.
    const bs = m.byStage;
    const guest = bs?.guestFrames ?? (m.guestFramesPerSec ?? 0) * m.seconds;
    const showable = Math.min(guest, REFRESH_HZ * m.seconds);
    const shown = bs ? bs.presents : m.deliveredPerSec * m.seconds;
    const lostPct = showable > 0 ? Math.max(0, (1 - shown / showable) * 100) : 0;
    out.push({
      name: `${n}: guest frames never shown whole ≤ 5% beyond what a ${REFRESH_HZ} Hz page drops`,
      status: lostPct <= 5 ? 'MET' : 'MISSED',
      detail: `guest wrote ${f(guest / m.seconds)} full frames/s, the page could show ${f(showable / m.seconds)}/s, presented new pixels ${f(shown / m.seconds)}/s: ${f(lostPct, 0)}% never shown (presents of partial frames count as shown: an upper bound on what was seen whole)`,
    });
    const ref = memcpy.find((x) => `${x.width}x${x.height}` === m.resolution);
    if (ref) {
      const x = m.cpuMsPerFrame.node / ref.bestMs;
      out.push({
        name: `${n}: Node-side CPU per full frame ≤ 3× one memcpy — browser path (pixels over serve's WebSocket)`,
        status: x <= 3 ? 'MET' : 'MISSED',
        detail: `${f(m.cpuMsPerFrame.node, 2)} ms per frame vs memcpy ${f(ref.bestMs, 2)} ms = ${f(x, 1)}× (target 3×${x > 3 ? `, ${f(x / 3, 1)}× over` : ''})`,
      });
    }
    if (m.stages) {
      const t = m.stages.total;
      out.push({
        name: `${n}: latency to the screen ≤ 20 ms median, ≤ 40 ms p99`,
        status: t.medianMs <= 20 && t.p99Ms <= 40 ? 'MET' : 'MISSED',
        detail: `listener read of the oldest update → end of the present that showed it: median ${f(t.medianMs, 1)} ms (${f(t.medianMs / 20, 2)}× the target), p99 ${f(t.p99Ms, 1)} ms (${f(t.p99Ms / 40, 2)}×) over ${t.samples} batches; the guest's own write time is not available (the fullscreen workload is cat to /dev/fb0)`,
      });
    }
    const v = find(rs, 'novnc', 'fullscreen', m.resolution);
    if (v) {
      const fx = m.deliveredPerSec / v.deliveredPerSec;
      out.push({
        name: `${n} vs noVNC: ≥ 5× delivered frames/s`,
        status: fx >= 5 ? 'MET' : 'MISSED',
        detail: `map ${f(m.deliveredPerSec)} vs noVNC ${f(v.deliveredPerSec)} frames/s = ${f(fx, 2)}×`,
      });
      const cm = viewerMsPerFrame(rs, m);
      const cv = viewerMsPerFrame(rs, v);
      const cx = cm / cv;
      out.push({
        name: `${n} vs noVNC: ≤ 1/5 the CPU per frame`,
        status: cx <= 0.2 ? 'MET' : 'MISSED',
        detail: `map ${f(cm, 2)} vs noVNC ${f(cv, 2)} ms/frame (Node + Chromium + QEMU above baseline) = ${f(cx, 3)} (target 0.2)`,
      });
    }
  }
  for (const sh of rs.filter((r) => r.path === 'kju-map-shared' && r.workload === 'fullscreen')) {
    const ref = memcpy.find((x) => `${x.width}x${x.height}` === sh.resolution);
    if (!ref) continue;
    // Its packets are partial (the pump is pulled as soon as it sends), so the unit is the guest's
    // full frame: Node CPU over the window ÷ full frames the guest wrote in it.
    const perFrame = sh.nodeMsPerGuestFrame ?? sh.cpuMsPerFrame.node;
    const x = perFrame / ref.bestMs;
    out.push({
      name: `Node-side CPU per full frame ≤ 1.5× one memcpy (${sh.resolution}) — Electron zero-copy Node side (kju-map-shared)`,
      status: x <= 1.5 ? 'MET' : 'MISSED',
      detail:
        `${f(perFrame, 2)} ms per guest full frame (${f(sh.cpuPct.node)}% of one core ÷ ${f(sh.guestFramesPerSec)} guest frames/s; ${f(sh.cpuMsPerFrame.node, 2)} ms per packet at ${f(sh.deliveredPerSec)} packets/s vs ${f(sh.emittedPerSec)} UpdateMap/s)` +
        ` vs memcpy ${f(ref.bestMs, 2)} ms = ${f(x, 1)}× (target 1.5×${x > 1.5 ? `, ${f(x / 1.5, 1)}× over` : ''})` +
        (sh.share
          ? `; share client socket ${sh.share.clientBytes} B and ${sh.share.fds} fds in the window, ${sh.share.framesWithPixels} packets with pixels, view == display bytes: ${sh.share.viewMatches ? 'yes' : 'NO'}`
          : ''),
    });
  }
  for (const path of ['kju-map', 'kju-copy'] as const) {
    for (const s of rs.filter((r) => r.path === path && r.workload === 'still')) {
      const pct = s.cpuPct.node + s.cpuPct.browser;
      const base = floor ? floor.nodePct + floor.browserPct : 0;
      const over = pct - base;
      out.push({
        name: `0% CPU with still (${label(s)} ${s.resolution}, Node + Chromium above the idle floor)`,
        status: over <= 0.5 ? 'MET' : 'MISSED',
        detail: `${f(pct, 2)}% of one core (Node ${f(s.cpuPct.node, 2)}%, Chromium ${f(s.cpuPct.browser, 2)}%) vs ${floor ? `idle floor ${f(base, 2)}% (idle serving child, bench page without a viewer)` : 'no floor measured'} = ${f(over, 2)}% above; 0.5% allowed for 10 ms tick resolution; ${f(s.deliveredPerSec)} frames/s`,
      });
    }
  }
  if (synth) {
    out.push({
      name: 'damage-to-texture ≤ 1 ms median for a 256×256 rect (synthetic)',
      status: synth.medianMs <= 1 ? 'MET' : 'MISSED',
      detail: `median ${f(synth.medianMs, 2)} ms, p99 ${f(synth.p99Ms, 2)} ms over ${synth.samples} rects (in-page upload median ${f(synth.pageUploadMedianMs, 2)} ms; clock error ≤ ${f(synth.clockErrorMs, 2)} ms)`,
    });
  } else out.push({ name: 'damage-to-texture ≤ 1 ms median for a 256×256 rect', status: 'NOT RUN', detail: '' });
  return out;
}

const pct = (sec: number | undefined, r: { seconds: number }) => (sec === undefined ? '–' : f((sec / r.seconds) * 100));

/** Chromium per process type and the orchestrator, % of one core over each window. */
export function processTable(results: ScenarioResult[]): string {
  const head = ['path', 'workload', 'res', 'renderer%', 'gpu%', 'browser+net%', 'other%', 'serving node%', 'orchestrator%'];
  const rows = results.map((r) => [
    r.path,
    r.workload,
    r.resolution,
    pct(r.cpu.renderer, r),
    pct(r.cpu.gpu, r),
    pct(r.cpu.browserNet, r),
    pct(r.cpu.other, r),
    pct(r.cpu.node, r),
    pct(r.cpu.bench, r),
  ]);
  return pad([head, ...rows]);
}

/** The fields of a scenario the before/after table compares (old result files have browserOther). */
interface Comparable {
  path: string;
  workload: string;
  resolution: string;
  seconds: number;
  deliveredPerSec: number;
  cpu: { node: number; renderer: number; gpu: number; qemu: number; browserOther?: number; browserNet?: number; other?: number };
  cpuMsPerFrame: { node: number; browser: number; qemu: number };
  latency?: { medianMs: number; p99Ms: number };
}

/**
 * Before → after per scenario present in both runs: delivered frames/s, Node %, Chromium % split
 * into renderer / gpu / the rest (browser, network and other: the old harness did not split it),
 * ms per frame and latency.
 */
export function compareTable(before: Comparable[], after: Comparable[]): string {
  const head = ['path', 'workload', 'res', 'deliv/s', 'node%', 'renderer%', 'gpu%', 'brws rest%', 'node ms/f', 'brws ms/f', 'lat med'];
  const rows: string[][] = [];
  const ba = (x: string, y: string) => `${x} → ${y}`;
  for (const a of after) {
    const b = before.find((r) => r.path === a.path && r.workload === a.workload && r.resolution === a.resolution);
    if (!b || a.path === 'none') continue;
    const rest = (r: Comparable) => (r.cpu.browserOther ?? 0) + (r.cpu.browserNet ?? 0) + (r.cpu.other ?? 0);
    rows.push([
      a.path,
      a.workload,
      a.resolution,
      ba(f(b.deliveredPerSec), f(a.deliveredPerSec)),
      ba(pct(b.cpu.node, b), pct(a.cpu.node, a)),
      ba(pct(b.cpu.renderer, b), pct(a.cpu.renderer, a)),
      ba(pct(b.cpu.gpu, b), pct(a.cpu.gpu, a)),
      ba(pct(rest(b), b), pct(rest(a), a)),
      ba(f(b.cpuMsPerFrame.node, 2), f(a.cpuMsPerFrame.node, 2)),
      ba(f(b.cpuMsPerFrame.browser, 2), f(a.cpuMsPerFrame.browser, 2)),
      ba(f(b.latency?.medianMs, 1), f(a.latency?.medianMs, 1)),
    ]);
  }
  return rows.length ? pad([head, ...rows]) : '(no scenario in common)';
}

const STAGE_NOTES =
  'batch = listener worker read the oldest update → batch on the Node thread; pump → packet left the FramePump; transport → page received it; upload → end of its upload; present → end of the next draw; total = worker read → present';

/** Latency by stage, median / p99 ms, one row per kju browser scenario with moving pixels. */
export function stageTable(results: ScenarioResult[]): string {
  const head = ['path', 'workload', 'res', ...STAGES.map((k) => `${k} med/p99`), 'batches'];
  const rows = results
    .filter((r) => r.stages && r.stages.total.samples > 0)
    .map((r) => [label(r), r.workload, r.resolution, ...STAGES.map((k) => `${f(r.stages![k].medianMs, 1)} / ${f(r.stages![k].p99Ms, 1)}`), String(r.stages!.total.samples)]);
  return rows.length ? `${pad([head, ...rows])}\n(${STAGE_NOTES})` : '(no kju browser scenario with frames)';
}

/** Per second at each hop, so a drop shows where it happened (guest → QEMU → listener → pump → page upload → present). */
export function dropTable(results: ScenarioResult[]): string {
  const head = ['path', 'workload', 'res', 'guest f/s', 'QEMU upd/s', 'listener batch/s', 'pump pkt/s', 'page upload/s', 'present/s', 'lost in socket'];
  const rows = results
    .filter((r) => r.byStage)
    .map((r) => {
      const b = r.byStage!;
      const ps = (n: number | undefined) => (n === undefined ? '–' : f(n / r.seconds));
      return [label(r), r.workload, r.resolution, ps(b.guestFrames), ps(b.updates), ps(b.batches), ps(b.packets), ps(b.uploads), ps(b.presents), String(b.packets - b.uploads)];
    });
  return rows.length ? pad([head, ...rows]) : '(no kju browser scenario)';
}

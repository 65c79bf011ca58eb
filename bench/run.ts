// `npm run bench [-- --quick] [-- --seconds N] [-- --compare <old.json>] [-- --profile]`: the same
// guest workloads through kju's map path, kju's copy path and QEMU VNC + noVNC, in one run, with
// the figures side by side. Prints a table and the targets (never asserted); writes
// bench/results/<timestamp>.json. --compare prints before → after against an earlier result file;
// --profile runs the serving children with --cpu-prof (profiles in bench/results/prof-<timestamp>/,
// summarised by bench/prof-summary.ts).
//
// Who runs where: this orchestrator boots QEMU, drives the workloads over the serial console,
// spawns one headless Chromium per scenario (no DevTools connection: browser.ts) and takes the CPU
// snapshots; the kju serving side (QMP attach, D-Bus display, kju serve) runs in a serving child
// per guest (serve-child.ts), and the Node figure is that child's CPU alone. The orchestrator's
// own CPU is reported apart. Every QEMU, child and Chromium it starts is stopped at the end, on
// error, and on Ctrl-C.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePage, CHROMIUM, CHROMIUM_ARGS, removeLeftoverProfiles, removeSite, serveStatic } from './browser.js';
import { runKju, runShared, warmUp, type BlitterParam, type RunOpts } from './kju-path.js';
import { memcpyFrame, type MemcpyResult } from './memcpy.js';
import { compareTable, dropTable, processTable, ratios, stageTable, table, targets } from './report.js';
import { bootRig, ensureFrames, type Rig } from './rig.js';
import { PATH_NOTES, type PathName, type ScenarioResult } from './scenario.js';
import { runSoundLatency, type SoundResult } from './sound.js';
import { runSyntheticLatency, type SyntheticResult } from './synthetic.js';
import { runBaseline, runIdleFloor, runVnc, type IdleFloorResult } from './vnc-path.js';
import { runLibraryIdle, type LibraryIdleResult } from './library-idle.js';
import { WORKLOAD_NOTES, type Workload } from './workloads.js';

process.env.KJU_ACCEL = 'tcg'; // bootDemoGuest passes accel 'tcg' too; this covers anything else

interface RigPlan {
  device: 'virtio-vga' | 'std';
  width: number;
  height: number;
  runs: { path: PathName; workload: Workload; blitter?: BlitterParam }[];
}

function plan(quick: boolean): RigPlan[] {
  const on = (paths: PathName[], workloads: Workload[]) => workloads.flatMap((workload) => paths.map((path) => ({ path, workload })));
  // kju-map once per blitter (the page's ?blitter=), so both show side by side in one run
  const bothBlitters = (workloads: Workload[]) => workloads.flatMap((workload) => (['webgl', 'canvas2d'] as const).map((blitter) => ({ path: 'kju-map' as PathName, workload, blitter })));
  if (quick) {
    return [
      { device: 'virtio-vga', width: 1024, height: 768, runs: [...bothBlitters(['fullscreen']), ...on(['kju-map-shared', 'novnc', 'none'], ['fullscreen']), ...on(['kju-map', 'novnc'], ['still'])] },
      { device: 'std', width: 1024, height: 768, runs: on(['kju-copy'], ['fullscreen', 'still']) },
    ];
  }
  const all: Workload[] = ['still', 'typing', 'scroll', 'fullscreen'];
  return [
    { device: 'virtio-vga', width: 1024, height: 768, runs: on(['kju-map', 'novnc', 'none'], all).concat(on(['kju-map-shared'], ['fullscreen'])) },
    { device: 'std', width: 1024, height: 768, runs: on(['kju-copy'], all) },
    { device: 'virtio-vga', width: 1920, height: 1080, runs: [...bothBlitters(['fullscreen']), ...on(['kju-map-shared', 'novnc', 'none'], ['fullscreen'])] },
    { device: 'std', width: 1920, height: 1080, runs: on(['kju-copy'], ['fullscreen']) },
  ];
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]
      .trim();
  } catch {
    return 'unknown';
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) await c().catch((e: Error) => console.error(`bench: cleanup: ${e.message}`));
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\nbench: ${sig}, stopping QEMU and Chromium…`);
    void cleanup().then(() => process.exit(130));
  });
}

const progress = (s: string) => process.stderr.write(`bench: ${s}\n`);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const secIdx = argv.indexOf('--seconds');
  const seconds = secIdx >= 0 ? Number(argv[secIdx + 1]) : quick ? 5 : 10;
  if (!(seconds > 0)) throw new Error('--seconds needs a positive number');
  const run: RunOpts = { durationMs: seconds * 1000, warmupMs: quick ? 1000 : 2000 };
  // Each serving child's one-time start-up (module loading, JIT, first D-Bus listener) went into
  // its rig's first scenario: a throw-away kju window per rig first, not measured.
  const warmUpMs = quick ? 2000 : 3000;
  const cmpIdx = argv.indexOf('--compare');
  const compareFile = cmpIdx >= 0 ? argv[cmpIdx + 1] : undefined;
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
  const profileDir = argv.includes('--profile') ? join(resultsDir, `prof-${stamp}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const log: string[] = [];

  progress('memcpy reference');
  const memcpy: MemcpyResult[] = [memcpyFrame(1024, 768), memcpyFrame(1920, 1080)];

  cleanups.push(async () => {
    for (const l of removeLeftoverProfiles()) console.error(`bench: ${l}`);
  });
  progress('bundling the bench pages');
  const kjuSite = await bundlePage('kju-page.tsx', '<canvas tabindex="0"></canvas>');
  cleanups.push(async () => removeSite(kjuSite));
  const vncSite = await bundlePage('vnc-page.tsx', '<div id="screen"></div>');
  cleanups.push(async () => removeSite(vncSite));
  const vncStatic = await serveStatic(vncSite);
  cleanups.push(() => vncStatic.close());

  progress('idle floor (idle serving child, bench page without a viewer)');
  const floor: IdleFloorResult = await runIdleFloor(kjuSite, run, log);

  progress('synthetic 256×256 latency run');
  let synthetic: SyntheticResult | undefined;
  try {
    synthetic = await runSyntheticLatency(kjuSite, quick ? 4000 : 8000, log);
  } catch (e) {
    log.push(`synthetic run failed: ${(e as Error).message}`);
  }

  progress(`sound: steady 1 kHz tone, guest → page AudioWorklet (${quick ? 10 : 30} s)`);
  let sound: SoundResult | undefined;
  try {
    sound = await runSoundLatency(quick ? 10 : 30, log);
  } catch (e) {
    log.push(`sound run failed: ${(e as Error).message}`);
  }

  const results: ScenarioResult[] = [];
  const profiles: { rig: string; framesSentTotal: number; bytesSentTotal: number; updatesTotal: number }[] = [];
  for (const p of plan(quick)) {
    progress(`booting the demo guest: ${p.device} ${p.width}x${p.height}`);
    const rig: Rig = await bootRig({ device: p.device, width: p.width, height: p.height, vnc: p.device === 'virtio-vga', siteDir: kjuSite, profileDir });
    cleanups.push(() => rig.close());
    try {
      progress(`warm-up: throw-away kju window, typing, ${warmUpMs / 1000} s (not measured)`);
      try {
        await warmUp(rig, warmUpMs);
      } catch (e) {
        log.push(`warm-up ${p.device} ${p.width}x${p.height} failed: ${(e as Error).message}`);
      }
      for (const r of p.runs) {
        progress(`${r.path}${r.blitter ? ` (${r.blitter})` : ''} ${r.workload} ${p.width}x${p.height} (${seconds} s)`);
        if (r.workload === 'fullscreen') await ensureFrames(rig);
        try {
          const res =
            r.path === 'novnc'
              ? await runVnc(rig, vncStatic.url, r.workload, run)
              : r.path === 'none'
                ? await runBaseline(rig, r.workload, run)
                : r.path === 'kju-map-shared'
                  ? await runShared(rig, r.workload, run)
                  : await runKju(rig, r.workload, run, r.blitter);
          results.push(res);
        } catch (e) {
          log.push(`${r.path} ${r.workload} ${p.width}x${p.height} failed: ${(e as Error).message}`);
        }
      }
    } finally {
      await rig.close();
      log.push(...rig.log);
      if (rig.exit) profiles.push({ rig: `${p.device} ${p.width}x${p.height} (serving child ${rig.serving.pid})`, ...rig.exit });
    }
  }

  progress(`library page, one running VM with a still screen, live thumbnails (${seconds} s)`);
  let libraryIdle: LibraryIdleResult | undefined;
  try {
    libraryIdle = await runLibraryIdle(run, log);
  } catch (e) {
    log.push(`library page run failed: ${(e as Error).message}`);
  }

  const mem = memcpy.map((m) => `${m.width}x${m.height}: ${m.bestMs.toFixed(3)} ms (${m.gbPerSec.toFixed(1)} GB/s)`).join(', ');
  const tg = targets(results, memcpy, synthetic, floor);
  const out: string[] = [];
  out.push(`kju bench ${quick ? '--quick ' : ''}— ${started.toISOString()}, ${seconds} s per scenario, TCG, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`);
  out.push(
    `warm-up: each serving child first serves one throw-away kju window (Chromium on the bench page, typing workload, ${warmUpMs / 1000} s after its first frame, not measured), so no scenario carries the child's start-up; every scenario then waits ${run.warmupMs / 1000} s after its first frame before its window`,
  );
  out.push(
    'kju-map-shared = Node side only of the Electron zero-copy window (page side needs Electron): own display + share server + share client mapping the memfd + rect-only FramePump pulled on setImmediate; no serve, no browser ("–")',
  );
  out.push('');
  out.push(table(results));
  out.push('');
  out.push('frames per second at each hop (where updates were merged or dropped):');
  out.push(dropTable(results));
  out.push('');
  out.push('latency by stage, ms median / p99 (per damage batch):');
  out.push(stageTable(results));
  out.push('');
  out.push('CPU by process, % of one core (node = the serving child; the orchestrator is not charged to any path):');
  out.push(processTable(results));
  out.push('');
  out.push(`memcpy of one frame (Buffer.copy, best of 60): ${mem}`);
  const pct = (n: number) => n.toFixed(2);
  out.push(
    libraryIdle
      ? `library page, still VM, live thumbnails: Node ${pct(libraryIdle.nodePct)}% + Chromium ${pct(libraryIdle.browserPct)}% of one core (QEMU ${pct(libraryIdle.qemuPct)}%) vs idle floor Node ${pct(floor.nodePct)}% + Chromium ${pct(floor.browserPct)}%`
      : 'library page: not measured (see notes)',
  );
  out.push(
    `idle floor (idle serving child, bench page without a viewer, ${floor.seconds.toFixed(1)} s): Node ${floor.nodePct.toFixed(2)}%, Chromium ${floor.browserPct.toFixed(2)}% of one core (orchestrator ${floor.benchPct.toFixed(2)}%)`,
  );
  if (sound)
    out.push(
      `sound, steady 1 kHz tone for ${sound.seconds} s (kju reads QEMU's Write → the page's AudioWorklet plays it; target median ≤ 60 ms, no underruns): ${sound.chunks} chunks, median ${sound.medianMs.toFixed(1)} ms, p99 ${sound.p99Ms.toFixed(1)} ms, ${sound.underruns} underruns`,
    );
  if (synthetic)
    out.push(`synthetic 256×256 rects through serve → Viewer: ${synthetic.samples} rects, damage-to-texture median ${synthetic.medianMs.toFixed(2)} ms, p99 ${synthetic.p99Ms.toFixed(2)} ms`);
  out.push('');
  out.push('ratios (same run):');
  out.push(ratios(results));
  out.push('');
  out.push('targets (reported, not asserted):');
  for (const t of tg) out.push(`  ${t.status.padEnd(7)} ${t.name}${t.detail ? `: ${t.detail}` : ''}`);
  if (compareFile) {
    const old = JSON.parse(readFileSync(compareFile, 'utf8')) as { startedAt: string; harness?: string; scenarios: ScenarioResult[] };
    out.push('');
    out.push(`before (${old.startedAt}, ${old.harness ?? 'Playwright harness: DevTools Network on, Node figure = the whole bench process'}) → after (this run):`);
    out.push(compareTable(old.scenarios, results));
  }
  if (profileDir) {
    out.push('');
    out.push(`serving-child CPU profiles (--cpu-prof): ${profileDir}`);
    for (const pr of profiles)
      out.push(`  ${pr.rig}: ${pr.framesSentTotal} packets, ${pr.updatesTotal} D-Bus updates over its life (node --import tsx bench/prof-summary.ts <dir> --frames ${pr.framesSentTotal})`);
  }
  const notes = results.flatMap((r) => r.notes.map((n) => `${r.path} ${r.workload} ${r.resolution}: ${n}`));
  if (notes.length || log.length) {
    out.push('');
    out.push('notes:');
    for (const n of [...notes, ...log.slice(0, 30)]) out.push(`  ${n}`);
  }
  console.log(out.join('\n'));

  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${stamp}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        startedAt: started.toISOString(),
        quick,
        harness: 'self-spawned Chromium (no DevTools), pages report over console/stderr, Node = serving child only',
        warmUp: `one throw-away kju window per serving child (typing, ${warmUpMs} ms after the first frame), then ${run.warmupMs} ms after each scenario's first frame`,
        chromiumArgs: CHROMIUM_ARGS,
        secondsPerScenario: seconds,
        machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, qemu: version('/usr/bin/qemu-system-x86_64', ['--version']), chromium: version(CHROMIUM, ['--version']) },
        paths: PATH_NOTES,
        workloads: WORKLOAD_NOTES,
        memcpy,
        idleFloor: floor,
        libraryIdle,
        synthetic,
        sound,
        scenarios: results,
        targets: tg,
        profiles: profileDir ? { dir: profileDir, children: profiles } : undefined,
        log,
      },
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
      2,
    ),
  );
  console.log(`\nresults: ${file}`);
}

main()
  .catch((e: Error) => {
    console.error(`bench: ${e.stack ?? e.message}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());

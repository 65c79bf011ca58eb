// Pure helpers over V8 .cpuprofile data (no I/O; unit-tested in profile.test.ts): self time per
// function and inclusive time of the display pipeline's stages in a serving child.

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const label = (n: CpuProfileNode) => {
  const f = n.callFrame.functionName || '(anonymous)';
  const file = n.callFrame.url.split('/').slice(-2).join('/');
  return file ? `${f} ${file}:${n.callFrame.lineNumber + 1}` : f;
};

/** ms of samples per node id (a sample's time is the delta to the next sample, as Chrome DevTools counts it) */
function sampleMs(p: CpuProfile): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    m.set(p.samples[i], (m.get(p.samples[i]) ?? 0) + dt);
  }
  return m;
}

/** Self time per function (name + file:line), largest first. */
export function selfTimes(p: CpuProfile): { name: string; ms: number }[] {
  const ms = sampleMs(p);
  const by = new Map<string, number>();
  for (const n of p.nodes) {
    const v = ms.get(n.id) ?? 0;
    if (v) by.set(label(n), (by.get(label(n)) ?? 0) + v);
  }
  return [...by].map(([name, v]) => ({ name, ms: v })).sort((a, b) => b.ms - a.ms);
}

/** Stages of the serving child's display pipeline, matched on function name and file. */
export const STAGES: { stage: string; match: (fn: string, url: string) => boolean }[] = [
  { stage: 'encodeFramePacket (FramePacket build + copies)', match: (fn) => fn === 'encodeFramePacket' },
  { stage: 'ws send (ws Sender, socket write)', match: (fn, url) => /node_modules\/ws\/lib\/sender\.js$/.test(url) && /^(send|sendFrame|dispatch|doClose)$/.test(fn) },
  { stage: 'DamageQueue (add/take)', match: (fn, url) => /damage-queue\.ts$/.test(url) },
  { stage: 'listener worker: D-Bus message handling', match: (fn, url) => /listener-worker\.ts$/.test(url) },
  { stage: 'dbus-native (message parsing)', match: (fn, url) => /node_modules\/dbus-native\//.test(url) },
  { stage: 'DbusDisplay (main-thread damage path)', match: (fn, url) => /dbus-display\.ts$/.test(url) },
  { stage: 'DisplayHub / serve (viewer pacing)', match: (fn, url) => /display-hub\.ts$/.test(url) },
  { stage: 'TimedSource (bench instrumentation)', match: (fn, url) => /timed-source\.ts$/.test(url) },
  { stage: '(garbage collector)', match: (fn) => fn === '(garbage collector)' },
  { stage: '(program) native/runtime outside JS', match: (fn) => fn === '(program)' },
];

/**
 * Inclusive ms per stage: every sample whose stack contains a frame of the stage counts once
 * for that stage (so stages can overlap: encodeFramePacket runs inside DisplayHub).
 */
export function profileStages(p: CpuProfile): { stage: string; ms: number }[] {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ms = sampleMs(p);
  const out = STAGES.map((s) => ({ stage: s.stage, ms: 0 }));
  for (const [id, v] of ms) {
    const hit = new Set<number>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      STAGES.forEach((s, i) => {
        if (s.match(n.callFrame.functionName, n.callFrame.url)) hit.add(i);
      });
    }
    for (const i of hit) out[i].ms += v;
  }
  return out;
}

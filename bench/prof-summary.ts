// `node --import tsx bench/prof-summary.ts <dir-or-.cpuprofile...> [--frames N]`: where a serving
// child's time went, from its --cpu-prof profiles (main thread and listener worker each write
// one). Self time per function, inclusive time of the display pipeline's stages, and ms per
// frame when --frames gives the packets the child sent over its life (run.ts prints it).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { profileStages, selfTimes, type CpuProfile } from './profile.js';

const args = process.argv.slice(2);
const fi = args.indexOf('--frames');
const frames = fi >= 0 ? Number(args[fi + 1]) : NaN;
const inputs = args.filter((a, i) => !a.startsWith('--') && !(fi >= 0 && i === fi + 1));
const files = inputs.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(p, f))
    : [p],
);
for (const file of files) {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const total = (prof.endTime - prof.startTime) / 1000;
  const self = selfTimes(prof);
  const busy = self.filter((s) => s.name !== '(idle)').reduce((a, s) => a + s.ms, 0);
  const per = (ms: number) => (Number.isFinite(frames) && frames > 0 ? `  ${(ms / frames).toFixed(3)} ms/frame` : '');
  console.log(`\n${basename(file)}: ${total.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms not idle${Number.isFinite(frames) ? `, ${frames} frames` : ''}`);
  console.log('  stages (inclusive):');
  for (const st of profileStages(prof)) if (st.ms > 0) console.log(`    ${st.stage.padEnd(44)} ${st.ms.toFixed(0).padStart(7)} ms${per(st.ms)}`);
  console.log('  top self time:');
  for (const s of self.slice(0, 18)) console.log(`    ${s.ms.toFixed(0).padStart(7)} ms  ${s.name}${per(s.ms)}`);
}

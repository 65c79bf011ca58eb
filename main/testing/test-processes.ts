// The QEMU and swtpm processes of one test: QEMU names the test's scratch dir on its command line; swtpm,
// whose command line names no path, works in the bundle's tpm dir (its cwd lies inside the scratch dir).
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';

export function pidsOf(program: 'qemu-system' | 'swtpm', scratch: string): number[] {
  const pattern = program === 'swtpm' ? `^(\\S*/)?swtpm ` : `^(\\S*/)?${program}\\S* .*${scratch}`;
  const r = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  const pids = r.stdout.split('\n').filter(Boolean).map(Number);
  if (program !== 'swtpm') return pids;
  return pids.filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`).startsWith(scratch);
    } catch {
      return false; // gone meanwhile
    }
  });
}

// Which live process owns a lock file or a half-built bundle: its pid plus its start time, so a
// reused pid after a kill -9 is not mistaken for the owner. Node loop, synchronous /proc reads.
import { readFileSync } from 'node:fs';
import { isAlive } from '../qemu/pid-alive.js';

/** Field 22 of /proc/<pid>/stat (clock ticks since boot), or '0' where there is no /proc. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && process.platform !== 'linux' ? '0' : undefined;
  }
}

/** "<pid>-<start time>" of this process. */
export function ownerStamp(): string {
  return `${process.pid}-${processStartTime(process.pid) ?? '0'}`;
}

/** Whether the process a stamp names still runs (same pid and same start time). */
export function isOwnerAlive(stamp: string): boolean {
  const m = /^(\d+)-(\d+)$/.exec(stamp.trim());
  if (!m) return false;
  const pid = Number(m[1]);
  if (!isAlive(pid)) return false;
  const start = processStartTime(pid);
  return m[2] === '0' || start === undefined || start === m[2];
}

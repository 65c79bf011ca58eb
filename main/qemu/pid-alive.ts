// Whether a QEMU we did not start (or no longer parent) is still alive, from its pid file.
import { readFileSync } from 'node:fs';

export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false; // kill(-1) would signal every process
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // An exited QEMU whose parent is gone lingers as a zombie where PID 1 does not reap (containers).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) said it exists
  }
}

/** The pid in a pid file, or undefined when there is none (or it is not a pid). */
export function readPidFile(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Notices the exit of a process that is not our child, by polling `isAlive` every `pollMs`.
 * `gone` resolves once; `unref` lets the process exit while still watching. Node loop.
 */
export function watchPidExit(pid: number, pollMs = 250): { gone: Promise<void>; unref(): void } {
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      if (isAlive(pid)) return;
      clearInterval(timer);
      resolve();
    }, pollMs);
  });
  return { gone, unref: () => timer?.unref() };
}

// Whether a QEMU we did not start (or no longer parent) is still alive, from its pid file.
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

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

/** The start time of `pid` (field 22 of /proc/<pid>/stat, clock ticks since boot), or undefined. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces and parentheses): state is field 3
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Records which process the launcher started (pid + start time), so a later kill can check it is still that one. */
export function writeLaunchStamp(stampFile: string, pid: number): void {
  const start = processStartTime(pid);
  if (start !== undefined) writeFileSync(stampFile, `${pid} ${start}\n`, { mode: 0o600 });
}

/**
 * The pid in `pidFile` when it is the very QEMU kju launched: the launch stamp names the same pid
 * and the process has the recorded start time (a reused pid has another). Never matched by name.
 */
export function verifiedPid(pidFile: string, stampFile: string): number | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  let stamp: string[];
  try {
    stamp = readFileSync(stampFile, 'utf8').trim().split(' ');
  } catch {
    return undefined;
  }
  if (Number(stamp[0]) !== pid || stamp[1] === undefined || processStartTime(pid) !== stamp[1]) return undefined;
  return pid;
}

/** SIGKILLs the verified QEMU and waits (up to `waitMs`) until it is gone; false when there was none to kill or it outlived the wait. */
export async function killVerified(pidFile: string, stampFile: string, waitMs = 5_000): Promise<boolean> {
  const pid = verifiedPid(pidFile, stampFile);
  if (pid === undefined) return false;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return !isAlive(pid);
  }
  const deadline = Date.now() + waitMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

// HOOK for the lifecycle layer: how the library learns whether a VM is running. Until the session
// layer reports states itself, a VM counts as running when the pid file the launcher asks QEMU to
// write (main/qemu: <runtime base>/<sanitized name>/qemu.pid) names a live process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VmRunState } from '../../common/contract.js';
import { runtimePaths } from '../qemu/build-argv.js';
import { runtimeBase, sanitizeVmName } from '../qemu/runtime-dir.js';

export function probeRunState(vm: { name: string }): VmRunState {
  let pid: number;
  try {
    pid = Number(readFileSync(runtimePaths(join(runtimeBase(), sanitizeVmName(vm.name))).pidFile, 'utf8').trim());
  } catch {
    return 'stopped';
  }
  if (!Number.isInteger(pid) || pid <= 0) return 'stopped';
  try {
    process.kill(pid, 0);
    return 'running';
  } catch (err) {
    // EPERM: the process exists but belongs to someone else: still running.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'running' : 'stopped';
  }
}

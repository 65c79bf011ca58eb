// HOOK for the lifecycle layer: how the library learns whether a VM is running. Until the session
// layer exists, a VM counts as running when ${XDG_RUNTIME_DIR:-/tmp}/kju/<id>/pid names a live
// process. The session layer should write that file (or replace this function) when it starts QEMU.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmRunState } from '../../common/contract.js';

export function runtimeDirOf(vmId: string, env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_RUNTIME_DIR || tmpdir(), 'kju', vmId);
}

export function probeRunState(vmId: string): VmRunState {
  let pid: number;
  try {
    pid = Number(readFileSync(join(runtimeDirOf(vmId), 'pid'), 'utf8').trim());
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

// Running VMs started from a description file (`kju run path/vm.json`): not in any library, found
// by scanning the runtime dirs for a live QEMU whose vm.json records the file (launch.ts writes
// `kjuRuntime.fromFile`). Lists show them so a user sees what runs; their id is `file:<path>`.
// Runs on the Node loop of whoever lists.
import { readFileSync } from 'node:fs';
import type { VmRunState, VmSummary } from '../../common/contract.js';
import { isAlive, readPidFile } from '../qemu/pid-alive.js';
import { listRuntimeDirs, readRuntimeVmInfo, runtimeBase, type RuntimeDir } from '../qemu/runtime-dir.js';

export const FILE_VM_ID_PREFIX = 'file:';

/** The VmSummary id of the VM started from description file `path` (absolute). */
export function fileVmId(path: string): string {
  return FILE_VM_ID_PREFIX + path;
}

export function isFileVmId(id: string): boolean {
  return id.startsWith(FILE_VM_ID_PREFIX);
}

export interface FileVm {
  summary: VmSummary;
  runtimeDir: RuntimeDir;
}

/**
 * The live file VMs under `base`, each with its state from `probe` (a 'not-responding' VM is listed
 * as running with that problem). Dead or foreign runtime dirs are skipped, never removed here.
 */
export async function runningFileVms(o: {
  base?: string;
  probe(rt: RuntimeDir): Promise<VmRunState | 'not-responding'>;
  /** the problem of a VM that did not answer */
  notResponding(rt: RuntimeDir, name: string): string;
}): Promise<FileVm[]> {
  const out: FileVm[] = [];
  for (const rt of listRuntimeDirs(o.base ?? runtimeBase())) {
    const info = readRuntimeVmInfo(rt);
    if (!info?.fromFile || !isAlive(readPidFile(rt.pidFile))) continue;
    let desc: { name?: unknown; memoryMiB?: unknown; cpus?: unknown; display?: unknown };
    try {
      desc = JSON.parse(readFileSync(rt.vmJson, 'utf8')) as typeof desc;
    } catch {
      continue;
    }
    const probed = await o.probe(rt);
    const summary: VmSummary = {
      id: fileVmId(info.fromFile),
      name: typeof desc.name === 'string' ? desc.name : info.fromFile,
      state: probed === 'not-responding' ? 'running' : probed,
      displayDevice: typeof desc.display === 'string' ? desc.display : 'virtio-vga',
      memoryMiB: typeof desc.memoryMiB === 'number' ? desc.memoryMiB : 0,
      cpus: typeof desc.cpus === 'number' ? desc.cpus : 0,
      ...info,
    };
    if (probed === 'not-responding') summary.problem = o.notResponding(rt, summary.name);
    out.push({ summary, runtimeDir: rt });
  }
  return out.sort((a, b) => a.summary.name.localeCompare(b.summary.name));
}

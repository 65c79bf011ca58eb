// How the library learns whether a VM is running without attaching to it: the pid file the
// launcher asks QEMU to write (in the VM's runtime dir, runtime-dir.ts) names a live process.
import type { VmRunState } from '../../common/contract.js';
import { libraryVmRuntimeDir } from '../qemu/runtime-dir.js';
import { isAlive, readPidFile } from '../qemu/pid-alive.js';

export function probeRunState(vm: { dir: string; config: { id: string; name: string } }): VmRunState {
  return isAlive(readPidFile(libraryVmRuntimeDir(vm).pidFile)) ? 'running' : 'stopped';
}

// How the library learns whether a VM is running without attaching to it: the pid file the
// launcher asks QEMU to write (<runtime base>/<sanitized name>/qemu.pid) names a live process.
import type { VmRunState } from '../../common/contract.js';
import { runtimePaths } from '../qemu/build-argv.js';
import { runtimeDirFor } from '../qemu/runtime-dir.js';
import { isAlive, readPidFile } from '../qemu/pid-alive.js';

export function probeRunState(vm: { name: string }): VmRunState {
  return isAlive(readPidFile(runtimePaths(runtimeDirFor(vm.name)).pidFile)) ? 'running' : 'stopped';
}

// The per-VM lock: starting, stopping, suspending, editing, cloning and deleting one VM each hold
// an flock on the bundle directory itself (nothing is written into the bundle) for as long as they run, in whichever kju process does it
// (two requests of one `kju serve` exclude each other too: each takes its own open of the file).
// The kernel drops the lock when the holder exits or is killed, so a crash never leaves a VM locked.
// The holder notes what it does and its pid in the VM's runtime dir, for the loser's message. Node loop.
import { readFileSync, writeFileSync } from 'node:fs';

import { libraryVmRuntimeDir, prepareRuntimeDir } from '../qemu/runtime-dir.js';

import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { FileLock } from '../../native/index.js';

/** What a lock holder is doing, as the loser's message says it ("VM "X" is starting"). */
export type VmLockedOp = 'starting' | 'stopping' | 'suspending' | 'being edited' | 'being cloned' | 'being deleted';

export class VmBusyError extends KjuError {
  override name = 'VmBusyError';
  declare readonly code: 'vm-busy';
  constructor(message: string, options?: KjuErrorOptions) {
    super('vm-busy', message, options);
  }
}

export interface VmLock {
  release(): void;
}

/**
 * Takes the VM's lock for `op`, or throws VmBusyError naming what the holder does, touching
 * nothing else. The caller releases it (withVmLock does) when the operation has ended.
 */
export function lockVm(vm: { dir: string; config: { id: string; name: string } }, op: VmLockedOp): VmLock {
  const note = libraryVmRuntimeDir(vm).lockNote;
  const lock = FileLock.tryAcquire(vm.dir, { directory: true });
  if (!lock) {
    let holder = 'busy';
    try {
      const h = JSON.parse(readFileSync(note, 'utf8')) as { op?: unknown; pid?: unknown };
      if (typeof h.op === 'string') holder = h.op;
    } catch {
      // the holder has not written yet (or the file was never written): it is busy all the same
    }
    throw new VmBusyError(`VM "${vm.config.name}" is ${holder} (another kju process holds it)`, { hint: 'try again when that operation is done' });
  }
  try {
    prepareRuntimeDir(libraryVmRuntimeDir(vm));
    writeFileSync(note, `${JSON.stringify({ op, pid: process.pid })}\n`, { mode: 0o600 });
  } catch {
    // only the loser's message needs it
  }
  return { release: () => lock.release() };
}

/** Runs `fn` holding the VM's lock for `op` (VmBusyError when another holds it). */
export async function withVmLock<T>(vm: { dir: string; config: { id: string; name: string } }, op: VmLockedOp, fn: () => Promise<T>): Promise<T> {
  const lock = lockVm(vm, op);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

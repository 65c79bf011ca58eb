// The per-VM lock: starting, stopping, suspending, editing, cloning and deleting one VM each hold
// an flock on the bundle directory itself (nothing is written into the bundle) for as long as they run, in whichever kju process does it
// (two requests of one `kju serve` exclude each other too: each takes its own open of the file).
// The kernel drops the lock when the holder exits or is killed, so a crash never leaves a VM locked.
// The holder notes what it does and its pid in the VM's runtime dir, for the loser's message, and
// removes the note when it lets go. Node loop.
import { readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';

import { libraryVmRuntimeDir, prepareRuntimeDir } from '../qemu/runtime-dir.js';
import { isAlive } from '../qemu/pid-alive.js';

import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { FileLock } from '../../native/index.js';

/** What a lock holder is doing, as the loser's message says it ("VM "X" is starting"). */
export type VmLockedOp = 'starting' | 'stopping' | 'suspending' | 'being edited' | 'being cloned' | 'being deleted';

export class VmBusyError extends KjuError {
  override name = 'VmBusyError';
  declare readonly code: 'vm-busy';
  /** what the holder noted it does ('starting', ...), or 'busy' before it noted anything */
  readonly holder: string;
  constructor(message: string, options?: KjuErrorOptions & { holder?: string }) {
    super('vm-busy', message, options);
    this.holder = options?.holder ?? 'busy';
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
  const lock = FileLock.tryAcquire(vm.dir, { directory: true });
  if (!lock) throw busyError(vm, holderOp(vm) ?? 'busy');
  writeLockNote(vm, op);
  return {
    release: () => {
      removeLockNote(vm);
      lock.release();
    },
  };
}

/** Removes this process's note (and the runtime dir when nothing else is in it): a released lock leaves nothing behind. */
function removeLockNote(vm: { dir: string; config: { id: string; name: string } }): void {
  const rt = libraryVmRuntimeDir(vm);
  try {
    const h = JSON.parse(readFileSync(rt.lockNote, 'utf8')) as { pid?: unknown };
    if (h.pid !== process.pid) return;
    rmSync(rt.lockNote, { force: true });
    rmdirSync(rt.dir);
  } catch {
    // no note, someone else's, or the dir still holds a running VM's files
  }
}

/** Notes what this process, holding the VM's lock, does (again, after a QEMU's exit removed the runtime dir's files). */
export function writeLockNote(vm: { dir: string; config: { id: string; name: string } }, op: VmLockedOp): void {
  try {
    prepareRuntimeDir(libraryVmRuntimeDir(vm));
    writeFileSync(libraryVmRuntimeDir(vm).lockNote, `${JSON.stringify({ op, pid: process.pid })}\n`, { mode: 0o600 });
  } catch {
    // only the loser's message and the listing's lockNoteHolderAlive need it
  }
}

/** What the lock's holder noted it does; undefined before it has written its note. */
function holderOp(vm: { dir: string; config: { id: string; name: string } }): string | undefined {
  try {
    const h = JSON.parse(readFileSync(libraryVmRuntimeDir(vm).lockNote, 'utf8')) as { op?: unknown; pid?: unknown };
    return typeof h.op === 'string' ? h.op : undefined;
  } catch {
    return undefined;
  }
}

function busyError(vm: { config: { name: string } }, holder: string): VmBusyError {
  return new VmBusyError(`VM "${vm.config.name}" is ${holder} (another kju process holds it)`, { hint: 'try again when that operation is done', holder });
}

/** Runs `fn` holding the VM's lock for `op` (VmBusyError when another holds it). */
export async function withVmLock<T>(vm: { dir: string; config: { id: string; name: string } }, op: VmLockedOp, fn: () => Promise<T>): Promise<T> {
  let lock: VmLock;
  try {
    lock = lockVm(vm, op);
  } catch (err) {
    // A holder that won a moment ago may not have written its note yet, and the reattach scan holds the
    // lock for an instant only (to look): give it that moment, then try once more.
    if (!(err instanceof VmBusyError) || holderOp(vm)) throw err;
    await new Promise((r) => setTimeout(r, 100));
    lock = lockVm(vm, op);
  }
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/**
 * Whether the process that last took the VM's lock for `op` still lives, by its note (no lock is
 * taken, so a listing never makes a start lose): tells a start in progress from one killed midway.
 */
export function lockNoteHolderAlive(vm: { dir: string; config: { id: string; name: string } }, op: VmLockedOp): boolean {
  try {
    const h = JSON.parse(readFileSync(libraryVmRuntimeDir(vm).lockNote, 'utf8')) as { op?: unknown; pid?: unknown };
    return h.op === op && typeof h.pid === 'number' && isAlive(h.pid);
  } catch {
    return false;
  }
}

// Suspending a VM to disk and resuming it, with the recovery of a suspend or resume that was
// interrupted (killed) midway. The files and their checks are saved-state.ts; this is the order of
// the steps, which keeps every point a running VM or a resumable one. Runs on the Node loop of the
// process that holds the VM's lock (vm-lock.ts) for the operation.
import { explainShareBlocksMigration } from './share-blocks-migration.js';
import { existsSync, rmSync } from 'node:fs';
import type { BundleVm } from '../library/library.js';
import { killVerified } from '../qemu/pid-alive.js';
import type { RuntimeDir } from '../qemu/runtime-dir.js';
import { killPoint } from '../util/kill-point.js';
import { LifecycleError, type LifecycleReply } from './lifecycle.js';
import type { OwnerApi } from './owner-protocol.js';
import { peekRunState } from './reach.js';
import type { RunningVm, RunningVmTable } from './running-vms.js';
import { checkResumable, clearSuspended, readSuspended, recordSuspended, SavedStateError, statePaths } from './saved-state.js';
import { stopVm } from './stop-vm.js';

/**
 * QEMU 10's vdagent chardev (the clipboard channel) blocks migration, so a VM sharing its clipboard
 * cannot be suspended or snapshotted live: say so before QEMU does, with the way out.
 */
export function refuseSavingWithClipboard(vm: BundleVm, what: string): void {
  if (!vm.config.clipboard) return;
  throw new LifecycleError('migration-failed', `VM "${vm.config.name}" shares its clipboard, and QEMU cannot save its clipboard channel: it cannot be ${what} while it runs that way`, {
    // The VM window's More-menu toggle only stops that window's sharing: the channel stays, so name the VM setting.
    hint: `turn off "Share clipboard" in the VM's Edit dialog (or kju edit "${vm.config.name}" --no-clipboard) and restart the VM; or shut it down instead`,
  });
}

/**
 * A suspend killed after its record was written leaves QEMU alive and paused next to a complete,
 * checksummed state: finish it (quit QEMU) so a start resumes from the state. A record beside a
 * QEMU that runs again is stale (the guest carried on): it is dropped. `running`: a QEMU runs for it.
 */
export async function recoverInterruptedSuspend(vm: BundleVm, rt: RuntimeDir, running: boolean, table: RunningVmTable): Promise<void> {
  if (!readSuspended(vm.dir) || !running) return;
  if ((await peekRunState(rt)) === 'running') {
    clearSuspended(vm.dir);
    return;
  }
  const r = table.get(vm.config.id);
  if (r) table.markEnding(r, 'suspend');
  await stopVm({ name: vm.config.name, runtimeDir: rt }, { force: true });
  if (r) await r.exited;
}

/**
 * The saved state a start resumes from, checked (undefined: boot from the disks). `fresh` discards
 * a saved state. Throws SavedStateError (an unfinished or unusable state, naming --fresh).
 */
export async function resumeStateOf(vm: BundleVm, fresh: boolean): Promise<string | undefined> {
  let record = readSuspended(vm.dir);
  const partial = statePaths(vm.dir).partial;
  if (!record && !fresh && existsSync(partial)) {
    throw new SavedStateError('incomplete-state', `VM "${vm.config.name}" has an unfinished saved state (${partial}): a suspend was interrupted and its QEMU is gone, so the state may be incomplete`, {
      hint: `start it with "kju start ${vm.config.name} --fresh" to boot from its disks (the unfinished state is removed)`,
    });
  }
  if (record && fresh) {
    clearSuspended(vm.dir);
    record = null;
  }
  return record ? await checkResumable(vm, record) : undefined;
}

/** The guest carried on (continued after a pause): what an interrupted suspend had saved is stale now. */
export function dropStaleSavedState(vm: BundleVm): void {
  if (!readSuspended(vm.dir)) rmSync(statePaths(vm.dir).partial, { force: true });
}

/**
 * Saves the VM reached through `api` into `<bundle>/states/` and quits its QEMU; resolves the
 * state's bytes. The caller has refused a clipboard-sharing VM and removed an old partial state. The state is written and synced, then recorded (with its checksum), and only then
 * does QEMU quit (recoverInterruptedSuspend finishes a suspend killed in between).
 */
export async function suspendVm(vm: BundleVm, rt: RuntimeDir, api: OwnerApi, r: RunningVm | undefined, table: RunningVmTable): Promise<number> {
  const paths = statePaths(vm.dir);
  let reply: LifecycleReply;
  try {
    reply = await api.lifecycle({ op: 'save-state', file: paths.partial });
  } catch (err) {
    rmSync(paths.partial, { force: true }); // a failed save (a full disk) must not keep filling it
    throw explainShareBlocksMigration(err, vm.config.name, 'suspended');
  }
  killPoint('suspend:saved');
  await recordSuspended(vm, reply.bytes ?? 0);
  killPoint('suspend:recorded');
  if (r) table.markEnding(r, 'suspend');
  const { stopped } = await api.stop({ force: true, timeoutMs: 15_000 }).catch(() => ({ stopped: false }));
  if (!stopped) await killVerified(rt.pidFile, rt.launchStamp);
  return reply.bytes ?? 0;
}

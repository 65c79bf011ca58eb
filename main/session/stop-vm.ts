// Stopping a running VM whoever owns it, for `kju stop` and the session manager: the ACPI power
// button (the owner's VmSession.stop resumes a paused guest first, for every front end), or with
// `force` QMP quit, and when QEMU does not answer (hung, SIGSTOPped, its qmp.sock held by another
// process) SIGKILL of the QEMU kju launched, checked by its pid file and launch
// stamp (pid + start time), never by name. Runs on the Node loop of the calling process.
import { isAlive, killVerified, readPidFile, verifiedPid } from '../qemu/pid-alive.js';
import { removeRuntimeDir } from '../qemu/runtime-dir.js';
import type { OwnerApi } from './owner-protocol.js';
import { withVm, type VmRef } from './reach.js';
import { SessionError, VmNotRunningError } from './session-errors.js';

/** How long a forced stop waits for QEMU to quit over QMP before it kills the process. */
export const FORCE_QUIT_WAIT_MS = 5_000;

export interface StopVmOptions {
  force?: boolean;
  /** ACPI only: how long the guest may take to power off */
  timeoutMs?: number;
}

/** Resolves whether the VM stopped. Throws VmNotRunningError; without `force`, what reaching the VM throws. */
export async function stopVm(vm: VmRef, o: StopVmOptions = {}): Promise<{ stopped: boolean }> {
  const r = await stopOrKill(vm, o);
  // what QEMU leaves behind (launch stamp, vm.json, the lock note) goes now, not at the next scan
  if (r.stopped && !isAlive(readPidFile(vm.runtimeDir.pidFile))) removeRuntimeDir(vm.runtimeDir);
  return r;
}

async function stopOrKill(vm: VmRef, o: StopVmOptions): Promise<{ stopped: boolean }> {
  const stop = (api: OwnerApi) => api.stop({ force: Boolean(o.force), timeoutMs: o.force ? FORCE_QUIT_WAIT_MS : (o.timeoutMs ?? 30_000) });
  if (!o.force) return withVm(vm, (api) => stop(api));
  let timer: NodeJS.Timeout | undefined;
  const quit = withVm(vm, (api) => stop(api)).then(
    (r) => r.stopped,
    (err: unknown) => {
      if (err instanceof VmNotRunningError) throw err;
      return false; // hung, or held by someone who does not answer: the kill below decides
    },
  );
  quit.catch(() => {});
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), FORCE_QUIT_WAIT_MS + 2_000)));
  const stopped = await Promise.race([quit, late]).finally(() => clearTimeout(timer));
  if (stopped) return { stopped };
  const rt = vm.runtimeDir;
  if (await killVerified(rt.pidFile, rt.launchStamp)) return { stopped: true };
  if (!isAlive(readPidFile(rt.pidFile))) return { stopped: true }; // quit worked after all
  if (verifiedPid(rt.pidFile, rt.launchStamp) === undefined) {
    throw new SessionError(
      'not-responding',
      `VM "${vm.name}" does not answer, and the process in ${rt.pidFile} cannot be verified as the QEMU kju launched (no launch stamp, or another process has that pid): not killing it`,
      { hint: `check it with "ps -p $(cat ${rt.pidFile}) -o pid,lstart,cmd" and kill it yourself if it is the VM's QEMU` },
    );
  }
  return { stopped: false };
}

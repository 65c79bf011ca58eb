// The one road from a stopped VM to a running one, for `kju start`, `kju run` and the app: launch
// QEMU detached (it outlives this process), attach a session, and for a VM suspended to disk load
// its saved state before the guest runs. Runs on the Node loop of the process that starts it.
import type { Accelerator } from '../qemu/build-argv.js';
import type { QemuBinary } from '../qemu/find-qemu.js';
import { launchQemu, type QemuProcess } from '../qemu/launch.js';
import type { RuntimeDir } from '../qemu/runtime-dir.js';
import type { VmDescription } from '../qemu/vm-description.js';
import { killPoint } from '../util/kill-point.js';
import { loadStateFromFile } from './lifecycle.js';
import { VmSession } from './vm-session.js';

export interface StartVmOptions {
  runtimeDir: RuntimeDir;
  accel?: Accelerator;
  /** a found QEMU (its warnings already shown); default: findQemu() */
  qemu?: QemuBinary;
  logDir?: string;
  /** resume from this saved state (QEMU starts with `-incoming defer`, then loads it) */
  stateFile?: string;
  /** called once the session is attached, before a saved state is loaded (bookkeeping) */
  onAttached?(qemu: QemuProcess, session: VmSession): void;
}

/** Throws QemuLaunchError (and what VmSession.attach or loading the state throws; QEMU is killed then). */
export async function startVm(desc: VmDescription, o: StartVmOptions): Promise<{ qemu: QemuProcess; session: VmSession }> {
  const d = o.stateFile ? { ...desc, extraArgs: [...(desc.extraArgs ?? []), '-incoming', 'defer'] } : desc;
  const qemu = await launchQemu(d, { accel: o.accel, qemu: o.qemu, runtimeDir: o.runtimeDir, logDir: o.logDir });
  qemu.unref();
  let session: VmSession;
  try {
    session = await VmSession.attach({ name: desc.name, runtimeDir: qemu.runtimeDir, pid: qemu.pid, exited: qemu.exited });
  } catch (err) {
    qemu.kill('SIGKILL');
    throw err;
  }
  o.onAttached?.(qemu, session);
  if (o.stateFile) {
    killPoint('resume:launched');
    try {
      await loadStateFromFile(session.qmp, o.stateFile);
    } catch (err) {
      qemu.kill('SIGKILL');
      throw err;
    }
  }
  return { qemu, session };
}

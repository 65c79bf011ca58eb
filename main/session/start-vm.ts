// The one road from a stopped VM to a running one, for `kju start`, `kju run` and the app: launch
// QEMU detached (it outlives this process), attach a session, and for a VM suspended to disk load
// its saved state before the guest runs. Runs on the Node loop of the process that starts it.
import type { Accelerator } from '../../common/contract.js';
import type { QemuBinary } from '../qemu/find-qemu.js';
import { checkPortsFree } from '../qemu/guest-links.js';
import { launchQemu, type QemuProcess } from '../qemu/launch.js';
import type { RuntimeDir } from '../qemu/runtime-dir.js';
import type { VmDescription } from '../qemu/vm-description.js';
import { killPoint } from '../util/kill-point.js';
import { loadStateFromFile } from './lifecycle.js';
import { QmpClient } from '../qmp/qmp-client.js';
import { VmSession } from './vm-session.js';

export interface StartVmOptions {
  runtimeDir: RuntimeDir;
  accel?: Accelerator;
  /** a found QEMU (its warnings already shown); default: findQemu() */
  qemu?: QemuBinary;
  logDir?: string;
  /** the description file of a VM started from one (not in the library) */
  sourceFile?: string;
  /** the bundle of a library VM (launch.ts notes it in vm.json) */
  bundleDir?: string;
  /** resume from this saved state (QEMU starts with `-incoming defer`, then loads it) */
  stateFile?: string;
  /** called once the session is attached, before a saved state is loaded (bookkeeping) */
  onAttached?(qemu: QemuProcess, session: VmSession): void;
}

/** Throws QemuLaunchError (and what VmSession.attach or loading the state throws; QEMU is killed then). */
export async function startVm(desc: VmDescription, o: StartVmOptions): Promise<{ qemu: QemuProcess; session: VmSession }> {
  // a busy forwarded port is named here; QEMU's own failure would not say which port
  await checkPortsFree(desc.network?.forwards ?? []);
  const d = o.stateFile ? { ...desc, extraArgs: [...(desc.extraArgs ?? []), '-incoming', 'defer'] } : desc;
  const qemu = await launchQemu(d, { accel: o.accel, qemu: o.qemu, runtimeDir: o.runtimeDir, logDir: o.logDir, sourceFile: o.sourceFile, bundleDir: o.bundleDir });
  qemu.unref();
  let session: VmSession;
  try {
    const qmp = await whileRefused(
      () => QmpClient.connect(qemu.runtimeDir.qmpSocket),
      () => qemu.running,
    );
    session = await VmSession.attach({ name: desc.name, runtimeDir: qemu.runtimeDir, pid: qemu.pid, exited: qemu.exited, qmp });
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

/**
 * Retries `connect` while it is refused and QEMU lives: QEMU binds qmp.sock (the file appears,
 * which is what launchQemu waits for) a moment before it listens, and on a loaded host a connect
 * can fall in between (ECONNREFUSED on a fresh socket; seen by the fault-injection test).
 */
export async function whileRefused<T>(connect: () => Promise<T>, alive: () => boolean, timeoutMs = 5_000, pollMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connect();
    } catch (err) {
      if (!isRefused(err) || !alive() || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function isRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown; errnoName?: unknown } } | null)?.cause;
  return cause?.code === 'ECONNREFUSED' || cause?.errnoName === 'ECONNREFUSED';
}

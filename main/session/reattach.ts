// The only place that adopts an orphaned QEMU: a VM of the library that runs with no kju process
// owning it (its owner died, or `kju start` launched it and returned). Adopting attaches a session
// and records the VM in the owner's running-VM table. Called explicitly: by SessionManager.open(),
// its reattach timer, an operation of an owning manager, and reclaim; never by a read.
// Runs on the Node loop of the owning process.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Library, BundleVm } from '../library/library.js';
import { attachQemu } from '../qemu/launch.js';
import { isAlive, readPidFile } from '../qemu/pid-alive.js';
import { libraryVmRuntimeDir, listRuntimeDirs, removeRuntimeDir, sanitizeVmName, type RuntimeDir } from '../qemu/runtime-dir.js';
import { QmpClient } from '../qmp/qmp-client.js';
import { runLifecycleOp } from './lifecycle.js';
import { ownerAnswers } from './owner-client.js';
import type { RunningVm, RunningVmTable } from './running-vms.js';
import { VmSession } from './vm-session.js';
import { FileLock } from '../../native/index.js';

export interface ReattachReport {
  /** VMs this manager now owns */
  attached: string[];
  /** live VMs another kju process owns (reached through kju.sock) */
  ownedElsewhere: string[];
  /** runtime dirs of QEMUs that are gone, cleaned up */
  removed: string[];
  /** live VMs not in the library (started from a description file): left alone */
  foreign: string[];
  /** live VMs whose lock someone holds (a start, stop or suspend in progress): left to it */
  busy: string[];
}

/** Whether any kju process (this one included) holds the VM's lock right now; takes it for an instant only. */
function lockHeld(vm: BundleVm): boolean {
  const lock = FileLock.tryAcquire(vm.dir, { directory: true });
  lock?.release();
  return !lock;
}

export type AdoptResult = 'attached' | 'elsewhere' | 'stale' | 'gone';

/** QMP of the QEMU in `rt`, unless someone answers on its kju.sock or holds its QMP. */
async function connectOrphan(rt: RuntimeDir): Promise<QmpClient | 'elsewhere' | 'stale'> {
  if (await ownerAnswers(rt)) return 'elsewhere';
  try {
    return await QmpClient.connect(rt.qmpSocket, { greetingTimeoutMs: 5_000 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The pid is alive but nobody listens: the pid was reused by an unrelated process.
    if (code === 'ECONNREFUSED' || code === 'ENOENT') return 'stale';
    // Someone holds QMP without serving kju.sock (a CLI command in progress): leave it to them.
    return 'elsewhere';
  }
}

/** Takes over a live QEMU of the library VM `vm` that nobody owns, into `table`. */
export async function adoptVm(vm: BundleVm, table: RunningVmTable): Promise<AdoptResult> {
  const known = table.get(vm.config.id);
  if (known) return known.session ? 'attached' : reclaimVm(known, table);
  const rt = libraryVmRuntimeDir(vm);
  if (!isAlive(readPidFile(rt.pidFile))) return 'gone';
  // Only a VM we will own gets a pid watch (attachQemu): one per call would pile up for VMs owned elsewhere.
  const qmp = await connectOrphan(rt);
  if (qmp === 'stale') removeRuntimeDir(rt);
  if (typeof qmp === 'string') return qmp;
  const qemu = table.get(vm.config.id) ? undefined : attachQemu(rt, { logFile: join(vm.dir, 'logs', `${sanitizeVmName(vm.config.name)}.log`) });
  if (!qemu) {
    qmp.close();
    return table.get(vm.config.id) ? 'attached' : 'gone'; // adopted meanwhile by a concurrent call, or just exited
  }
  qemu.unref();
  const session = await VmSession.attach({ name: vm.config.name, runtimeDir: rt, pid: qemu.pid, exited: qemu.exited, qmp });
  const { state } = await runLifecycleOp(session.qmp, { op: 'query' });
  table.own(table.add(vm, qemu, state), session);
  return 'attached';
}

/** Owns a VM of the table again after it was released (its display utility is gone). */
export async function reclaimVm(r: RunningVm, table: RunningVmTable): Promise<AdoptResult> {
  if (r.session) return 'attached';
  // the utility may still be closing its kju.sock
  for (let i = 0; i < 20 && (await ownerAnswers(r.runtimeDir)); i++) await new Promise((res) => setTimeout(res, 100));
  const qmp = await connectOrphan(r.runtimeDir);
  if (typeof qmp === 'string') return qmp;
  if (r.session || table.get(r.id) !== r) {
    qmp.close();
    return 'attached';
  }
  const session = await VmSession.attach({ name: r.name, runtimeDir: r.runtimeDir, pid: r.pid, exited: r.exited, qmp });
  table.own(r, session);
  table.setState(r, (await runLifecycleOp(session.qmp, { op: 'query' })).state);
  return 'attached';
}

/** A launch writes vm.json, then QEMU its pid file within seconds: a dir changed this recently may be one. */
const LAUNCH_GRACE_MS = 30_000;
function launchingNow(rt: RuntimeDir): boolean {
  try {
    return Date.now() - statSync(rt.dir).mtimeMs < LAUNCH_GRACE_MS;
  } catch {
    return false;
  }
}

/** Scans the runtime dirs: adopts live library VMs nobody owns, cleans up after dead QEMUs. */
export async function reattachAll(library: Library, table: RunningVmTable): Promise<ReattachReport> {
  const report: ReattachReport = { attached: [], ownedElsewhere: [], removed: [], foreign: [], busy: [] };
  const vms = (await library.list()).filter((e) => e.config && !e.problem).map((e) => ({ dir: e.dir, config: e.config! }));
  const byDir = new Map(vms.map((vm) => [libraryVmRuntimeDir(vm).dir, vm]));
  for (const rt of listRuntimeDirs()) {
    if (!existsSync(rt.vmJson) && !existsSync(rt.pidFile)) continue; // not a VM's dir (yet)
    const pid = readPidFile(rt.pidFile);
    if (pid === undefined || !isAlive(pid)) {
      if (await ownerAnswers(rt)) continue; // QEMU is starting under another owner
      if (launchingNow(rt)) continue; // a start in another process that has not written the pid file yet
      removeRuntimeDir(rt);
      report.removed.push(rt.dir);
      continue;
    }
    const vm = byDir.get(rt.dir);
    if (!vm) {
      report.foreign.push(rt.dir);
      continue;
    }
    if (table.get(vm.config.id)) continue; // ours already (owned, or released to a display utility)
    // A start (or stop, suspend) in progress holds the VM's lock from before QEMU runs until its session is
    // recorded: taking QEMU's one QMP connection from under it would leave that start waiting forever.
    if (lockHeld(vm)) {
      report.busy.push(vm.config.name);
      continue;
    }
    const r = await adoptVm(vm, table);
    if (r === 'attached') report.attached.push(vm.config.name);
    else if (r === 'elsewhere') report.ownedElsewhere.push(vm.config.name);
    else if (r === 'stale') report.removed.push(rt.dir);
  }
  return report;
}

// The one road to a running VM: reachVm() hands out the whole OwnerApi of a VM, whoever owns it.
// QEMU takes one QMP client and one D-Bus display control connection at a time, so exactly one kju
// process owns a running VM (holds both and serves kju.sock). A VM is reached
//   'self'     owned by this process: direct calls on its session (registered with ownVm),
//   'owner'    owned by another kju process: over its kju.sock,
//   'attached' owned by nobody: attached for the call, detached afterwards (QEMU keeps running).
// Runs on the Node loop of the calling process.
import type { VmRunState } from '../../common/contract.js';
import { attachQemu } from '../qemu/launch.js';
import type { RuntimeDir } from '../qemu/runtime-dir.js';
import { QmpClient } from '../qmp/qmp-client.js';
import { runLifecycleOp } from './lifecycle.js';
import { callOwner, ownerSocketApi } from './owner-client.js';
import type { OwnerApi } from './owner-protocol.js';
import { stoppedOwnerProblem } from './owner-process.js';
import { NoOwnerError, OwnerCallError, SessionError, VmNotRunningError } from './session-errors.js';
import { VmSession } from './vm-session.js';

/** A running VM as reach needs it: its name (for messages) and its runtime dir. */
export interface VmRef {
  name: string;
  runtimeDir: RuntimeDir;
}

export type ReachedVia = 'self' | 'owner' | 'attached';

export interface ReachedVm {
  readonly api: OwnerApi;
  readonly via: ReachedVia;
  /** Lets go of what reaching took (an attached session); QEMU keeps running. */
  close(): void;
}

/** The VMs this process owns, by runtime dir: their OwnerApi, as kju.sock serves it. */
const owned = new Map<string, OwnerApi>();

/** Registers a VM this process owns; reachVm then calls `api` directly. Returns the unregister. */
export function ownVm(rt: RuntimeDir, api: OwnerApi): () => void {
  owned.set(rt.dir, api);
  return () => {
    if (owned.get(rt.dir) === api) owned.delete(rt.dir);
  };
}

/** Whether this process owns the VM in `rt`. */
export function ownsVm(rt: RuntimeDir): boolean {
  return owned.has(rt.dir);
}

/**
 * The VM's OwnerApi. Throws VmNotRunningError when no QEMU runs there, SessionError
 * 'owned-elsewhere' when a kju process holds its QMP without answering on kju.sock.
 */
export async function reachVm(vm: VmRef): Promise<ReachedVm> {
  const mine = owned.get(vm.runtimeDir.dir);
  if (mine) return { api: mine, via: 'self', close: () => {} };
  try {
    await callOwner(vm.runtimeDir.ownerSocket, 'status', {}, 10_000);
    return { api: ownerSocketApi(vm.runtimeDir), via: 'owner', close: () => {} };
  } catch (err) {
    if (!(err instanceof NoOwnerError)) {
      const stopped = err instanceof OwnerCallError && err.wireCode === 'ETIMEDOUT' ? stoppedOwnerProblem(vm.runtimeDir, vm.name) : undefined;
      if (stopped) throw new SessionError('not-responding', stopped, { cause: err });
      throw err;
    }
  }
  const qemu = attachQemu(vm.runtimeDir);
  if (!qemu) throw new VmNotRunningError(`'${vm.name}' is not running (start it with: kju start ${vm.name}, or kju run <vm.json>)`);
  qemu.unref();
  let qmp: QmpClient;
  try {
    qmp = await QmpClient.connect(vm.runtimeDir.qmpSocket, { greetingTimeoutMs: 5_000 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT') throw new VmNotRunningError(`'${vm.name}' is not running (its QEMU does not answer)`);
    throw new SessionError('owned-elsewhere', `another kju process holds VM "${vm.name}" and does not answer; try again when it is done`);
  }
  const session = await VmSession.attach({ name: vm.name, runtimeDir: vm.runtimeDir, pid: qemu.pid, exited: qemu.exited, qmp });
  return { api: session.ownerApi(), via: 'attached', close: () => session.detach() };
}

/** Reaches the VM, runs `fn` on its API, and lets go. */
export async function withVm<T>(vm: VmRef, fn: (api: OwnerApi, via: ReachedVia) => Promise<T>): Promise<T> {
  const reached = await reachVm(vm);
  try {
    return await fn(reached.api, reached.via);
  } finally {
    reached.close();
  }
}

/** How long a VM may take to answer a state query before it shows as not responding. */
export const RESPONSE_WAIT_MS = 3_000;

/**
 * The run state of a running VM, or 'not-responding' when neither its owner nor QEMU answered
 * within `waitMs` (a hung or SIGSTOPped QEMU). Never takes the VM over.
 */
export async function probeRunState(rt: RuntimeDir, waitMs = RESPONSE_WAIT_MS): Promise<VmRunState | 'not-responding'> {
  const mine = owned.get(rt.dir);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'not-responding'>((resolve) => (timer = setTimeout(() => resolve('not-responding'), waitMs)));
  const ask = async (): Promise<VmRunState | 'not-responding'> => {
    if (mine) return (await mine.lifecycle({ op: 'query' })).state;
    try {
      return (await callOwner(rt.ownerSocket, 'lifecycle', { op: 'query' }, waitMs)).state;
    } catch (err) {
      if (!(err instanceof NoOwnerError)) return 'not-responding';
    }
    const qmp = await QmpClient.connect(rt.qmpSocket, { greetingTimeoutMs: waitMs, commandTimeoutMs: waitMs });
    try {
      return (await runLifecycleOp(qmp, { op: 'query' })).state;
    } finally {
      qmp.close();
    }
  };
  return Promise.race([ask().catch(() => 'not-responding' as const), late]).finally(() => clearTimeout(timer));
}

/**
 * The run state of a running VM that this process does not own, without taking it over: asks its
 * owner, else queries QMP briefly. 'running' when neither answers (someone holds QMP for a moment).
 */
export async function peekRunState(rt: RuntimeDir): Promise<VmRunState> {
  const mine = owned.get(rt.dir);
  try {
    return (mine ? await mine.lifecycle({ op: 'query' }) : await callOwner(rt.ownerSocket, 'lifecycle', { op: 'query' }, 3_000)).state;
  } catch (err) {
    if (mine || !(err instanceof NoOwnerError)) return 'running';
  }
  try {
    const qmp = await QmpClient.connect(rt.qmpSocket, { greetingTimeoutMs: 2_000 });
    try {
      return (await runLifecycleOp(qmp, { op: 'query' })).state;
    } finally {
      qmp.close();
    }
  } catch {
    return 'running';
  }
}

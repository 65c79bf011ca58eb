// The state a VM list shows for one library VM, derived from what kju knows of it: the bundle's
// pid file, this process's running-VM table, a crash it saw, a suspend record, and (when needed)
// the state QEMU or its owner answered. Pure: the caller gathers the facts and does the asking.
import type { VmRunState } from '../../common/contract.js';
import { RESPONSE_WAIT_MS } from './reach.js';

export const NOT_RESPONDING = `not responding: QEMU did not answer within ${RESPONSE_WAIT_MS / 1000} s ("kju stop --force" ends it)`;

/** What QEMU (or its owner) answered to a state query. */
export type ProbedState = VmRunState | 'not-responding';

export interface ListFacts {
  /** the state the bundle and its pid file say (toVmSummary) */
  listed: VmRunState;
  /** the VM's record in this process's table: its state, and whether we hold its session */
  owned?: { state: VmRunState; held: boolean };
  /** why it last ended badly, seen by this process */
  crash?: string;
  /** a suspend record is in its bundle */
  suspended: boolean;
  /** the process that took its lock to start (resume) it still lives */
  resumerAlive: boolean;
}

/** Whether deriveListState needs the state QEMU answers (a VM that runs, or that we have in the table). */
export function needsProbe(f: ListFacts): boolean {
  if (f.owned) return true;
  if (f.crash !== undefined) return false;
  if (f.suspended && f.listed === 'stopped') return false;
  return f.listed === 'running';
}

/** The state to show, and the problem to show with it; `probed` is given when needsProbe says so. */
export function deriveListState(f: ListFacts, probed?: ProbedState): { state: VmRunState; problem?: string } {
  let state = f.listed;
  let problem: string | undefined;
  if (f.owned) {
    state = probed === 'not-responding' || f.owned.held || probed === undefined ? f.owned.state : probed;
    if (probed === 'not-responding') problem = NOT_RESPONDING;
  } else if (f.crash !== undefined) {
    state = 'crashed';
    problem = f.crash;
  } else if (f.suspended && state === 'stopped') {
    state = 'suspended';
  } else if (state === 'running' && probed !== undefined) {
    if (probed === 'not-responding') problem = NOT_RESPONDING;
    else state = probed;
  }
  // a suspend interrupted after its record: QEMU is still there, paused; `start` finishes it
  if (state === 'paused' && f.suspended) state = 'suspended';
  // a resume killed before its state was loaded: QEMU waits for it forever; `start` ends that QEMU and resumes
  if (state === 'starting' && f.suspended && !f.resumerAlive) state = 'suspended';
  return problem === undefined ? { state } : { state, problem };
}

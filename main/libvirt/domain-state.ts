// libvirt's domain states (virDomainState) in kju's words (VmRunState), so a libvirt VM reads like
// one of kju's own in `kju list` and the library.
import type { VmRunState } from '../../common/contract.js';

/** virDomainState: NOSTATE 0, RUNNING 1, BLOCKED 2, PAUSED 3, SHUTDOWN 4, SHUTOFF 5, CRASHED 6, PMSUSPENDED 7. */
const STATES: Record<number, VmRunState> = {
  0: 'stopped',
  1: 'running',
  // blocked on a resource: still running
  2: 'running',
  3: 'paused',
  4: 'shutting-down',
  5: 'stopped',
  6: 'crashed',
  // the guest put itself to sleep (S3): not running, its RAM kept
  7: 'paused',
};

export function domainRunState(state: number): VmRunState {
  return STATES[state] ?? 'stopped';
}

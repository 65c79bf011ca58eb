import type { VmRunState } from '../../common/contract.js';

const LABELS: Record<VmRunState, string> = {
  stopped: 'Stopped',
  starting: 'Starting',
  running: 'Running',
  paused: 'Paused',
  suspended: 'Suspended',
  'shutting-down': 'Shutting down',
  crashed: 'Crashed',
};

export function StateBadge({ state }: { state: VmRunState }) {
  return <span className={`badge badge-${state}`}>{LABELS[state] ?? state}</span>;
}

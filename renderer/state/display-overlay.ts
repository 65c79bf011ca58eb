// What the VM window says over (or instead of) the guest screen before and between surfaces:
// "Starting QEMU…", "Waiting for the guest's display…", "Guest display off" with the reason.
// Pure: derived from the VM's summary and the VM window's display state (renderer/state/vm-window.ts).
import type { VmSummary } from '../../common/contract.js';
import type { ConnectionPhase } from './vm-window.js';

export type OverlayKind = 'starting' | 'connecting' | 'waiting' | 'off' | 'error';

export interface DisplayOverlay {
  kind: OverlayKind;
  title: string;
  /** why, when known (the backend's message, the VM's state or problem) */
  reason?: string;
}

export interface OverlayInputs {
  vm: Pick<VmSummary, 'name' | 'state' | 'problem'>;
  phase: ConnectionPhase;
  /** the VM window's message: why opening failed, or the closed display's reason */
  message?: string;
  hasSurface: boolean;
  disabled: boolean;
}

export const OVERLAY_TITLES: Record<OverlayKind, string> = {
  starting: 'Starting QEMU…',
  connecting: 'Connecting to the display…',
  waiting: "Waiting for the guest's display…",
  off: 'Guest display off',
  error: "Cannot show the guest's display",
};

const make = (kind: OverlayKind, reason?: string): DisplayOverlay => (reason ? { kind, title: OVERLAY_TITLES[kind], reason } : { kind, title: OVERLAY_TITLES[kind] });

/** Why a VM with no display stream shows nothing; the first line of a crash's problem. */
function notRunningReason(vm: OverlayInputs['vm']): string {
  switch (vm.state) {
    case 'crashed':
      return vm.problem ? `${vm.name} crashed: ${vm.problem.split('\n')[0]}` : `${vm.name} crashed`;
    case 'suspended':
      return `${vm.name} is suspended: Resume continues it where it was`;
    case 'shutting-down':
      return `${vm.name} is shutting down`;
    default:
      return vm.problem ? `${vm.name} is stopped: ${vm.problem.split('\n')[0]}` : `${vm.name} is stopped`;
  }
}

/** The overlay to show, or null when the guest's surface is on screen and live. */
export function displayOverlay(i: OverlayInputs): DisplayOverlay | null {
  const { vm } = i;
  if (vm.state === 'starting') return make('starting');
  if (vm.state !== 'running' && vm.state !== 'paused') return make('off', notRunningReason(vm));
  switch (i.phase) {
    case 'idle':
    case 'connecting':
      return make('connecting');
    case 'failed':
      return make('error', i.message);
    case 'closed':
      return make('off', i.message);
    case 'open':
      if (i.disabled) return make('off', 'the guest turned its display off');
      if (i.hasSurface) return null;
      return vm.state === 'paused' ? make('off', `${vm.name} is paused`) : make('waiting');
  }
}

// What happens to running VMs when kju quits: the user picks keep running / suspend all / shut
// down all (or cancels). Pure apart from the ops it is given; the dialog lives in app-shell.ts.
import { isActiveVmState, type Result, type VmSummary } from '../../../common/contract.js';

export type QuitChoice = 'keep' | 'suspend' | 'shutdown' | 'cancel';

/** Dialog buttons in order; the index the dialog returns maps through QUIT_CHOICES. */
export const QUIT_BUTTONS = ['Keep Running', 'Suspend All', 'Shut Down All', 'Cancel'] as const;
export const QUIT_CHOICES: readonly QuitChoice[] = ['keep', 'suspend', 'shutdown', 'cancel'];
export const QUIT_CANCEL_INDEX = 3;
export const SHUTDOWN_TIMEOUT_MS = 30_000;

/** The VMs quitting asks about: active ones, except those already shutting down. */
export function activeVms(vms: readonly VmSummary[]): VmSummary[] {
  return vms.filter((v) => isActiveVmState(v.state) && v.state !== 'shutting-down');
}

export function quitMessage(vms: readonly VmSummary[]): { message: string; detail: string } {
  const names = vms.map((v) => v.name);
  const list = names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
  return {
    message: vms.length === 1 ? `${names[0]} is still running.` : `${vms.length} virtual machines are still running.`,
    detail: `Keep them running in the background, suspend them to disk, or shut them down before quitting.\n\n${list}`,
  };
}

export interface QuitOps {
  suspendVm(vmId: string): Promise<Result<VmSummary>>;
  shutdownVm(vmId: string, timeoutMs: number): Promise<Result<VmSummary>>;
}

/** Runs the choice on every VM at once; returns the failures (name and message) to report. */
export async function applyQuitChoice(choice: QuitChoice, vms: readonly VmSummary[], ops: QuitOps): Promise<string[]> {
  if (choice === 'keep' || choice === 'cancel') return [];
  const results = await Promise.all(
    vms.map(async (v) => {
      try {
        const r = choice === 'suspend' ? await ops.suspendVm(v.id) : await ops.shutdownVm(v.id, SHUTDOWN_TIMEOUT_MS);
        return r.ok ? null : `${v.name}: ${r.message}`;
      } catch (err) {
        return `${v.name}: ${(err as Error).message}`;
      }
    }),
  );
  return results.filter((r): r is string => r !== null);
}

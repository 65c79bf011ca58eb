// Reset asks first wherever it is offered (the VM window's toolbar, the library's row menu): like a
// reset button, it loses what the guest has not saved. One question, one road to resetVm.
import type { KjuBridge, VmSummary } from '../../common/contract.js';
import { useLibrary } from './library.js';

export function resetQuestion(name: string): string {
  return `Reset ${name}? Like pressing a reset button: unsaved work in the guest is lost.`;
}

/** Asks `ask` (the window's confirm by default); resets only on yes. True when the VM was reset. */
export async function resetAfterAsking(bridge: KjuBridge, vm: Pick<VmSummary, 'id' | 'name'>, ask: (question: string) => boolean = (q) => window.confirm(q)): Promise<boolean> {
  if (!ask(resetQuestion(vm.name))) return false;
  return useLibrary.getState().act(bridge, vm.id, 'resetVm', { id: vm.id });
}

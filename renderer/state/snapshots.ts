// The snapshots of the VM whose Snapshots dialog is open: listed on open, refreshed after each change.
import { create } from 'zustand';
import type { KjuBridge, SnapshotSummary } from '../../common/contract.js';

export interface SnapshotsState {
  vmId?: string;
  list: SnapshotSummary[];
  loading: boolean;
  working: boolean;
  error?: string;
  /** what the last change did, for a quiet confirmation line */
  note?: string;
  load(bridge: KjuBridge, vmId: string): Promise<void>;
  run(bridge: KjuBridge, op: 'create' | 'revert' | 'delete', name: string): Promise<boolean>;
}

export const useSnapshots = create<SnapshotsState>()((set, get) => ({
  list: [],
  loading: false,
  working: false,
  async load(bridge, vmId) {
    set({ vmId, loading: true, error: undefined, note: undefined, list: get().vmId === vmId ? get().list : [] });
    const r = await bridge.call('listSnapshots', { id: vmId });
    if (get().vmId !== vmId) return;
    set(r.ok ? { list: r.value, loading: false } : { error: r.message, loading: false, list: [] });
  },
  async run(bridge, op, name) {
    const vmId = get().vmId;
    if (!vmId || get().working) return false;
    set({ working: true, error: undefined, note: undefined });
    const r = await bridge.call('snapshot', { id: vmId, op, name });
    set({ working: false });
    if (!r.ok) {
      set({ error: r.message });
      return false;
    }
    const how = r.value.live ? 'with memory' : 'disk only';
    set({ note: op === 'create' ? `Snapshot “${name}” taken (${how}).` : op === 'revert' ? `Reverted to “${name}”.` : `Snapshot “${name}” deleted.` });
    await get().load(bridge, vmId);
    return true;
  },
}));

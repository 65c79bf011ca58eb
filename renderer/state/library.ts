// The VM library as this window sees it: loaded once, then kept live by onVmsChanged. Per-VM
// actions go through `act`, which marks the VM busy and keeps the backend's message if it fails.
import { create } from 'zustand';
import { isActiveVmState, type BackendArgs, type BackendMethod, type KjuBridge, type VmSummary } from '../../common/contract.js';
import { failureText } from '../../common/errors.js';

export interface LibraryState {
  vms: VmSummary[];
  loaded: boolean;
  /** the list itself could not be loaded */
  error?: string;
  /** ids with a request in flight */
  busy: Record<string, boolean>;
  /** the last failed action of each VM, as the backend said it */
  rowErrors: Record<string, string>;
  setVms(vms: VmSummary[]): void;
  load(bridge: KjuBridge): Promise<void>;
  /** Runs one per-VM method; true when it succeeded. A VmSummary reply replaces the VM in the list. */
  act<M extends BackendMethod>(bridge: KjuBridge, id: string, method: M, args: BackendArgs<M>): Promise<boolean>;
  start(bridge: KjuBridge, id: string): Promise<boolean>;
  stop(bridge: KjuBridge, id: string, force?: boolean): Promise<boolean>;
  clearRowError(id: string): void;
}

function replace(vms: VmSummary[], vm: VmSummary): VmSummary[] {
  return vms.some((v) => v.id === vm.id) ? vms.map((v) => (v.id === vm.id ? vm : v)) : [...vms, vm];
}

const isSummary = (v: unknown): v is VmSummary => typeof v === 'object' && v !== null && typeof (v as VmSummary).id === 'string' && typeof (v as VmSummary).state === 'string';

function without<T>(rec: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _, ...rest } = rec;
  return rest;
}

export const useLibrary = create<LibraryState>()((set, get) => ({
  vms: [],
  loaded: false,
  busy: {},
  rowErrors: {},
  setVms: (vms) => set({ vms, loaded: true }),
  load: async (bridge) => {
    try {
      const r = await bridge.call('listVms', {});
      if (r.ok) set({ vms: r.value, loaded: true, error: undefined });
      else set({ loaded: true, error: failureText(r) });
    } catch (e) {
      set({ loaded: true, error: (e as Error).message });
    }
  },
  act: async (bridge, id, method, args) => {
    set({ busy: { ...get().busy, [id]: true }, rowErrors: without(get().rowErrors, id) });
    try {
      const r = await bridge.call(method, args);
      if (!r.ok) {
        set({ rowErrors: { ...get().rowErrors, [id]: failureText(r) } });
        return false;
      }
      if (isSummary(r.value)) set({ vms: replace(get().vms, r.value) });
      return true;
    } catch (e) {
      set({ rowErrors: { ...get().rowErrors, [id]: (e as Error).message } });
      return false;
    } finally {
      set({ busy: without(get().busy, id) });
    }
  },
  start: (bridge, id) => get().act(bridge, id, 'startVm', { id }),
  stop: (bridge, id, force) => get().act(bridge, id, 'stopVm', { id, force }),
  clearRowError: (id) => set({ rowErrors: without(get().rowErrors, id) }),
}));

/** What a VM in a given state offers; the UI shows only these (the backend refuses the rest anyway). */
export function actionsFor(state: VmSummary['state']) {
  const active = isActiveVmState(state);
  return {
    start: state === 'stopped' || state === 'crashed',
    resume: state === 'suspended' || state === 'paused',
    pause: state === 'running',
    open: state === 'running' || state === 'paused' || state === 'starting',
    shutDown: state === 'running' || state === 'paused',
    forceOff: active,
    reset: state === 'running' || state === 'paused',
    suspend: state === 'running' || state === 'paused',
    /** hardware edits: only while stopped (the ISO changes live from the VM window) */
    edit: !active && state !== 'suspended',
    clone: state === 'stopped' || state === 'crashed',
    remove: state === 'stopped' || state === 'crashed' || state === 'suspended',
    snapshots: state !== 'suspended' && state !== 'starting' && state !== 'shutting-down',
  };
}

// The VM library as this window sees it: loaded once, then kept live by onVmsChanged.
import { create } from 'zustand';
import type { KjuBridge, VmSummary } from '../../common/contract.js';

export interface LibraryState {
  vms: VmSummary[];
  loaded: boolean;
  error?: string;
  /** ids with a start/stop request in flight */
  busy: Record<string, boolean>;
  setVms(vms: VmSummary[]): void;
  load(bridge: KjuBridge): Promise<void>;
  start(bridge: KjuBridge, id: string): Promise<void>;
  stop(bridge: KjuBridge, id: string, force?: boolean): Promise<void>;
}

function replace(vms: VmSummary[], vm: VmSummary): VmSummary[] {
  return vms.some((v) => v.id === vm.id) ? vms.map((v) => (v.id === vm.id ? vm : v)) : [...vms, vm];
}

export const useLibrary = create<LibraryState>()((set, get) => {
  const run = async (id: string, call: () => ReturnType<KjuBridge['call']>) => {
    set({ busy: { ...get().busy, [id]: true }, error: undefined });
    try {
      const r = await call();
      if (r.ok) set({ vms: replace(get().vms, r.value as VmSummary) });
      else set({ error: r.message });
    } catch (e) {
      set({ error: (e as Error).message });
    } finally {
      const { [id]: _, ...rest } = get().busy;
      set({ busy: rest });
    }
  };
  return {
    vms: [],
    loaded: false,
    busy: {},
    setVms: (vms) => set({ vms, loaded: true }),
    load: async (bridge) => {
      try {
        const r = await bridge.call('listVms', {});
        if (r.ok) set({ vms: r.value, loaded: true, error: undefined });
        else set({ loaded: true, error: r.message });
      } catch (e) {
        set({ loaded: true, error: (e as Error).message });
      }
    },
    start: (bridge, id) => run(id, () => bridge.call('startVm', { id })),
    stop: (bridge, id, force) => run(id, () => bridge.call('stopVm', { id, force })),
  };
});

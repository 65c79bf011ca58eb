import { useEffect } from 'react';
import type { KjuBridge } from '../../common/contract.js';
import { useLibrary } from '../state/library.js';

/** Loads the VM list and keeps it live while the calling component is mounted. */
export function useLiveLibrary(bridge: KjuBridge): void {
  useEffect(() => {
    const { load, setVms } = useLibrary.getState();
    const off = bridge.onVmsChanged(setVms);
    void load(bridge);
    return off;
  }, [bridge]);
}

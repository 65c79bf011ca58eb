// The library window's Diagnostics view: the backend's doctor lines, fetched when the view opens.
// The accelerator notice for the banner comes from here too once fetched (no VM needs to run).
import { create } from 'zustand';
import type { Diagnostic, KjuBridge, VmSummary } from '../../common/contract.js';
import { failureText } from '../../common/errors.js';

export interface DiagnosticsState {
  open: boolean;
  loading: boolean;
  lines?: Diagnostic[];
  error?: string;
  show(bridge: KjuBridge): Promise<void>;
  close(): void;
}

export const useDiagnostics = create<DiagnosticsState>()((set, get) => ({
  open: false,
  loading: false,
  show: async (bridge) => {
    set({ open: true, loading: true, error: undefined });
    try {
      const r = await bridge.call('diagnostics', {});
      if (!get().open) return;
      set(r.ok ? { lines: r.value, loading: false } : { error: failureText(r), loading: false });
    } catch (e) {
      set({ error: (e as Error).message, loading: false });
    }
  },
  close: () => set({ open: false }),
}));

/**
 * The one accelerator notice the library window shows: a running VM's (the session knows it for
 * sure), else the diagnostics' accelerator WARN once fetched; each distinct text once.
 */
export function acceleratorNotices(vms: readonly VmSummary[], lines: readonly Diagnostic[] | undefined): string[] {
  const fromVms = vms.map((v) => (v.state === 'stopped' ? undefined : v.acceleratorNotice)).filter((n): n is string => !!n);
  if (fromVms.length) return [...new Set(fromVms)];
  const accel = lines?.find((l) => l.id === 'accelerator' && l.status !== 'OK');
  return accel ? [accel.summary] : [];
}

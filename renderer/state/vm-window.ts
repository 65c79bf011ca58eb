// One VM window's state: its display connection's phase and the viewer's slow-changing state.
// fps and latency are not here: they change every frame and are read with Viewer.subscribe.
import { create } from 'zustand';
import type { ViewerState } from '../display/viewer.js';

export type ConnectionPhase = 'idle' | 'connecting' | 'open' | 'failed' | 'closed';

export interface VmWindowState {
  vmId?: string;
  phase: ConnectionPhase;
  message?: string;
  viewer: ViewerState;
  begin(vmId: string): void;
  opened(): void;
  failed(message: string): void;
  setViewer(v: ViewerState): void;
}

const initialViewer: ViewerState = { absolute: true, grabbed: false, disabled: false, badPackets: 0 };

export const useVmWindow = create<VmWindowState>()((set) => ({
  phase: 'idle',
  viewer: initialViewer,
  begin: (vmId) => set({ vmId, phase: 'connecting', message: undefined, viewer: initialViewer }),
  opened: () => set({ phase: 'open' }),
  failed: (message) => set({ phase: 'failed', message }),
  setViewer: (viewer) => set(viewer.closed ? { viewer, phase: 'closed', message: viewer.closed } : { viewer }),
}));

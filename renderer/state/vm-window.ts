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
  /** which display head this window shows (0 is the first; a VM with `displays: N` has N) */
  head: number;
  /** the display area's size in device pixels, for the status bar's guest-vs-window line */
  windowSize?: { width: number; height: number };
  begin(vmId: string): void;
  setHead(head: number): void;
  setWindowSize(size: { width: number; height: number }): void;
  opened(): void;
  failed(message: string): void;
  setViewer(v: ViewerState): void;
}

const initialViewer: ViewerState = { absolute: true, grabbed: false, disabled: false, badPackets: 0 };

export const useVmWindow = create<VmWindowState>()((set) => ({
  phase: 'idle',
  viewer: initialViewer,
  head: 0,
  begin: (vmId) => set((s) => ({ vmId, phase: 'connecting', message: undefined, viewer: initialViewer, head: s.vmId === vmId ? s.head : 0 })),
  setHead: (head) => set({ head: Number.isInteger(head) && head >= 0 ? head : 0 }),
  setWindowSize: (windowSize) => set({ windowSize }),
  opened: () => set({ phase: 'open' }),
  failed: (message) => set({ phase: 'failed', message }),
  setViewer: (viewer) => set(viewer.closed ? { viewer, phase: 'closed', message: viewer.closed } : { viewer }),
}));

// Which dialog of the library window is open, and for which VM. One at a time, like a sheet.
import { create } from 'zustand';

export type DialogKind = 'edit' | 'clone' | 'delete' | 'snapshots' | 'force-off';

export interface DialogState {
  dialog: { kind: DialogKind; vmId: string } | null;
  open(kind: DialogKind, vmId: string): void;
  close(): void;
}

export const useDialogs = create<DialogState>()((set) => ({
  dialog: null,
  open: (kind, vmId) => set({ dialog: { kind, vmId } }),
  close: () => set({ dialog: null }),
}));

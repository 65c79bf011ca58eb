// Display settings, remembered across windows and restarts (localStorage).
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { SCALE_MODES, type ScaleMode } from '../display/scaling.js';

export interface SettingsState {
  scaleMode: ScaleMode;
  integerScale: boolean;
  setScaleMode(m: ScaleMode): void;
  setIntegerScale(on: boolean): void;
}

export const useSettings = create<SettingsState>()(
  persist(
    (set) => ({
      scaleMode: 'fit',
      integerScale: false,
      setScaleMode: (m) => set({ scaleMode: SCALE_MODES.includes(m) ? m : 'fit' }),
      setIntegerScale: (on) => set({ integerScale: on }),
    }),
    { name: 'kju.settings', partialize: (s) => ({ scaleMode: s.scaleMode, integerScale: s.integerScale }) },
  ),
);

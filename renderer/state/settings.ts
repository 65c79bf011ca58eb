// Display settings, remembered across windows and restarts (localStorage).
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { SCALE_MODES, type ScaleMode } from '../display/scaling.js';
import { BLITTER_SETTINGS, type BlitterSetting } from '../display/display-blitter.js';

export interface SettingsState {
  scaleMode: ScaleMode;
  integerScale: boolean;
  /** which blitter draws the display; a change opens the display anew (a canvas keeps its context kind) */
  blitter: BlitterSetting;
  setScaleMode(m: ScaleMode): void;
  setIntegerScale(on: boolean): void;
  setBlitter(b: BlitterSetting): void;
  /** the guest's sound in the VM window: 0..1, muted, and silent while the window is hidden */
  soundVolume: number;
  soundMuted: boolean;
  muteWhenHidden: boolean;
  setSound(p: Partial<Pick<SettingsState, 'soundVolume' | 'soundMuted' | 'muteWhenHidden'>>): void;
}

export const useSettings = create<SettingsState>()(
  persist(
    (set) => ({
      scaleMode: 'fit',
      integerScale: false,
      blitter: 'auto',
      soundVolume: 1,
      soundMuted: false,
      muteWhenHidden: false,
      setSound: (p) => set(p),
      setScaleMode: (m) => set({ scaleMode: SCALE_MODES.includes(m) ? m : 'fit' }),
      setIntegerScale: (on) => set({ integerScale: on }),
      setBlitter: (b) => set({ blitter: BLITTER_SETTINGS.includes(b) ? b : 'auto' }),
    }),
    { name: 'kju.settings', partialize: (s) => ({ scaleMode: s.scaleMode, integerScale: s.integerScale, blitter: s.blitter, soundVolume: s.soundVolume, soundMuted: s.soundMuted, muteWhenHidden: s.muteWhenHidden }) },
  ),
);

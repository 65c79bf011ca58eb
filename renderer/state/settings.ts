// Display settings, remembered across windows and restarts (localStorage).
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { SCALE_MODES, type ScaleMode } from '../display/scaling.js';
import { BLITTER_SETTINGS, type BlitterSetting } from '../display/display-blitter.js';
import { GUEST_SIZE_SETTINGS, type GuestSizeSetting } from '../display/guest-size.js';

export interface SettingsState {
  scaleMode: ScaleMode;
  integerScale: boolean;
  /** which blitter draws the display; a change opens the display anew (a canvas keeps its context kind) */
  blitter: BlitterSetting;
  /** "Resize guest to window" or "Scale" (auto: resize on virtio-vga, scale where the guest cannot follow) */
  guestSize: GuestSizeSetting;
  setScaleMode(m: ScaleMode): void;
  setIntegerScale(on: boolean): void;
  setBlitter(b: BlitterSetting): void;
  setGuestSize(g: GuestSizeSetting): void;
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
      guestSize: 'auto',
      soundVolume: 1,
      soundMuted: false,
      muteWhenHidden: false,
      setSound: (p) => set(p),
      setScaleMode: (m) => set({ scaleMode: SCALE_MODES.includes(m) ? m : 'fit' }),
      setIntegerScale: (on) => set({ integerScale: on }),
      setBlitter: (b) => set({ blitter: BLITTER_SETTINGS.includes(b) ? b : 'auto' }),
      setGuestSize: (g) => set({ guestSize: GUEST_SIZE_SETTINGS.includes(g) ? g : 'auto' }),
    }),
    {
      name: 'kju.settings',
      partialize: (s) => ({
        scaleMode: s.scaleMode,
        integerScale: s.integerScale,
        blitter: s.blitter,
        guestSize: s.guestSize,
        soundVolume: s.soundVolume,
        soundMuted: s.soundMuted,
        muteWhenHidden: s.muteWhenHidden,
      }),
    },
  ),
);

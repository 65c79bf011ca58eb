// "Resize guest to window" vs "Scale": which one a window uses, and the debounced size it asks the
// guest for (Console.SetUIInfo through an uiInfo input). Runs in the renderer; pure but for timers.
import type { InputMessage } from '../../common/contract.js';

export const GUEST_SIZE_SETTINGS = ['auto', 'resize', 'scale'] as const;
export type GuestSizeSetting = (typeof GUEST_SIZE_SETTINGS)[number];
export type GuestSizeMode = 'resize' | 'scale';

/** Auto: resize where the guest can follow (virtio-vga; std VGA answers SetUIInfo Unsupported), else scale. */
export function guestSizeMode(setting: GuestSizeSetting, displayDevice: string | undefined): GuestSizeMode {
  if (setting !== 'auto') return setting;
  return displayDevice === 'virtio-vga' ? 'resize' : 'scale';
}

/** A window's CSS size → device pixels (what the guest should have for a sharp 1:1 picture). */
export function devicePixels(cssWidth: number, cssHeight: number, ratio: number): { width: number; height: number } {
  const r = Number.isFinite(ratio) && ratio > 0 ? ratio : 1;
  return { width: Math.round(cssWidth * r), height: Math.round(cssHeight * r) };
}

/** A window resize is a burst of sizes: the guest gets only the last one, after this quiet time. */
export const RESIZE_DEBOUNCE_MS = 300;

/**
 * Sends the window's size to the guest `delayMs` after the last change, once per distinct size.
 * Sizes under 1 pixel a side (a collapsed or hidden window) are not sent. Owner: the VM window.
 */
export class GuestResizer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastSent = '';
  constructor(
    private readonly send: (m: InputMessage) => void,
    private readonly delayMs = RESIZE_DEBOUNCE_MS,
  ) {}

  /** A new window size in device pixels. */
  windowSize(width: number, height: number): void {
    clearTimeout(this.timer);
    if (!(width >= 1 && height >= 1)) return;
    this.timer = setTimeout(() => {
      const key = `${width}x${height}`;
      if (key === this.lastSent) return;
      this.lastSent = key;
      this.send({ t: 'uiInfo', width, height });
    }, this.delayMs);
  }

  /** Forget what was sent (the guest may have changed on its own): the next size goes out again. */
  reset(): void {
    this.lastSent = '';
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

import { useEffect, type RefObject } from 'react';
import { dismisses, isTopLayer, pushLayer } from './dismiss.js';

/** While `open`, Escape (when topmost) and a press outside `area` (the button and its popover) call `close`. */
export function useDismiss(open: boolean, area: RefObject<HTMLElement | null>, close: () => void): void {
  useEffect(() => {
    if (!open) return;
    const layer = {};
    const off = pushLayer(layer);
    const onKey = (e: KeyboardEvent) => {
      if (dismisses({ kind: 'key', key: e.key }, isTopLayer(layer))) {
        e.stopPropagation();
        close();
      }
    };
    const onPress = (e: PointerEvent) => {
      const inside = e.target instanceof Node && !!area.current?.contains(e.target);
      if (dismisses({ kind: 'press', inside }, isTopLayer(layer))) close();
    };
    // capture: the guest canvas handles its own keys and presses
    document.addEventListener('keydown', onKey, true);
    document.addEventListener('pointerdown', onPress, true);
    return () => {
      off();
      document.removeEventListener('keydown', onKey, true);
      document.removeEventListener('pointerdown', onPress, true);
    };
  }, [open, area, close]);
}

// When an open popover or menu closes by itself: Escape closes the topmost one only (a USB list
// opened inside the More menu goes first), a press outside closes every one it lies outside of.

/** The popovers open right now, oldest first. Module state: one page has one stack. */
const open: object[] = [];

export function pushLayer(layer: object): () => void {
  open.push(layer);
  return () => {
    const i = open.indexOf(layer);
    if (i >= 0) open.splice(i, 1);
  };
}

export function isTopLayer(layer: object): boolean {
  return open.at(-1) === layer;
}

export type DismissEvent = { kind: 'key'; key: string } | { kind: 'press'; inside: boolean };

/** Whether `e` closes a popover; `topmost` says it is the newest one open. */
export function dismisses(e: DismissEvent, topmost: boolean): boolean {
  return e.kind === 'key' ? e.key === 'Escape' && topmost : !e.inside;
}

// Where the window of each display head of a VM goes: head k on the host's monitor k (in the
// order Electron lists them) while there are enough, centred in its work area; more heads than
// monitors cascade on the last one. Pure (no electron import): the main process passes
// screen.getAllDisplays()' work areas. Main process event loop.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const CASCADE = 32;

/** Bounds for head `head`'s window of `size`, or undefined (let the window system place it) with no monitors. */
export function headWindowBounds(head: number, workAreas: readonly Rect[], size: { width: number; height: number }): Rect | undefined {
  if (!workAreas.length) return undefined;
  const onMonitor = Math.min(head, workAreas.length - 1);
  const area = workAreas[onMonitor];
  const extra = head - onMonitor; // heads beyond the last monitor cascade on it
  const width = Math.min(size.width, area.width);
  const height = Math.min(size.height, area.height);
  const x = area.x + Math.max(0, Math.floor((area.width - width) / 2)) + extra * CASCADE;
  const y = area.y + Math.max(0, Math.floor((area.height - height) / 2)) + extra * CASCADE;
  return { x: Math.min(x, area.x + area.width - width), y: Math.min(y, area.y + area.height - height), width, height };
}

// When a library row asks for its VM's thumbnail: a running VM's once a second while the page is
// visible (nothing at all while it is hidden, so a library in the background costs no CPU on
// either side), a stopped one's once. Browser main thread; no React, so it is tested as is.
import type { VmThumbnail } from '../../common/contract.js';

export const THUMBNAIL_POLL_MS = 1_000;

/** What the poller needs of `document` (a fake in tests). */
export interface VisibilitySource {
  readonly visibilityState: DocumentVisibilityState;
  addEventListener(type: 'visibilitychange', fn: () => void): void;
  removeEventListener(type: 'visibilitychange', fn: () => void): void;
}

export interface ThumbnailPollerOptions {
  fetch(): Promise<VmThumbnail | null>;
  /** called with each thumbnail whose bytes differ from the last one shown */
  show(t: VmThumbnail | null): void;
  /** a running VM: keep asking; else ask once */
  live: boolean;
  doc: VisibilitySource;
  everyMs?: number;
}

/** Starts asking at once (when visible); stop() ends it. */
export function pollThumbnail(o: ThumbnailPollerOptions): { stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight = false;
  let stopped = false;
  let fetchedOnce = false;
  let last: string | null | undefined;
  const tick = async () => {
    timer = undefined;
    if (stopped || inFlight || o.doc.visibilityState !== 'visible') return;
    if (!o.live && fetchedOnce) return;
    inFlight = true;
    try {
      const t = await o.fetch();
      fetchedOnce = true;
      const key = t ? `${t.live}:${t.png}` : null;
      if (!stopped && key !== last) {
        last = key;
        o.show(t);
      }
    } catch {
      // a VM that went away between two asks: the list update replaces this row
    } finally {
      inFlight = false;
    }
    if (!stopped && o.live && o.doc.visibilityState === 'visible') timer = setTimeout(() => void tick(), o.everyMs ?? THUMBNAIL_POLL_MS);
  };
  const onVisibility = () => {
    if (o.doc.visibilityState !== 'visible') {
      clearTimeout(timer);
      timer = undefined;
    } else if (timer === undefined) void tick();
  };
  o.doc.addEventListener('visibilitychange', onVisibility);
  void tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      o.doc.removeEventListener('visibilitychange', onVisibility);
    },
  };
}

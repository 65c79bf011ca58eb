// Zero-copy (Electron, KJU_ZERO_COPY=1): the page's side of the shared surface views. The preload
// maps QEMU's memfd into a SharedArrayBuffer and, since contextBridge cannot pass one, posts the
// view to this window (main/electron/preload/shared-surfaces.ts); streams that have such views carry a
// `sharedSurfaceKey`. withSharedViews wraps such a stream so that surfacePixels(id) returns the
// view posted for it. Unverified in Electron (see shared-surfaces.ts). Main thread only.
import type { DisplayStream } from '../../common/contract.js';

interface SharedSurfaceMessage {
  kju: 'shared-surface';
  key: string;
  surfaceId: number;
  view: Uint8Array;
}

function isSharedSurfaceMessage(d: unknown, key: string): d is SharedSurfaceMessage {
  if (!d || typeof d !== 'object') return false;
  const m = d as Partial<SharedSurfaceMessage>;
  return (
    m.kju === 'shared-surface' &&
    m.key === key &&
    Number.isSafeInteger(m.surfaceId) &&
    m.view instanceof Uint8Array &&
    typeof SharedArrayBuffer === 'function' &&
    m.view.buffer instanceof SharedArrayBuffer
  );
}

/** The stream itself when it already has surfacePixels or no key; else a wrapper that has it. */
export function withSharedViews(stream: DisplayStream, target: Window = window): DisplayStream {
  const key = (stream as { sharedSurfaceKey?: unknown }).sharedSurfaceKey;
  if (stream.surfacePixels || typeof key !== 'string') return stream;
  const views: Array<{ id: number; view: Uint8Array }> = [];
  const onMessage = (e: MessageEvent) => {
    // only the preload's own posts: same window, same origin
    if (e.source !== target || e.origin !== target.location.origin || !isSharedSurfaceMessage(e.data, key)) return;
    views.push({ id: e.data.surfaceId, view: e.data.view });
    while (views.length > 2) views.shift();
  };
  target.addEventListener('message', onMessage);
  return {
    onMessage: (cb) => stream.onMessage(cb),
    onFrame: (cb) => stream.onFrame(cb),
    pull: () => stream.pull(),
    sendInput: (i) => stream.sendInput(i),
    refresh: () => stream.refresh(),
    ...(stream.sendClipboard ? { sendClipboard: (m: Parameters<NonNullable<DisplayStream['sendClipboard']>>[0]) => stream.sendClipboard!(m) } : {}),
    surfacePixels: (id) => views.find((v) => v.id === id)?.view,
    close: () => {
      target.removeEventListener('message', onMessage);
      views.length = 0;
      stream.close();
    },
  };
}

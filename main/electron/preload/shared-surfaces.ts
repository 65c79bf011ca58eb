// Zero-copy display (KJU_ZERO_COPY=1, default off), the preload's half: the VM window's preload
// connects to the display utility's surface-share socket (main/display/surface-share.ts) with the
// token main passed on with the display port, receives each 'map' surface's memfd, maps it into a
// SharedArrayBuffer-backed view (SurfaceShareClient, plain Node + addon) and hands the view to the
// page with window.postMessage; the client then acknowledges, and the utility's FramePump sends
// that surface's frames as rects only. A surface that could not be mapped shared is not
// acknowledged, so its frames keep their pixels.
//
// Verification status (no Electron binary could run where this was written):
// - Verified under plain Node 20 against a real QEMU 10 (TCG, demo guest, virtio-vga):
//   main/display/surface-share.integration.test.ts runs the server and SurfaceShareClient (the
//   class wrapped here) in one process: boot-time surface switches arrive as new memfds and old
//   mappings are released; the client's view equals the DbusDisplay bytes and QMP screendump;
//   guest /dev/fb0 writes show up in the view with 0 bytes on the share socket and rect-only
//   FramePackets; reconnect, wrong/second-use tokens, silent, vanished and garbage clients.
//   native/fd-server.test.ts covers listenUnix/FdServer (worker, EMFILE, close).
// - Verified in Debian's Chromium (not Electron): a cross-origin-isolated page (COOP/COEP)
//   uploads from a SharedArrayBuffer view with texSubImage2D (e2e/renderer-blitter.test.ts), and a
//   SAB view posted to the page's own window arrives shared and becomes the keyed stream's
//   surfacePixels via withSharedViews (e2e/shared-views-page.test.ts; main world, not an isolated one).
// - Type-checked only (npx tsc -p main/electron/preload, …/utility), never run: this file, the preload wiring,
//   display-utility.ts's share server, the page-side receiver (renderer/display/shared-views.ts).
// - Unverified, needs a real Electron: that the addon loads in an unsandboxed preload; that the
//   Mapping's mmap(MAP_FIXED) over a SAB allocated in the preload's isolated world works inside
//   Electron's V8 memory cage; that window.postMessage from the isolated world delivers that SAB
//   to the page's world shared (not copied, not refused) on app:// with COOP/COEP; that the
//   utilityProcess can listen in the VM's runtime dir. If the postMessage is refused, the fallback
//   is the pixel path (do not ack), not disabling contextIsolation.
//
// Requirements: the addon cannot load in a sandboxed preload, so a zero-copy VM window is created
// with `sandbox: false` (contextIsolation stays on); this file is loaded lazily by the preload
// only then. contextBridge cannot pass a SharedArrayBuffer (values are copied), so the view goes
// by window.postMessage from the isolated world to the page's own window (one agent: same thread,
// same origin, cross-origin isolated), where structured clone shares a SAB instead of copying.
// Runs on the renderer's main thread, in the preload's isolated world.
import { SurfaceShareClient, type SharedSurface } from '../../display/surface-share-client.js';

/** What the page receives with window 'message' events (check event.source === window). */
export interface SharedSurfacePageMessage {
  kju: 'shared-surface';
  /** the `sharedSurfaceKey` of the DisplayStream this belongs to */
  key: string;
  surfaceId: number;
  /** B,G,R,X rows of `stride` bytes, aliasing QEMU's memfd; reads zeros once released */
  view: Uint8Array;
  stride: number;
}

export interface SharedSurfaceOfferLike {
  socketPath: string;
  token: string;
}

/**
 * Connects and forwards every mapped surface: `onSurface` (the preload's stream bookkeeping) first,
 * then the page message, and only then does the client acknowledge. Returns the client (close()
 * releases every mapping).
 */
export function startSharedSurfaces(
  offer: SharedSurfaceOfferLike,
  key: string,
  post: (m: SharedSurfacePageMessage) => void,
  onSurface: (s: SharedSurface) => void,
  onError: (message: string) => void,
): SurfaceShareClient {
  const client = new SurfaceShareClient(offer.socketPath, offer.token);
  client.on('surface', (s) => {
    onSurface(s);
    post({ kju: 'shared-surface', key, surfaceId: s.id, view: s.view, stride: s.stride });
  });
  client.on('error', (err) => onError(err.message));
  return client;
}

// Messages between a display's listener worker (which serves QEMU's org.qemu.Display1.Listener on
// its own event loop) and the thread that owns the DbusDisplay. Same process: SharedArrayBuffer
// views cross without copying.
import type { CursorShape, Rect, SurfaceInfo } from '../../common/contract.js';

export interface ListenerWorkerData {
  /** our end of the listener socketpair; the worker takes ownership */
  fd: number;
  /** for log lines */
  name: string;
  /** Float64Array over a SharedArrayBuffer, indexed by StatIndex; written by the worker only */
  stats: SharedArrayBuffer;
}

export const StatIndex = {
  /** UpdateMap + Update calls received */
  updates: 0,
  /** pixel bytes received inline (copy path: Scanout + Update data) */
  inlineBytes: 1,
  /** ScanoutMap + Scanout calls received */
  scanouts: 2,
  /** damage batches posted to the owner */
  batches: 3,
  /** bytes copied by kju on the Node side (copy path into the surface buffer) */
  copiedBytes: 4,
  /** calls decoded by the fixed-layout fast path (UpdateMap, MouseSet) rather than dbus-native */
  fixedCalls: 5,
} as const;
export const STAT_COUNT = 6;

export type WorkerToOwner =
  /** the client side of the D-Bus handshake is under way: RegisterListener may be called now */
  | { t: 'handshake-started' }
  | { t: 'connected' }
  /**
   * A new surface. Map transport: `memfd` is QEMU's memfd (fds are process-wide) with the offset of
   * the surface in it; from this message on the owner owns that fd and must close it (DbusDisplay
   * does on the next surface or on close).
   */
  | { t: 'surface'; surface: SurfaceInfo; pixels: Uint8Array; reason?: string; memfd?: { fd: number; offset: number } }
  /** merged (at most 64) rects, all within the surface with that id */
  | {
      t: 'damage';
      surfaceId: number;
      rects: Rect[];
      /** wall clock (performance.timeOrigin + now(), ms) when the worker read the oldest update merged here */
      receivedAt: number;
    }
  | { t: 'cursor'; cursor: CursorShape }
  | { t: 'mouse'; x: number; y: number; visible: boolean }
  | { t: 'disabled' }
  | { t: 'closed'; reason: string };

export type OwnerToWorker =
  /** the owner has handled the last damage batch; the worker may post the next (merged) one */
  | { t: 'ack' }
  /** the owner no longer reads surfaces older than `id`: their mappings can be restored */
  | { t: 'release-before'; id: number }
  | { t: 'close' };

// Messages between the bench orchestrator (bench/run.ts) and the serving child
// (bench/serve-child.ts) over the child_process IPC channel. Only exchanged outside measured
// windows or at their edges, so the child's CPU is kju's display work and little else.
import type { DisplayStats } from '../main/display/dbus-display.js';
import type { FramePumpStats } from '../main/display/frame-pump.js';
import type { SurfaceShareStats } from '../main/display/surface-share.js';

export type ChildRequest =
  /** attach to a running QEMU over a QMP socket of its own, open its first graphic console and serve it */
  | { op: 'start'; mode: 'guest'; qmpPath: string; siteDir: string }
  /** serve a SyntheticDisplay (1024×768) that paints on 'paint' */
  | { op: 'start'; mode: 'synthetic'; siteDir: string }
  /**
   * attach like 'guest' and serve the real app's library page (siteDir: app/out/renderer) for one
   * running VM, answering listVms and thumbnail (thumbnail.ts, at most one a second) only
   */
  | { op: 'start'; mode: 'library'; qmpPath: string; siteDir: string }
  /** serve nothing: the Node idle floor */
  | { op: 'start'; mode: 'idle'; siteDir: string }
  /** settle damage attribution and read the counters (window edges) */
  | { op: 'mark' }
  /** damage records [from, to) of the current source, as [arrivedAt, frame] */
  | { op: 'records'; from: number; to: number }
  /** synthetic mode: paint one 256×256 rect at a time, `rate` per second, for `durationMs` */
  | { op: 'paint'; durationMs: number; rate: number }
  /**
   * guest mode, no serve viewer: open a display of its own with a surface-share server, a share
   * client mapping the memfd in this process, and a rect-only FramePump with a prompt sink
   * (kju-map-shared); mark() reports that pump until 'shared-close'
   */
  | { op: 'shared-open' }
  | { op: 'shared-close' }
  /** close everything and exit (writes --cpu-prof profiles) */
  | { op: 'exit' };

export interface StartReply {
  url: string;
}

export interface MarkReply {
  /** whether serve has a display open now (a viewer is attached) */
  open: boolean;
  /** damage records so far on the current source */
  records: number;
  /** the D-Bus display's counters (guest mode) */
  stats?: DisplayStats;
  transport?: string;
  transportNote?: string;
  /** the one viewer's packets and bytes so far */
  framesSent: number;
  bytesSent: number;
  /** this process's wall clock − the system clock, ms (wire.ts wallOffset) */
  clock: number;
  /** while the shared pump is open: its share client's socket bytes (both ways) and fds so far, frames built with pixels */
  share?: { clientBytes: number; fds: number; framesWithPixels: number };
}

export interface SharedOpenReply {
  /** the surface the share client holds (mapped and acknowledged) */
  surfaceId: number;
  transport?: string;
  width: number;
  height: number;
}

export interface SharedCloseReply {
  /** the client's mapping and the display's pixels hold the same bytes at close */
  viewMatches: boolean;
  clientBytes: number;
  fds: number;
  shareStats: SurfaceShareStats;
  framesWithPixels: number;
  pump: FramePumpStats;
}

export interface RecordsReply {
  /** per damage batch, Node wall clock ms: arrival on the Node thread, packet number, worker read its oldest update, packet left the pump */
  records: [arrivedAt: number, frame: number, receivedAt: number, sentAt: number][];
  clock: number;
}

export interface ExitReply {
  /** packets sent to viewers over the child's whole life (to divide profile time by) */
  framesSentTotal: number;
  /** bytes sent to viewers still connected at exit (normally 0: viewers are gone by then) */
  bytesSentTotal: number;
  updatesTotal: number;
}

export type ChildMessage = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string } | { t: 'log'; line: string };

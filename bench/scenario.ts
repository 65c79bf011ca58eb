// What one measured scenario produces, whichever path it ran through.
import type { Workload } from './workloads.js';

export type PathName = 'kju-map' | 'kju-copy' | 'kju-map-shared' | 'novnc' | 'none';

export const PATH_NOTES: Record<PathName, string> = {
  'kju-map': 'virtio-vga, D-Bus listener with ScanoutMap (memfd) → kju serve → WebSocket → renderer Viewer (blitter: /gl WebGL2, /2d Canvas 2D, as the page made it)',
  'kju-copy': '-vga std (bochs-drm), D-Bus listener with inline Update pixels → kju serve → WebSocket → renderer Viewer',
  'kju-map-shared':
    'virtio-vga, Node side only of the Electron zero-copy window (page side needs Electron): D-Bus listener with ScanoutMap (memfd) → surface-share server → share client mapping the memfd in the same Node process → FramePump with rect-only frames → a sink that pulls again on setImmediate; no serve, no browser',
  novnc: 'virtio-vga, QEMU -vnc with its WebSocket listener → noVNC 1.7.0 RFB (default settings, view only)',
  none: 'virtio-vga, no viewer attached: QEMU CPU baseline for the same workload',
};

export interface ScenarioResult {
  path: PathName;
  workload: Workload;
  /** guest framebuffer WxH */
  resolution: string;
  seconds: number;
  /** fullscreen only: full frames the guest wrote to /dev/fb0 per second (its own counter) */
  guestFramesPerSec?: number;
  /** updates QEMU emitted per second: D-Bus Update/UpdateMap calls (kju), FramebufferUpdates (noVNC) */
  emittedPerSec: number;
  /** Scanout/ScanoutMap calls per second (a new surface is a full-frame update too) (kju only) */
  scanoutsPerSec?: number;
  /** damage batches the listener worker handed to the Node thread per second (kju only) */
  batchesPerSec?: number;
  /** frames that reached the texture/canvas per second: packets uploaded (kju), flips with damage (noVNC) */
  deliveredPerSec: number;
  /** 1 − delivered/emitted, in % (emitted updates merged into a later frame, never shown on their own) */
  mergedPct: number;
  /**
   * CPU seconds over the window, per process group: node = the serving child (QMP attach, D-Bus
   * display + listener worker, kju serve), bench = the orchestrator (not charged to any path),
   * Chromium by process type (browserNet = browser process + network service), qemu.
   * Results of the old Playwright harness have browserOther (browser + network + other) instead.
   */
  cpu: { node: number; bench: number; renderer: number; gpu: number; browserNet: number; other: number; qemu: number };
  /** CPU ms per delivered frame */
  cpuMsPerFrame: { node: number; browser: number; qemu: number };
  /** % of one core over the window */
  cpuPct: { node: number; browser: number; qemu: number; bench: number };
  /** Node-side bytes per delivered frame: copied by the listener worker (copy path), FramePacket bytes built by serve */
  copiedBytesPerFrame?: number;
  packetBytesPerFrame?: number;
  /** inline pixel bytes QEMU pushed through the D-Bus socket per second */
  inlineBytesPerSec?: number;
  /** kju-map-shared: the share client's socket bytes (both ways) and fds over the window, packets built with pixels, view == display bytes at the end */
  share?: { clientBytes: number; fds: number; framesWithPixels: number; viewMatches: boolean };
  /** Node CPU ms per full frame the guest wrote (fullscreen), where packets are not full frames */
  nodeMsPerGuestFrame?: number;
  /** damage batch arrival on the Node thread → end of its texture upload in the page */
  latency?: { samples: number; medianMs: number; p99Ms: number; clockErrorMs: number; unsentAtEnd: number };
  /**
   * Latency by stage, per damage batch (kju browser paths): batch = the listener worker read the
   * batch's oldest update → the batch reached the Node thread (8 ms batching, ack wait); pump →
   * its packet left the FramePump (waiting for the page's pull); transport → the page received it
   * (WebSocket, across clocks); upload → end of the synchronous upload; present → end of the
   * blitter's next draw; total = worker read → present.
   */
  stages?: StageLatency;
  /** counts over the window at each hop (kju browser paths): where updates were merged or dropped */
  byStage?: { guestFrames?: number; updates: number; batches: number; packets: number; uploads: number; presents: number };
  /** which blitter the page used (kju browser paths) */
  blitter?: 'webgl' | 'canvas2d';
  /** in-page packet arrival → upload end, median ms */
  pageUploadMedianMs?: number;
  /** noVNC: pixel area carried per second (in frames of the guest size), and rects per encoding */
  vnc?: { fullFramesPerSec: number; encodings: Record<string, number> };
  notes: string[];
}

export const STAGES = ['batch', 'pump', 'transport', 'upload', 'present', 'total'] as const;
export type StageName = (typeof STAGES)[number];
export type StageLatency = Record<StageName, { samples: number; medianMs: number; p99Ms: number }>;

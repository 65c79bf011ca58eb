// Test page for e2e/viewer-port-refresh.test.ts (bundled by the test, not part of the app): the
// real Viewer fed by the real PortDisplayStream (the preload's class) over a DOM MessageChannel,
// whose other end is a scripted sender standing in for the display utility's FramePump.
import { encodeFramePacket } from '../common/frame-packet.js';
import type { SurfaceInfo, ViewerMessage } from '../common/contract.js';
import { PortDisplayStream, type PortLike } from '../main/electron/preload/port-display-stream.js';
import { Viewer } from '../renderer/display/viewer.js';
import { expectedRgba, firstDifference, makeCanvas, makeSurface } from '../renderer/testing/blitter-page.js';

export interface LossRestoreResult {
  skipped: boolean;
  /** the first frame was on screen, equal to the surface, before the loss */
  drawnBefore?: string;
  wasLost?: boolean;
  /** pixels after restore vs the surface: undefined when equal, else the first difference */
  afterRestore?: string;
  pulls?: number;
  refreshes?: number;
  framesSent?: number;
  /** anything the sender got that is not pull/refresh/input (the utility would close on it) */
  unexpected?: unknown[];
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(10);
  }
}

/** As the preload wraps the port it gets from main (main/electron/preload/preload.ts adaptPort). */
function adaptPort(port: MessagePort): PortLike {
  const adapter: PortLike = { onmessage: null, postMessage: (m) => port.postMessage(m), close: () => port.close() };
  port.onmessage = (e) => adapter.onmessage?.({ data: e.data });
  return adapter;
}

/**
 * Loses and restores the viewer's WebGL context after one full frame; the sender then sends nothing
 * new except what `refresh` asks for. `streamRefresh: false` is the stream as it was before refresh
 * joined the contract (the page's refresh reached nobody).
 */
async function lossAndRestore(o: { streamRefresh: boolean }): Promise<LossRestoreResult> {
  const w = 40,
    h = 24,
    stride = w * 4;
  const px = makeSurface(w, h, 9, stride);
  const surface: SurfaceInfo = { id: 1, width: w, height: h, stride, format: 0x20020888, transport: 'copy' };
  const { port1: pagePort, port2: senderPort } = new MessageChannel();

  // The sender: a whole-surface frame first and after each refresh, one frame per pull, no damage otherwise.
  const log = { pulls: 0, refreshes: 0, framesSent: 0, unexpected: [] as unknown[] };
  let fullPending = true;
  let pullPending = false;
  const flush = () => {
    if (!pullPending || !fullPending) return;
    pullPending = fullPending = false;
    log.framesSent++;
    senderPort.postMessage(encodeFramePacket(surface.id, [{ x: 0, y: 0, w, h }], { pixels: px, stride }));
  };
  senderPort.onmessage = (e) => {
    const m = e.data as ViewerMessage;
    if (m.t === 'pull') {
      log.pulls++;
      pullPending = true;
    } else if (m.t === 'refresh') {
      log.refreshes++;
      fullPending = true;
    } else if (m.t !== 'input') log.unexpected.push(m);
    flush();
  };
  senderPort.postMessage({ t: 'surface', surface });
  senderPort.postMessage({ t: 'input-mode', absolute: true, modifiers: 0 });

  const stream = new PortDisplayStream(adaptPort(pagePort)).toBridgeObject();
  const canvas = makeCanvas();
  const viewer = new Viewer({ canvas, blitter: 'webgl', stream: o.streamRefresh ? stream : { ...stream, refresh: () => {} } }); // it loses the GL context
  const want = expectedRgba(px, w, h, stride);
  try {
    await waitFor(() => log.framesSent === 1 && firstDifference(viewer.blitter.readPixels(), want, w) === undefined, 'first frame on screen');
    const drawnBefore = firstDifference(viewer.blitter.readPixels(), want, w);
    const ext = (canvas.getContext('webgl2') as WebGL2RenderingContext).getExtension('WEBGL_lose_context');
    if (!ext) return { skipped: true };
    const lost = new Promise((res) => canvas.addEventListener('webglcontextlost', res, { once: true }));
    ext.loseContext();
    await lost;
    // Chromium allows restoreContext only once the lost event's dispatch has returned.
    await sleep(0);
    const wasLost = viewer.blitter.isContextLost();
    const restored = new Promise((res) => canvas.addEventListener('webglcontextrestored', res, { once: true }));
    ext.restoreContext();
    await restored;
    if (o.streamRefresh) await waitFor(() => log.framesSent === 2, 'refreshed frame');
    // Let the port deliver whatever is coming (nothing more in the negative case) and the viewer draw it.
    await sleep(200);
    const afterRestore = firstDifference(viewer.blitter.readPixels(), want, w);
    return { skipped: false, drawnBefore, wasLost, afterRestore, pulls: log.pulls, refreshes: log.refreshes, framesSent: log.framesSent, unexpected: log.unexpected };
  } finally {
    viewer.destroy();
    senderPort.close();
  }
}

const api = { lossAndRestore };
export type PortRefreshPageApi = typeof api;
(window as unknown as { portRefresh: PortRefreshPageApi }).portRefresh = api;
document.title = 'port-refresh ready';

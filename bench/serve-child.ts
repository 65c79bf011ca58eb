// The serving side of a kju scenario, in a Node process of its own so that its /proc/<pid>/stat is
// kju's display work only: QMP attach (its own monitor socket), the D-Bus display and its listener
// worker, `kju serve` with the bench page, and the TimedSource that stamps damage arrival. The
// orchestrator (bench/run.ts) drives it over the IPC channel (serving-protocol.ts) only outside
// measured windows or at their edges. Started by bench/serving.ts; `--cpu-prof` applies here.
//
// 'shared' (kju-map-shared): the Node side of the Electron zero-copy window, without serve or a
// browser. A DbusDisplay of its own, a SurfaceShareServer with one ticket, a SurfaceShareClient in
// this same process mapping the memfd (what the VM window's preload does), and a FramePump whose
// frames carry rects only once the client holds the surface (as main/electron/utility/display-utility.ts
// wires it); its sink pulls again on setImmediate after each frame, like a renderer that pulls
// right after its upload. Nothing reads pixels per frame on this side.
import type { DbusDisplay } from '../main/display/dbus-display.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DisplayConnection } from '../main/display/display-connection.js';
import { FramePump } from '../main/display/frame-pump.js';
import { SurfaceShareClient } from '../main/display/surface-share-client.js';
import { SurfaceShareServer } from '../main/display/surface-share.js';
import type { DisplaySource } from '../main/display/display-source.js';
import { patternFor, SyntheticDisplay } from '../main/display/synthetic-display.js';
import { QmpClient } from '../main/qmp/qmp-client.js';
import { thumbnailPng } from '../main/display/thumbnail.js';
import { THUMBNAIL_INTERVAL_MS } from '../main/session/vm-session.js';
import type { VmSummary } from '../common/contract.js';
import type { ServeBackend } from '../main/backend/backend.js';
import { startServe, type ServeHandle } from '../main/serve/serve.js';
import type { ChildMessage, ChildRequest, ExitReply, MarkReply, RecordsReply, SharedCloseReply, SharedOpenReply, StartReply } from './serving-protocol.js';
import { nodeWall, TimedSource } from './timed-source.js';
import { wallOffset } from './wire.js';

const send = (m: ChildMessage) => process.send?.(m);
const log = (line: string) => send({ t: 'log', line });

let serve: ServeHandle | null = null;
let qmp: QmpClient | null = null;
let conn: DisplayConnection | null = null;
let synthetic: SyntheticDisplay | null = null;
let current: TimedSource | null = null;
const sources: TimedSource[] = [];
let openConsole: (() => Promise<DbusDisplay>) | null = null;

interface Shared {
  display: DbusDisplay;
  server: SurfaceShareServer;
  client: SurfaceShareClient;
  pump: FramePump;
  dir: string;
  /** frames the pump built with pixels (before the client held the surface) */
  withPixels: number;
}
let shared: Shared | null = null;

const clock = () => wallOffset(nodeWall, Date.now);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function backendFor(open: () => Promise<DisplaySource>): ServeBackend {
  return {
    call: async (method) => ({ ok: false, code: 'unknown-method', message: `${method} is not part of the bench` }),
    openDisplay: async (vmId, console) => {
      if ((vmId !== 'bench' && vmId !== 'synthetic') || console !== 0) return { ok: false, code: 'not-found', message: `no display ${vmId}:${console}` };
      const inner = await open();
      const src = new TimedSource(inner, () => serve?.viewers()[0]?.framesSent ?? 0);
      current = src;
      sources.push(src);
      src.once('closed', () => {
        if (current === src) current = null;
      });
      return { ok: true, value: src as DisplaySource };
    },
    onVmsChanged: () => () => {},
  };
}

/**
 * The library page's side of a VM list with one running VM: listVms and thumbnail, made the way
 * VmSession.thumbnail makes them (one display; a new PNG only after damage, at most one per THUMBNAIL_INTERVAL_MS).
 */
function libraryBackend(open: () => Promise<DbusDisplay>): ServeBackend {
  const vm: VmSummary = { id: 'bench', name: 'bench', state: 'running', displayDevice: 'virtio-vga', memoryMiB: 256, cpus: 1, accelerator: 'tcg' };
  let display: Promise<DbusDisplay> | null = null;
  let last: { at: number; png: string; stale: boolean } | null = null;
  return {
    call: async (method) => {
      if (method === 'listVms') return { ok: true, value: [vm] } as never;
      if (method !== 'thumbnail') return { ok: false, code: 'unknown-method', message: `${method} is not part of the bench` };
      if (!last || (last.stale && Date.now() - last.at >= THUMBNAIL_INTERVAL_MS)) {
        const first = !display;
        const d = await (display ??= open());
        if (first) for (const e of ['damage', 'surface'] as const) d.on(e, () => last && (last.stale = true));
        const s = d.surface;
        if (s) {
          if (!last) log(`library: first thumbnail asked for, from a ${s.width}x${s.height} surface`);
          last = { at: Date.now(), png: thumbnailPng(s).toString('base64'), stale: false };
        }
      }
      return { ok: true, value: last && { png: last.png, live: true } } as never;
    },
    openDisplay: async () => ({ ok: false, code: 'unknown-method', message: 'the library bench opens no VM window' }),
    onVmsChanged: () => () => {},
  };
}

async function start(r: Extract<ChildRequest, { op: 'start' }>): Promise<StartReply> {
  if (serve) throw new Error('already started');
  let backend: ServeBackend;
  if (r.mode === 'guest') {
    qmp = await QmpClient.connect(r.qmpPath);
    conn = await DisplayConnection.open(qmp, 'bench');
    const [consoleId] = await conn.graphicConsoles();
    if (consoleId === undefined) throw new Error('the guest has no graphic console');
    const c = conn;
    openConsole = async () => {
      const d = await c.openDisplay(consoleId);
      await d.waitForSurface(30_000);
      return d;
    };
    backend = backendFor(openConsole);
  } else if (r.mode === 'library') {
    qmp = await QmpClient.connect(r.qmpPath);
    const c = (conn = await DisplayConnection.open(qmp, 'bench'));
    const [consoleId] = await c.graphicConsoles();
    if (consoleId === undefined) throw new Error('the guest has no graphic console');
    backend = libraryBackend(() => c.openDisplay(consoleId));
  } else if (r.mode === 'synthetic') {
    const s = (synthetic = new SyntheticDisplay({ width: 1024, height: 768 }));
    backend = backendFor(async () => s);
  } else {
    backend = backendFor(async () => {
      throw new Error('the idle child serves no display');
    });
  }
  serve = await startServe({ backend, staticDir: r.siteDir, log: (l) => log(`serve: ${l}`) });
  return { url: serve.url };
}

function mark(): MarkReply {
  if (shared) {
    const { display: d, pump, client } = shared;
    const p = pump.stats();
    return {
      open: !d.closed,
      records: 0,
      stats: d.stats(),
      transport: d.surface?.transport,
      transportNote: d.transportNote,
      framesSent: p.framesSent,
      bytesSent: p.bytesSent,
      clock: clock(),
      share: { clientBytes: client.bytesReceived + client.bytesSent, fds: client.fdsReceived, framesWithPixels: shared.withPixels },
    };
  }
  const src = current;
  src?.settle();
  const v = serve?.viewers()[0];
  const d = src && !synthetic ? (src.inner as DbusDisplay) : undefined;
  return {
    open: !!src,
    records: src?.records.length ?? 0,
    stats: d?.stats(),
    transport: d?.surface?.transport,
    transportNote: d?.transportNote,
    framesSent: v?.framesSent ?? 0,
    bytesSent: v?.bytesSent ?? 0,
    clock: clock(),
  };
}

async function sharedOpen(): Promise<SharedOpenReply> {
  if (shared) throw new Error('the shared pump is already open');
  if (!openConsole) throw new Error('not in guest mode');
  const display = await openConsole();
  const dir = mkdtempSync(join(tmpdir(), 'kju-bench-share-'));
  let server: SurfaceShareServer | undefined;
  let client: SurfaceShareClient | undefined;
  try {
    server = SurfaceShareServer.listen(display, join(dir, 'share.sock'), { log });
    const ticket = server.admit();
    const held = new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the share client did not hold the surface within 10 s')), 10_000);
      ticket.once('held', (id) => {
        clearTimeout(t);
        resolve(id);
      });
    });
    client = new SurfaceShareClient(join(dir, 'share.sock'), ticket.token);
    client.on('error', (e) => log(`share client: ${e.message}`));
    const heldId = await held;
    const sh: Shared = { display, server, client, dir, withPixels: 0, pump: null as unknown as FramePump };
    // As the display utility wires it: pixels only for a surface the client does not hold.
    const pump = new FramePump(
      display,
      {
        message: () => {},
        // A prompt viewer: pull again as soon as this frame is "uploaded" (nothing to upload here).
        frame: () => setImmediate(() => pump.pull()),
      },
      {
        withPixels: (s) => {
          const px = !(s.transport === 'map' && ticket.holds(s.id));
          if (px) sh.withPixels++;
          return px;
        },
      },
    );
    ticket.on('lost', () => pump.refresh());
    sh.pump = pump;
    shared = sh;
    pump.start();
    pump.pull();
    return { surfaceId: heldId, transport: display.surface?.transport, width: display.surface?.width ?? 0, height: display.surface?.height ?? 0 };
  } catch (e) {
    client?.close();
    server?.close();
    display.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function sharedClose(): SharedCloseReply {
  const sh = shared;
  if (!sh) throw new Error('no shared pump open');
  shared = null;
  const s = sh.display.surface;
  const view = s ? sh.client.view(s.id) : undefined;
  // Two mappings of one memfd: the client's view and the display's own pixels show the same bytes.
  const viewMatches = !!(s && view && view.byteLength === s.pixels.byteLength && Buffer.compare(view, s.pixels) === 0);
  const reply: SharedCloseReply = {
    viewMatches,
    clientBytes: sh.client.bytesReceived + sh.client.bytesSent,
    fds: sh.client.fdsReceived,
    shareStats: sh.server.stats(),
    framesWithPixels: sh.withPixels,
    pump: sh.pump.stats(),
  };
  sh.pump.dispose();
  sh.client.close();
  sh.server.close();
  sh.display.close();
  rmSync(sh.dir, { recursive: true, force: true });
  return reply;
}

function records(from: number, to: number): RecordsReply {
  const src = current;
  if (!src) throw new Error('serve has no open display');
  src.settle();
  return { records: src.records.slice(from, to).map((r) => [r.arrivedAt, r.frame, r.receivedAt, r.sentAt]), clock: clock() };
}

async function paint(durationMs: number, rate: number): Promise<number> {
  const s = synthetic;
  if (!s) throw new Error('not in synthetic mode');
  const end = Date.now() + durationMs;
  let i = 0;
  for (; Date.now() < end; i++) {
    const x = (i * 197) % (1024 - 256);
    const y = (i * 131) % (768 - 256);
    s.paint([{ x, y, w: 256, h: 256 }], patternFor(i + 7));
    await sleep(1000 / rate);
  }
  return i;
}

async function exit(): Promise<ExitReply> {
  let framesSentTotal = 0;
  for (const s of sources) {
    s.settle();
    framesSentTotal += s.sentSeen;
  }
  const bytesSentTotal = serve?.viewers().reduce((a, v) => a + v.bytesSent, 0) ?? 0;
  const updatesTotal = sources.reduce((a, s) => a + ((s.inner as Partial<DbusDisplay>).stats?.().updates ?? 0), 0);
  if (shared) sharedClose();
  await serve?.close().catch(() => undefined);
  conn?.close('bench done');
  qmp?.close();
  synthetic?.close();
  return { framesSentTotal, bytesSentTotal, updatesTotal };
}

async function handle(r: ChildRequest): Promise<unknown> {
  switch (r.op) {
    case 'start':
      return start(r);
    case 'mark':
      return mark();
    case 'records':
      return records(r.from, r.to);
    case 'paint':
      return paint(r.durationMs, r.rate);
    case 'shared-open':
      return sharedOpen();
    case 'shared-close':
      return sharedClose();
    case 'exit':
      return exit();
  }
}

process.on('message', (m: { id: number; req: ChildRequest }) => {
  handle(m.req).then(
    (value) => {
      send({ id: m.id, ok: true, value });
      if (m.req.op === 'exit') setImmediate(() => process.exit(0)); // a normal exit writes --cpu-prof profiles
    },
    (e: unknown) => send({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
// The orchestrator died: do not linger (QEMU is its, and gets stopped there or by its exit hook).
process.on('disconnect', () => process.exit(0));

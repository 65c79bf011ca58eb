// The serving side of a kju scenario, in a Node process of its own so that its /proc/<pid>/stat is
// kju's display work only: QMP attach (its own monitor socket), the D-Bus display and its listener
// worker, `kju serve` with the bench page, and the TimedSource that stamps damage arrival. The
// orchestrator (bench/run.ts) drives it over the IPC channel (serving-protocol.ts) only outside
// measured windows or at their edges. Started by bench/serving.ts; `--cpu-prof` applies here.
import type { DbusDisplay } from '../main/display/dbus-display.js';
import { DisplayConnection } from '../main/display/display-connection.js';
import type { DisplaySource } from '../main/display/display-source.js';
import { patternFor, SyntheticDisplay } from '../main/display/synthetic-display.js';
import { QmpClient } from '../main/qmp/qmp-client.js';
import type { ServeBackend } from '../main/serve/serve-backend.js';
import { startServe, type ServeHandle } from '../main/serve/serve.js';
import type { ChildMessage, ChildRequest, ExitReply, MarkReply, RecordsReply, StartReply } from './serving-protocol.js';
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

const clock = () => wallOffset(nodeWall, Date.now);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function backendFor(open: () => Promise<DisplaySource>): ServeBackend {
  return {
    call: async (method) => ({ ok: false, code: 'unsupported', message: `${method} is not part of the bench` }),
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

async function start(r: Extract<ChildRequest, { op: 'start' }>): Promise<StartReply> {
  if (serve) throw new Error('already started');
  let backend: ServeBackend;
  if (r.mode === 'guest') {
    qmp = await QmpClient.connect(r.qmpPath);
    conn = await DisplayConnection.open(qmp, 'bench');
    const [consoleId] = await conn.graphicConsoles();
    if (consoleId === undefined) throw new Error('the guest has no graphic console');
    const c = conn;
    backend = backendFor(async () => {
      const d = await c.openDisplay(consoleId);
      await d.waitForSurface(30_000);
      return d;
    });
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

function records(from: number, to: number): RecordsReply {
  const src = current;
  if (!src) throw new Error('serve has no open display');
  src.settle();
  return { records: src.records.slice(from, to).map((r) => [r.arrivedAt, r.frame]), clock: clock() };
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

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { DisplayMessage, BackendArgs, BackendMethod, BackendValue, Result, SurfaceInfo, VmSummary } from '../../common/contract.js';
import { decodeFramePacket } from '../../common/frame-packet.js';
import { SyntheticDisplay } from '../display/synthetic-display.js';
import { CLIPBOARD_IFACE, CLIPBOARD_PATH, GuestClipboard, TEXT_MIME } from '../display/guest-clipboard.js';
import { EventEmitter } from 'node:events';
import type { DisplaySource } from '../display/display-source.js';
import { SERVE_PROTOCOL, serveProtocols } from '../../common/serve-auth.js';
import type { ServeBackend } from '../backend/backend.js';
import { LocalBackend } from '../backend/local-backend.js';
import type { SessionManager } from '../session/session-manager.js';
import { startServe, type ServeHandle } from './serve.js';

const site = mkdtempSync(join(tmpdir(), 'kju-serve-test-'));
writeFileSync(join(site, 'index.html'), '<!doctype html><script src="index.js" type="module"></script>');
writeFileSync(join(site, 'index.js'), 'console.log(1)');
mkdirSync(join(site, 'sub.js'));
writeFileSync(join(site, '.hidden.js'), 'secret');
const outside = mkdtempSync(join(tmpdir(), 'kju-serve-outside-'));
writeFileSync(join(outside, 'secret.txt'), 'secret');
writeFileSync(join(outside, 'secret.js'), 'secret');
symlinkSync(join(outside, 'secret.js'), join(site, 'link.js'));
after(() => {
  rmSync(site, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const vm: VmSummary = { id: 'vm1', name: 'Test', state: 'running', displayDevice: 'dbus', memoryMiB: 256, cpus: 1 };

/** An in-test backend: VM 'vm1' console 0 is `display`; anything else cannot be opened. */
class TestBackend implements ServeBackend {
  displays = new Map<string, SyntheticDisplay>();
  opened = 0;
  private listeners = new Set<(vms: VmSummary[]) => void>();
  constructor(public makeDisplay: () => SyntheticDisplay) {}
  async call<M extends BackendMethod>(method: M, args: BackendArgs<M>): Promise<Result<BackendValue<M>>> {
    if (method === 'listVms') return { ok: true, value: [vm] as BackendValue<M> };
    if (method === 'startVm' && (args as BackendArgs<'startVm'>).id === 'boom') throw new Error('kaboom');
    return { ok: false, code: 'not-found', message: `no VM ${(args as { id: string }).id}` };
  }
  /** the VM's clipboard, when a test shares one */
  clipboard: GuestClipboard | null = null;
  async sharedClipboard(): Promise<Result<GuestClipboard | null>> {
    return { ok: true, value: this.clipboard };
  }
  async openDisplay(vmId: string, console: number): Promise<Result<DisplaySource>> {
    if (vmId !== 'vm1' || console !== 0) return { ok: false, code: 'not-found', message: `no display ${vmId}:${console}` };
    this.opened++;
    const d = this.makeDisplay();
    this.displays.set(`${vmId}:${console}`, d);
    return { ok: true, value: d };
  }
  onVmsChanged(cb: (vms: VmSummary[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  emitVms(vms: VmSummary[]): void {
    for (const cb of this.listeners) cb(vms);
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A Node-side viewer that reconstructs the surface from frames, like the browser does. */
class Viewer {
  ws: WebSocket;
  messages: DisplayMessage[] = [];
  frames = 0;
  lastRects: { x: number; y: number; w: number; h: number }[] = [];
  surface: SurfaceInfo | null = null;
  pixels = new Uint8Array(0);
  closed: { code: number; reason: string } | null = null;
  autoPull: boolean;
  errors: string[] = [];
  constructor(serve: ServeHandle, opts: { autoPull?: boolean; path?: string } = {}) {
    this.autoPull = opts.autoPull ?? true;
    this.ws = new WebSocket(`ws://127.0.0.1:${serve.port}${opts.path ?? '/ws/display?vm=vm1&console=0'}`, serveProtocols(serve.token), { origin: serve.origin });
    this.ws.binaryType = 'arraybuffer';
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const m = JSON.parse(String(data)) as DisplayMessage;
        this.messages.push(m);
        if (m.t === 'surface') {
          this.surface = m.surface;
          this.pixels = new Uint8Array(m.surface.width * m.surface.height * 4);
        }
        if (m.t === 'input-mode' && this.autoPull && this.messages.filter((x) => x.t === 'input-mode').length === 1) this.pull();
        return;
      }
      this.frames++;
      try {
        const f = decodeFramePacket(data as ArrayBuffer, this.surface!);
        assert.equal(f.surfaceId, this.surface!.id);
        this.lastRects = f.rects;
        f.rects.forEach((r, i) => {
          for (let y = 0; y < r.h; y++) this.pixels.set(f.pixels![i].subarray(y * r.w * 4, (y + 1) * r.w * 4), ((r.y + y) * this.surface!.width + r.x) * 4);
        });
      } catch (e) {
        this.errors.push(String(e));
      }
      if (this.autoPull) this.pull();
    });
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    this.ws.on('error', () => {});
  }
  pull(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send('{"t":"pull"}');
  }
  opened(): Promise<void> {
    return until('viewer open', () => this.messages.length > 0 || this.closed !== null);
  }
  matches(d: SyntheticDisplay): boolean {
    const s = d.surface!;
    return !!this.surface && this.surface.id === s.id && Buffer.compare(Buffer.from(this.pixels), Buffer.from(d.snapshot())) === 0;
  }
}

async function withServe(fn: (serve: ServeHandle, backend: TestBackend, log: string[]) => Promise<void>, makeDisplay = () => new SyntheticDisplay({ width: 64, height: 48, rowPadding: 8 })) {
  const backend = new TestBackend(makeDisplay);
  const log: string[] = [];
  const serve = await startServe({ backend, staticDir: site, log: (l) => log.push(l) });
  try {
    await fn(serve, backend, log);
  } finally {
    await serve.close();
  }
}

function get(
  serve: ServeHandle,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: serve.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** The status of an upgrade offering `protocols`; 101 also checks the server answered the fixed protocol only. */
function upgradeStatus(url: string, headers: Record<string, string>, protocols: string[] = []): Promise<number> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.on('unexpected-response', (_req, res) => {
      ok(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('open', () => {
      ws.close();
      ok(ws.protocol === SERVE_PROTOCOL ? 101 : -1);
    });
    ws.on('error', (e) => fail(e));
  });
}

test('static files need no token and set no cookie; the URL carries a fresh token in its fragment', async () => {
  let first = '';
  await withServe(async (serve) => {
    assert.match(serve.url, new RegExp(`^http://127\\.0\\.0\\.1:${serve.port}/#token=[A-Za-z0-9_-]{43}$`));
    assert.equal(serve.url, `${serve.origin}/#token=${serve.token}`);
    first = serve.token;
    assert.equal(serve.warning, null);
    for (const path of ['/', `/?token=${serve.token}`, '/?token=wrong']) {
      const page = await get(serve, path);
      assert.equal(page.status, 200, path);
      assert.match(page.body, /<script/);
      assert.equal(page.headers['set-cookie'], undefined, path);
    }
    const js = await get(serve, '/index.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['set-cookie'], undefined);
  });
  await withServe(async (serve) => assert.notEqual(serve.token, first, 'every start gets its own token'));
});

test('every response carries isolation, CSP and nosniff headers', async () => {
  await withServe(async (serve) => {
    for (const path of [`/?token=${serve.token}`, `/index.js?token=${serve.token}`, `/missing.js?token=${serve.token}`, '/']) {
      const r = await get(serve, path);
      assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin', path);
      assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp', path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /frame-ancestors 'none'/);
    }
  });
});

test('no path leaves the static root, lists a directory or reaches a dotfile or symlink out', async () => {
  await withServe(async (serve) => {
    const t = `token=${serve.token}`;
    const attempts = [
      '/../secret.txt',
      '/..%2f..%2fetc%2fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/%2e%2e%2fsecret.js',
      '/..\\secret.js',
      '/%5c..%5csecret.js',
      '/sub.js',
      '/sub.js/',
      '/.hidden.js',
      '/link.js',
      '//etc/passwd',
      '/index.html%00.js',
      '/%ff.js',
      `/${'../'.repeat(8)}etc/passwd`,
      '/package.json',
      '/index.ts',
    ];
    for (const p of attempts) {
      const r = await get(serve, `${p}?${t}`);
      assert.equal(r.status, 404, `${p} → ${r.status}`);
      assert.doesNotMatch(r.body, /secret|root:/);
    }
    assert.equal((await get(serve, `/?${t}`, {}, 'POST')).status, 405);
    assert.equal((await get(serve, `/index.js?${t}`, {}, 'HEAD')).status, 200);
  });
});

test('WebSocket upgrades need the token and the served Origin', async () => {
  await withServe(async (serve) => {
    const base = `ws://127.0.0.1:${serve.port}`;
    const o = { origin: serve.origin };
    const p = serveProtocols(serve.token);
    assert.equal(await upgradeStatus(`${base}/ws/backend`, o), 401);
    assert.equal(await upgradeStatus(`${base}/ws/backend`, o, serveProtocols('nope-nope-nope-nope')), 401);
    assert.equal(await upgradeStatus(`${base}/ws/backend`, o, [SERVE_PROTOCOL]), 401);
    // The old ways no longer work: the token in the socket URL, or a cookie.
    assert.equal(await upgradeStatus(`${base}/ws/backend?token=${serve.token}`, o, [SERVE_PROTOCOL]), 401);
    assert.equal(await upgradeStatus(`${base}/ws/backend`, { ...o, cookie: `kju_token_${serve.port}=${serve.token}` }, [SERVE_PROTOCOL]), 401);
    assert.equal(await upgradeStatus(`${base}/ws/display?vm=vm1`, o), 401);
    assert.equal(await upgradeStatus(`${base}/ws/backend`, { origin: 'http://evil.example' }, p), 403);
    assert.equal(await upgradeStatus(`${base}/ws/backend`, { origin: `http://127.0.0.1:${serve.port + 1}` }, p), 403);
    assert.equal(await upgradeStatus(`${base}/ws/backend`, {}, p), 403);
    assert.equal(await upgradeStatus(`${base}/ws/display?vm=vm1`, { origin: 'http://evil.example' }, p), 403);
    assert.equal(await upgradeStatus(`${base}/ws/elsewhere`, o, p), 404);
    assert.equal(await upgradeStatus(`${base}/ws/display`, o, p), 400);
    assert.equal(await upgradeStatus(`${base}/ws/backend`, o, p), 101);
    assert.equal(await upgradeStatus(`${base}/ws/backend`, o, [...p].reverse()), 101);
    assert.equal(serve.stats().upgradesRefused, 12);
  });
});

test('backend socket: calls, error replies, pushed VM lists, fatal garbage', async () => {
  await withServe(async (serve, backend, log) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws/backend`, serveProtocols(serve.token), { origin: serve.origin });
    const got: Record<string, unknown>[] = [];
    let closed: number | null = null;
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    ws.on('close', (c) => (closed = c));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ id: 1, method: 'listVms', args: {} }));
    ws.send(JSON.stringify({ id: 2, method: 'startVm', args: { id: 'nope' } }));
    ws.send(JSON.stringify({ id: 3, method: 'startVm', args: { id: 'boom' } }));
    ws.send(JSON.stringify({ id: 4, method: 'dropTables', args: {} }));
    ws.send(JSON.stringify({ id: 5, method: 'stopVm', args: { id: 7 } }));
    await until('5 replies', () => got.length === 5);
    const byId = new Map(got.map((m) => [m.id, m.result as Result<unknown>]));
    assert.deepEqual(byId.get(1), { ok: true, value: [vm] });
    assert.equal(byId.get(2)?.ok === false && byId.get(2)?.ok === false && (byId.get(2) as { code: string }).code, 'not-found');
    assert.deepEqual(byId.get(3), { ok: false, code: 'internal', message: 'kaboom' });
    assert.equal((byId.get(4) as { code: string }).code, 'unknown-method');
    assert.equal((byId.get(5) as { code: string }).code, 'bad-args');
    backend.emitVms([{ ...vm, state: 'paused' }]);
    await until('vms push', () => got.length === 6);
    assert.deepEqual(got[5], { t: 'vms', vms: [{ ...vm, state: 'paused' }] });
    ws.send('{"id":6,');
    await until('close', () => closed !== null);
    assert.equal(closed, 1008);
    assert.equal(serve.stats().protocolViolations, 1);
    assert.ok(log.some((l) => l.includes('invalid JSON')));
  });
});

test('display: surface, input-mode, then no frame until pulled; frames rebuild the surface exactly', async () => {
  await withServe(async (serve, backend) => {
    const v = new Viewer(serve, { autoPull: false });
    await v.opened();
    const d = backend.displays.get('vm1:0')!;
    d.setCursor({ width: 2, height: 1, hotX: 0, hotY: 0, pixels: new Uint8Array(8).fill(7) });
    await until('cursor', () => v.messages.some((m) => m.t === 'cursor'));
    assert.deepEqual(
      v.messages.slice(0, 2).map((m) => m.t),
      ['surface', 'input-mode'],
    );
    assert.equal(v.surface?.stride, 64 * 4 + 8, 'the surface message carries the source stride');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(v.frames, 0);
    v.pull();
    await until('first frame', () => v.frames === 1);
    assert.ok(v.matches(d));
    d.paint([{ x: 1, y: 2, w: 3, h: 4 }], () => 0xff0000ff);
    d.paint([{ x: 4, y: 2, w: 3, h: 4 }], () => 0xff00ff00);
    d.paint([{ x: 50, y: 40, w: 5, h: 5 }], () => 0xffff0000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(v.frames, 1, 'no frame without a pull');
    assert.equal(serve.viewers()[0].queuedRects, 2, 'adjacent damage merged');
    v.pull();
    await until('second frame', () => v.frames === 2);
    assert.ok(v.matches(d));
    assert.deepEqual(v.lastRects.length, 2);
    v.ws.send('{"t":"refresh"}');
    v.pull();
    await until('refreshed frame', () => v.frames === 3);
    assert.deepEqual(v.lastRects, [{ x: 0, y: 0, w: 64, h: 48 }]);
    const cursor = v.messages.find((m) => m.t === 'cursor');
    assert.equal(cursor?.t === 'cursor' && (cursor.cursor.pixels as unknown), Buffer.alloc(8, 7).toString('base64'), 'cursor pixels travel as base64');
    assert.deepEqual(v.errors, []);
    v.ws.close();
  });
});

test('inputs reach the source; abs outside the surface is dropped; the last viewer leaving closes the source', async () => {
  await withServe(async (serve, backend) => {
    const v = new Viewer(serve);
    await v.opened();
    const d = backend.displays.get('vm1:0')!;
    const inputs = [
      { t: 'key', down: true, qnum: 0x1c },
      { t: 'abs', x: 63, y: 47 },
      { t: 'abs', x: 64, y: 0 },
      { t: 'button', down: false, button: 2 },
    ];
    for (const input of inputs) v.ws.send(JSON.stringify({ t: 'input', input }));
    await until('inputs', () => d.inputs.length === 3);
    assert.deepEqual(d.inputs, [inputs[0], inputs[1], inputs[3]]);
    await until('drop counted', () => serve.viewers()[0]?.inputsDropped === 1);
    const second = new Viewer(serve);
    await second.opened();
    assert.equal(backend.opened, 1, 'viewers of one console share one source');
    assert.equal(serve.stats().displayViewers, 2);
    v.ws.close();
    second.ws.close();
    await until('source closed', () => d.closed);
    assert.equal(serve.stats().openDisplays, 0);
  });
});

test('a display that cannot open closes with 4404 and says why; a source that ends tells its viewers', async () => {
  await withServe(async (serve, backend) => {
    const bad = new Viewer(serve, { path: '/ws/display?vm=ghost&console=0' });
    await until('closed', () => bad.closed !== null);
    assert.equal(bad.closed!.code, 4404);
    assert.deepEqual(bad.messages, [{ t: 'closed', reason: 'no display ghost:0' }]);
    const v = new Viewer(serve);
    await v.opened();
    backend.displays.get('vm1:0')!.close('QEMU exited');
    await until('closed', () => v.closed !== null);
    assert.equal(v.closed!.code, 4000);
    assert.deepEqual(v.messages.at(-1), { t: 'closed', reason: 'QEMU exited' });
  });
});

test('garbage closes only the client that sent it', async () => {
  await withServe(async (serve, backend) => {
    const good = new Viewer(serve);
    await good.opened();
    const d = backend.displays.get('vm1:0')!;
    const stop = d.animate({ rate: 100 });
    const cases: [string, (ws: WebSocket) => void, number][] = [
      ['invalid JSON', (ws) => ws.send('{"t":'), 1008],
      ['unknown type', (ws) => ws.send('{"t":"explode"}'), 1008],
      ['bad key', (ws) => ws.send('{"t":"input","input":{"t":"key","down":true,"qnum":4096}}'), 1008],
      ['bad button', (ws) => ws.send('{"t":"input","input":{"t":"button","down":true,"button":42}}'), 1008],
      ['binary', (ws) => ws.send(Buffer.from([1, 2, 3])), 1003],
      ['huge', (ws) => ws.send(JSON.stringify({ t: 'pull', pad: 'x'.repeat(100_000) })), 1009],
    ];
    for (const [what, send, code] of cases) {
      const bad = new Viewer(serve, { autoPull: false });
      await bad.opened();
      send(bad.ws);
      await until(what, () => bad.closed !== null);
      assert.equal(bad.closed!.code, code, what);
    }
    const before = good.frames;
    await until('good viewer still receiving', () => good.frames > before + 5);
    stop();
    await new Promise((r) => setTimeout(r, 50));
    await until('good viewer converged', () => good.matches(d));
    assert.equal(good.closed, null);
    assert.equal(serve.stats().protocolViolations, cases.length);
    assert.equal(d.inputs.length, 0);
  });
});

test('a viewer that never pulls holds merged rects only and does not slow the others', async () => {
  await withServe(
    async (serve, backend) => {
      const slow = new Viewer(serve, { autoPull: false });
      await slow.opened();
      const fast = new Viewer(serve);
      await fast.opened();
      const d = backend.displays.get('vm1:0')!;
      const stop = d.animate({ rate: 200, rectsPerTick: 8, maxSide: 24, seed: 3 });
      const start = fast.frames;
      await new Promise((r) => setTimeout(r, 1000));
      const rate = fast.frames - start;
      const slowStats = serve.viewers().find((s) => s.framesSent === 0)!;
      stop();
      assert.ok(rate >= 60, `fast viewer got ${rate} frames in 1 s while damage came 200 times`);
      assert.ok(slowStats.queuedRects <= 64, `slow viewer queue ${slowStats.queuedRects}`);
      assert.ok(slowStats.bufferedAmount < 4096, `slow viewer buffered ${slowStats.bufferedAmount}`);
      await until('fast converged', () => fast.matches(d));
      slow.pull();
      await until('slow frame', () => slow.frames === 1);
      assert.ok(slow.matches(d), 'one pull brings the slow viewer up to date');
    },
    () => new SyntheticDisplay({ width: 320, height: 200 }),
  );
});

test('a resolution storm leaves every viewer with the final surface and a full frame of it', async () => {
  await withServe(async (serve, backend) => {
    const a = new Viewer(serve);
    const b = new Viewer(serve, { autoPull: false });
    await a.opened();
    await b.opened();
    const d = backend.displays.get('vm1:0')!;
    for (let i = 0; i < 100; i++) {
      d.setSurface(16 + ((i * 7) % 50), 8 + ((i * 5) % 40));
      if (i % 3 === 0) d.paint([{ x: 0, y: 0, w: 4, h: 4 }], () => 0xff123456 + i);
      await new Promise((r) => setTimeout(r, 10));
    }
    const final = d.setSurface(97, 61);
    d.paint([{ x: 90, y: 60, w: 7, h: 1 }], () => 0xffabcdef);
    await until('a converged', () => a.matches(d));
    b.pull();
    await until('b converged', () => b.matches(d));
    assert.equal(a.surface!.id, final.id);
    assert.deepEqual([a.errors, b.errors], [[], []]);
    // every frame followed the surface message it belongs to
    const lastSurface = b.messages.filter((m) => m.t === 'surface').at(-1);
    assert.equal(lastSurface?.t === 'surface' && lastSurface.surface.id, final.id);
  });
});

test('a backend client that floods requests and never reads is closed (1008); serve memory stays bounded', async () => {
  // ~6 KB per reply: unbounded, 20,000 unread replies would hold over 120 MB.
  const many: VmSummary[] = Array.from({ length: 50 }, (_, i) => ({ ...vm, id: `vm-${i}`, name: `Flood test VM number ${i}` }));
  const backend = new TestBackend(() => new SyntheticDisplay({ width: 8, height: 8 }));
  backend.call = (async () => ({ ok: true, value: many })) as TestBackend['call'];
  const log: string[] = [];
  const serve = await startServe({ backend, staticDir: site, log: (l) => log.push(l) });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws/backend`, serveProtocols(serve.token), { origin: serve.origin });
    await new Promise((r) => ws.once('open', r));
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.pause(); // never reads
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const request = JSON.stringify({ id: 1, method: 'listVms', args: {} });
    for (let i = 0; i < 20_000 && ws.readyState === ws.OPEN; i++) {
      ws.send(request);
      // Paced so that calls complete (the in-flight bound has its own test): only unread replies pile up.
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
      if (i % 500 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    await until('serve closed the client', () => serve.stats().backendClients === 0 || log.some((l) => /not reading its replies/.test(l))).catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(serve.stats())} ${log.join('; ')} rs=${ws.readyState} buf=${ws.bufferedAmount}`);
    });
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.ok(
      log.some((l) => /backend client closed: not reading its replies/.test(l)),
      log.join('\n'),
    );
    const grewMiB = (peak - rss0) / 2 ** 20;
    assert.ok(grewMiB < 60, `rss grew ${grewMiB.toFixed(1)} MiB`);
    socket.resume();
    assert.equal(await closed, 1008);
    await until('the client is gone', () => serve.stats().backendClients === 0);
    assert.equal(serve.stats().protocolViolations, 1);
  } finally {
    await serve.close();
  }
});

test('a backend client with too many calls in flight is closed (1008)', async () => {
  const backend = new TestBackend(() => new SyntheticDisplay({ width: 8, height: 8 }));
  backend.call = (() => new Promise(() => {})) as TestBackend['call']; // calls that never finish
  const log: string[] = [];
  const serve = await startServe({ backend, staticDir: site, log: (l) => log.push(l) });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws/backend`, serveProtocols(serve.token), { origin: serve.origin });
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    for (let i = 0; i < 200; i++) ws.send(JSON.stringify({ id: i, method: 'listVms', args: {} }));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(serve.stats().backendClients, 1, 'up to 200 calls in flight are fine');
    for (let i = 0; i < 100; i++) ws.send(JSON.stringify({ id: 200 + i, method: 'listVms', args: {} }));
    assert.equal(await closed, 1008);
    assert.ok(
      log.some((l) => /backend client closed: more than 256 calls in flight/.test(l)),
      log.join('\n'),
    );
  } finally {
    await serve.close();
  }
});

test('over /ws/backend, createVm and setCdrom cannot reach system files or devices (the LocalBackend path checks)', async () => {
  const touched: string[] = [];
  const sessions = {
    list: async () => [{ ...vm, state: 'stopped' }],
    listenerCount: () => 0,
    on: () => {},
    off: () => {},
    library: { root: site, get: async (id: string) => ({ config: { id, name: 'Test' }, dir: site }), edit: async () => void touched.push('edit') },
    setCdrom: async (_id: string, p: string | null) => (touched.push(`setCdrom ${p}`), vm),
  } as unknown as SessionManager;
  const serve = await startServe({ backend: new LocalBackend(sessions), staticDir: site, log: () => {} });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws/backend`, serveProtocols(serve.token), { origin: serve.origin });
    const replies = new Map<number, Result<unknown>>();
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { id?: number; result?: Result<unknown> };
      if (typeof m.id === 'number' && m.result) replies.set(m.id, m.result);
    });
    await new Promise((r) => ws.once('open', r));
    const base = { name: 'evil', preset: 'linux', memoryMiB: 128, cpus: 1, disk: { kind: 'none' } };
    const calls: [string, Record<string, unknown>][] = [
      ['createVm', { ...base, disk: { kind: 'existing', path: '/etc/shadow', mode: 'copy' } }],
      ['createVm', { ...base, disk: { kind: 'existing', path: '/dev/zero', mode: 'link' } }],
      ['createVm', { ...base, iso: '/etc/passwd' }],
      ['editVm', { id: 'vm1', changes: { cdrom: '/etc/passwd' } }],
      ['setCdrom', { id: 'vm1', path: '/dev/zero' }],
    ];
    calls.forEach(([method, args], i) => ws.send(JSON.stringify({ id: i, method, args })));
    await until('all replies', () => replies.size === calls.length);
    for (const [i, r] of replies) assert.deepEqual(r.ok ? 'ok' : [r.code, /--allow/.test(r.hint ?? '')], ['path-not-allowed', true], JSON.stringify(calls[i]));
    assert.deepEqual(touched, []);
    ws.close();
  } finally {
    await serve.close();
  }
});

test('clipboard: nothing crosses until the viewer turns sharing on; then guest text reaches it, its text reaches the guest, 10 MiB is refused with a notice', async () => {
  const calls: { member: string; body?: unknown[] }[] = [];
  const link = Object.assign(new EventEmitter(), {
    guestData: [TEXT_MIME, Buffer.from('vom Gast: äöü')] as unknown[],
    async call(_p: string, _i: string, member: string, opts: { body?: unknown[] } = {}) {
      calls.push({ member, body: opts.body });
      return member === 'Request' ? link.guestData : [];
    },
    reply() {},
    replyError() {},
  });
  const clipboard = await GuestClipboard.open(link, () => {});
  const guestGrab = () => link.emit('call', { type: 1, serial: 1, path: CLIPBOARD_PATH, interface: CLIPBOARD_IFACE, member: 'Grab', body: [0, 1, [TEXT_MIME]] });
  await withServe(async (serve, backend) => {
    backend.clipboard = clipboard;
    const v = new Viewer(serve);
    await v.opened();
    guestGrab();
    v.ws.send(JSON.stringify({ t: 'clipboard', text: 'unasked' }));
    await until('refusal', () => v.messages.some((m) => m.t === 'clipboard-state'));
    assert.deepEqual(
      v.messages.filter((m) => m.t === 'clipboard'),
      [],
      'no guest text before sharing is on',
    );
    assert.match((v.messages.find((m) => m.t === 'clipboard-state') as { notice: string }).notice, /sharing is off/);
    assert.equal(calls.filter((c) => c.member === 'Grab').length, 0, 'nothing reached the guest');
    v.ws.send(JSON.stringify({ t: 'clipboard-share', on: true }));
    await until('shared', () => v.messages.some((m) => m.t === 'clipboard-state' && m.shared));
    guestGrab();
    await until('guest text', () => v.messages.some((m) => m.t === 'clipboard'));
    assert.deepEqual(
      v.messages.filter((m) => m.t === 'clipboard'),
      [{ t: 'clipboard', text: 'vom Gast: äöü' }],
    );
    v.ws.send(JSON.stringify({ t: 'clipboard', text: 'vom Host: 日本語' }));
    await until('grab', () => calls.some((c) => c.member === 'Grab'));
    // 5 MiB fits the socket (6 MiB) but not the clipboard limit; a browser checks 10 MiB itself before sending
    v.ws.send(JSON.stringify({ t: 'clipboard', text: 'x'.repeat(5 * 1024 * 1024) }));
    await until('too large', () => v.messages.some((m) => m.t === 'clipboard-state' && /limit/.test(m.notice ?? '')));
    assert.equal(calls.filter((c) => c.member === 'Grab').length, 1, 'the oversized text did not reach the guest');
    assert.equal(v.closed, null, 'the viewer stays connected');
  });
});

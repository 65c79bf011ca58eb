// The owner-socket (kju.sock) codec and server, fed the way noVNC feeds its RFB tests: requests and
// replies split at every byte boundary, one byte at a time and in random chunks, plus malformed and
// over-long lines, and a real unix socket written to byte by byte.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JsonLinesError } from '../util/json-lines.js';
import { callOwner } from './owner-client.js';
import { encodeOwnerMessage, OwnerReplyDecoder, OwnerRequestDecoder, type OwnerApi, type OwnerReply, type OwnerRequest } from './owner-protocol.js';
import { answer, startOwnerServer } from './owner-server.js';
import { OwnerCallError, NoOwnerError } from './session-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-owner-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const REQUESTS: OwnerRequest[] = [
  { id: 1, method: 'status', params: {} },
  { id: 2, method: 'type', params: { text: 'grüße € 😀\n' } },
  { id: 3, method: 'screenshot', params: { path: '/tmp/ä b,c.png' } },
  { id: 4, method: 'lifecycle', params: { op: 'snapshot-create', tag: 'before update' } },
];
const REPLIES: OwnerReply[] = [
  { id: 1, ok: true, value: { name: 'Тест', pid: 42, ownerPid: 7, surface: { width: 1280, height: 800, transport: 'map' } } },
  { id: 2, ok: true, value: { keys: 11 } },
  { id: 3, ok: false, code: 'EINVAL', message: 'screenshot needs an absolute path — «ü»' },
  { id: 4, ok: true, value: { status: 'running', state: 'running' } },
];
const bytesOf = (msgs: (OwnerRequest | OwnerReply)[]) => Buffer.from(msgs.map(encodeOwnerMessage).join(''), 'utf8');

/** A seeded PRNG (mulberry32): the random splits are the same on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Decoder = { push(c: Uint8Array): unknown[] };
function feed(decoder: Decoder, chunks: Uint8Array[]): unknown[] {
  return chunks.flatMap((c) => decoder.push(c));
}

for (const [kind, msgs, make] of [
  ['requests', REQUESTS, (): Decoder => new OwnerRequestDecoder()],
  ['replies', REPLIES, (): Decoder => new OwnerReplyDecoder()],
] as const) {
  test(`${kind}: split at every byte boundary, and one byte at a time`, () => {
    const all = bytesOf([...msgs]);
    for (let i = 0; i <= all.length; i++) {
      assert.deepEqual(feed(make(), [all.subarray(0, i), all.subarray(i)]), msgs, `split at byte ${i}`);
    }
    assert.deepEqual(
      feed(
        make(),
        [...all].map((b) => Uint8Array.of(b)),
      ),
      msgs,
    );
  });

  test(`${kind}: 300 random splits`, () => {
    const all = bytesOf([...msgs]);
    const rnd = random(kind.length);
    for (let n = 0; n < 300; n++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < all.length;) {
        const len = 1 + Math.floor(rnd() * 40);
        chunks.push(all.subarray(at, at + len));
        at += len;
      }
      assert.deepEqual(feed(make(), chunks), msgs);
    }
  });
}

test('malformed lines: JSON that is no message is reported, not-JSON and over-long lines throw', async () => {
  const d = new OwnerRequestDecoder();
  const out = d.push('{"id":"x","method":"status"}\n[1,2]\n\n{"id":5,"method":"status"}\n');
  assert.equal(out.length, 3);
  assert.ok('bad' in out[0] && 'bad' in out[1]);
  assert.deepEqual(out[2], { id: 5, method: 'status', params: {} });
  const api = fakeApi();
  assert.deepEqual(await answer(api, out[0]), { id: -1, ok: false, code: 'EBADREQUEST', message: `malformed request (${(out[0] as { bad: string }).bad})` });
  assert.throws(() => new OwnerRequestDecoder().push('{"id": 1, nope\n'), JsonLinesError);
  const small = new OwnerReplyDecoder(64);
  assert.throws(() => small.push(`{"id":1,"ok":true,"value":"${'x'.repeat(100)}`), /longer than 64 bytes/);
  assert.deepEqual(new OwnerReplyDecoder().push('{"id":9,"ok":false}\n'), [{ id: 9, ok: false, code: 'EFAILED', message: 'failed' }]);
});

test('answer(): unknown methods and bad parameters are refused before the API sees them', async () => {
  const calls: string[] = [];
  const api = fakeApi(calls);
  assert.deepEqual(await answer(api, { id: 1, method: 'format-disk', params: {} }), { id: 1, ok: false, code: 'ENOMETHOD', message: 'unknown method format-disk' });
  assert.equal((await answer(api, { id: 2, method: 'screenshot', params: { path: 'rel.png' } })).ok, false);
  assert.equal((await answer(api, { id: 3, method: 'lifecycle', params: { op: 'format' } })).ok, false);
  assert.equal((await answer(api, { id: 4, method: 'stop', params: { force: true, timeoutMs: 'soon' } })).ok, false);
  // issue 13: type and key take strings only (a number, an object or an array used to be String()-ed and typed)
  for (const [i, params] of [{ text: 12 }, { text: { toString: 'x' } }, { text: ['a'] }, {}].entries()) {
    assert.deepEqual(await answer(api, { id: 10 + i, method: 'type', params }), { id: 10 + i, ok: false, code: 'EINVAL', message: 'type: text must be a string' });
  }
  assert.equal((await answer(api, { id: 20, method: 'key', params: { chord: 5 } })).ok, false);
  assert.deepEqual(calls, []);
  assert.deepEqual(await answer(api, { id: 5, method: 'type', params: { text: '12' } }), { id: 5, ok: true, value: { keys: 2 } });
  assert.deepEqual(calls, ['type 12']);
});

test('answer(): resize and screenshot take a head; sizes and heads that are not numbers are refused', async () => {
  const calls: string[] = [];
  const api = fakeApi(calls);
  for (const params of [
    { width: 0, height: 10 },
    { width: 10 },
    { width: '10', height: 10 },
    { width: 10.5, height: 10 },
    { width: 10, height: 10, head: -1 },
    { width: 10, height: 10, head: 'one' },
  ]) {
    const r = await answer(api, { id: 1, method: 'resize', params });
    assert.equal(r.ok, false, JSON.stringify(params));
  }
  assert.equal((await answer(api, { id: 2, method: 'screenshot', params: { path: '/x.png', head: 1.5 } })).ok, false);
  assert.deepEqual(calls, []);
  assert.deepEqual(await answer(api, { id: 3, method: 'resize', params: { width: 1000, height: 700, head: 1 } }), {
    id: 3,
    ok: true,
    value: { head: 1, requested: { width: 1000, height: 700 }, clamped: null, surface: { width: 1000, height: 700 } },
  });
  await answer(api, { id: 4, method: 'screenshot', params: { path: '/x.png' } });
  assert.deepEqual(calls, ['resize 1000x700 1', 'screenshot /x.png 0']);
});

test('forward and usb params are checked at the wire: bad ones never reach the API', async () => {
  const calls: string[] = [];
  const api = fakeApi(calls);
  const ok = async (method: string, params: unknown) => (await answer(api, { id: 1, method, params })).ok;
  assert.equal(await ok('forward', { op: 'add', forward: { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 } }), true);
  assert.equal(await ok('forward', { op: 'remove', forward: { proto: 'udp', hostAddr: '0.0.0.0', hostPort: 53 } }), true);
  assert.equal(await ok('forward', { op: 'list' }), true);
  assert.equal(await ok('forward', { op: 'add', forward: { proto: 'sctp', hostAddr: '127.0.0.1', hostPort: 1, guestPort: 1 } }), false);
  assert.equal(await ok('forward', { op: 'add', forward: { proto: 'tcp', hostAddr: 'x; quit', hostPort: 1, guestPort: 1 } }), false);
  assert.equal(await ok('forward', { op: 'add', forward: { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 70000, guestPort: 1 } }), false);
  assert.equal(await ok('usb', { op: 'attach', device: '046d:c52b' }), true);
  assert.equal(await ok('usb', { op: 'detach', device: '1-2.3' }), true);
  assert.equal(await ok('usb', { op: 'attach', device: 'hostbus=1' }), false);
  assert.equal(await ok('usb', { op: 'eject', device: '1-2' }), false);
  assert.equal(await ok('clipboard', { op: 'get' }), true);
  assert.equal(await ok('clipboard', { op: 'set', text: 'a\nü', waitMs: 500 }), true);
  assert.equal(await ok('clipboard', { op: 'set', text: 7 }), false);
  assert.equal(await ok('clipboard', { op: 'set', text: 'x', waitMs: -1 }), false);
  assert.equal(await ok('clipboard', { op: 'paste' }), false);
  assert.deepEqual(calls, [
    'forward add tcp:127.0.0.1:8080',
    'forward remove udp:0.0.0.0:53',
    'forward list',
    'usb attach 046d:c52b',
    'usb detach 1-2.3',
    'clipboard get',
    'clipboard set "a\\nü" 500',
  ]);
});

function fakeApi(calls: string[] = []): OwnerApi {
  return {
    status: async () => ({ name: 'fake', pid: 1, ownerPid: process.pid, surface: null }),
    screenshot: async ({ path, head }) => (calls.push(`screenshot ${path} ${head}`), { path, width: 1, height: 1, head: head ?? 0 }),
    resize: async ({ width, height, head }) => (calls.push(`resize ${width}x${height} ${head}`), { head: head ?? 0, requested: { width, height }, clamped: null, surface: { width, height } }),
    type: async ({ text }) => (calls.push(`type ${text}`), { keys: text.length }),
    key: async ({ chord }) => (calls.push(`key ${chord}`), { keys: 1 }),
    stop: async ({ force }) => (calls.push(`stop ${force}`), { stopped: true }),
    lifecycle: async (p) => (calls.push(`lifecycle ${p.op}`), { status: 'running', state: 'running' }),
    forward: async (p) => (calls.push(`forward ${p.op}${'forward' in p ? ` ${p.forward.proto}:${p.forward.hostAddr}:${p.forward.hostPort}` : ''}`), { forwards: [] }),
    usb: async (p) => (calls.push(`usb ${p.op}${'device' in p ? ` ${p.device}` : ''}`), { attached: [] }),
    clipboard: async (p) => (calls.push(`clipboard ${p.op}${'text' in p ? ` ${JSON.stringify(p.text)} ${p.waitMs}` : ''}`), p.op === 'get' ? { text: 'x' } : { delivered: false }),
  };
}

test('a real kju.sock: a request written one byte at a time is answered; a broken line ends the connection', async (t) => {
  const calls: string[] = [];
  const path = join(dir, 'kju.sock');
  const server = await startOwnerServer(path, fakeApi(calls));
  t.after(() => server.close());
  const exchange = (bytes: Buffer) =>
    new Promise<string>((resolve, reject) => {
      const sock = connect(path);
      let got = '';
      sock.on('data', (c) => (got += c.toString('utf8')));
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
      sock.on('connect', async () => {
        for (const b of bytes) {
          sock.write(Uint8Array.of(b));
          await new Promise((r) => setImmediate(r));
        }
        setTimeout(() => sock.end(), 50);
      });
    });
  const req = bytesOf([{ id: 7, method: 'key', params: { chord: 'ctrl-ä' } }]);
  assert.deepEqual(JSON.parse(await exchange(req)), { id: 7, ok: true, value: { keys: 1 } });
  assert.deepEqual(calls, ['key ctrl-ä']);
  const broken = JSON.parse(await exchange(Buffer.from('not json\n{"id":8,"method":"status"}\n')));
  assert.equal(broken.code, 'EBADREQUEST');
  assert.deepEqual(calls, ['key ctrl-ä'], 'nothing after the broken line ran');
  assert.deepEqual(await callOwner(path, 'stop', { force: true }), { stopped: true });
  await assert.rejects(callOwner(path, 'screenshot', { path: 'relative.png' }), (e: unknown) => e instanceof OwnerCallError && e.wireCode === 'EINVAL');
  await assert.rejects(callOwner(join(dir, 'nobody.sock'), 'status', {}), NoOwnerError);
});

test('callOwner decodes a reply that arrives one byte at a time, and refuses a broken one', async (t) => {
  const path = join(dir, 'slow.sock');
  let reply = bytesOf([REPLIES[0]]);
  const server = createServer((sock) =>
    sock.once('data', async () => {
      for (const b of reply) {
        sock.write(Uint8Array.of(b));
        await new Promise((r) => setImmediate(r));
      }
    }),
  );
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => server.close());
  assert.deepEqual(await callOwner(path, 'status', {}), REPLIES[0].ok && REPLIES[0].value);
  reply = Buffer.from('{"id": 1, broken\n');
  await assert.rejects(callOwner(path, 'status', {}), (e: unknown) => e instanceof OwnerCallError && e.wireCode === 'EBADREPLY');
});

// PeerConnection over a scripted stream that delivers a D-Bus p2p exchange (QEMU's side: SASL
// replies, then marshalled messages, two of them carrying an fd) split at every byte boundary,
// one byte at a time and in random splits, the way noVNC's fake websocket feeds its RFB tests.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { DbusCallError, DbusClosedError, MessageType, PeerConnection, plainDict, type DbusMessage } from './peer-connection.js';

const require = createRequire(import.meta.url);
const wire = require('dbus-native/lib/message.js') as {
  marshall(msg: Record<string, unknown>): Buffer;
  unmarshall(bytes: Buffer): Record<string, unknown>;
};

/** One chunk as the socket would hand it over: the fds arrive with it (the 'fds' event first). */
interface Chunk {
  bytes: Buffer;
  fds: number[];
}

/** A Duplex that records what the connection writes (with the fds given to writeWithFds) and
 *  delivers scripted chunks, each in its own macrotask so the reader sees every split. */
class ScriptedStream extends Duplex {
  readonly written: Chunk[] = [];
  private readonly fdsFor = new WeakMap<object, number[]>();

  writeWithFds(data: Uint8Array, fds: number[]): boolean {
    const chunk = Buffer.from(data);
    this.fdsFor.set(chunk, [...fds]);
    return this.write(chunk);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error) => void): void {
    this.written.push({ bytes: chunk, fds: this.fdsFor.get(chunk) ?? [] });
    done();
  }

  override _read(): void {}

  async deliver(chunks: Chunk[]): Promise<void> {
    for (const c of chunks) {
      if (this.destroyed) return;
      if (c.fds.length) this.emit('fds', c.fds);
      this.push(c.bytes);
      await nextMacrotask();
    }
  }
}

const FD_SURFACE_A = 1001;
const FD_SURFACE_B = 1002;
const FD_LISTENER = 7;
const CONSOLE = '/org/qemu/Display1/Console_0';
const LISTENER = '/org/qemu/Display1/Listener';
const MAP_IFACE = 'org.qemu.Display1.Listener.Unix.Map';

/** QEMU's side of the exchange: what it sends after our AUTH, NEGOTIATE_UNIX_FD and three calls. */
const serverMessages: Record<string, unknown>[] = [
  { type: MessageType.methodReturn, serial: 1, replySerial: 1 },
  {
    type: MessageType.methodCall,
    serial: 2,
    path: LISTENER,
    interface: MAP_IFACE,
    member: 'ScanoutMap',
    signature: 'huuuuu',
    body: [0, 0, 1280, 800, 5120, 0x20020888],
    fds: [FD_SURFACE_A],
  },
  { type: MessageType.methodCall, serial: 3, flags: 1, path: LISTENER, interface: MAP_IFACE, member: 'UpdateMap', signature: 'iiii', body: [10, 20, 30, 40] },
  { type: MessageType.methodReturn, serial: 4, replySerial: 2, signature: 'au', body: [[0, 1]] },
  {
    type: MessageType.methodCall,
    serial: 5,
    path: LISTENER,
    interface: MAP_IFACE,
    member: 'ScanoutMap',
    signature: 'huuuuu',
    body: [0, 4096, 800, 600, 3200, 0x20020888],
    fds: [FD_SURFACE_B],
  },
  { type: MessageType.error, serial: 6, replySerial: 3, errorName: 'org.qemu.Display1.Error.Unsupported', signature: 's', body: ['SetUIInfo is not supported'] },
  {
    type: MessageType.signal,
    serial: 7,
    path: CONSOLE,
    interface: 'org.freedesktop.DBus.Properties',
    member: 'PropertiesChanged',
    signature: 'sa{sv}as',
    body: ['org.qemu.Display1.Console', [['Width', ['u', 1024]]], []],
  },
];
const sasl = Buffer.from('OK 0123456789abcdef0123456789abcdef\r\nAGREE_UNIX_FD\r\n');
const encoded = serverMessages.map((m) => wire.marshall(m));
const exchange = Buffer.concat([sasl, ...encoded]);
/** [start, end) of each message in `exchange`, with the fds that travel with it */
const spans = encoded.map((bytes, i) => {
  const start = sasl.length + encoded.slice(0, i).reduce((n, b) => n + b.length, 0);
  return { start, end: start + bytes.length, fds: (serverMessages[i]!.fds as number[] | undefined) ?? [] };
});

/** Cuts `exchange` at `cuts`; each message's fds go on the chunk holding byte `fdAt(span)`. */
function chunksAt(cuts: number[], fdAt: (span: { start: number; end: number }) => number = (s) => s.start): Chunk[] {
  const bounds = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < exchange.length).sort((a, b) => a - b), exchange.length];
  const chunks = bounds.slice(1).map((end, i) => ({ bytes: exchange.subarray(bounds[i]!, end), fds: [] as number[], start: bounds[i]! }));
  for (const span of spans) {
    if (!span.fds.length) continue;
    const at = fdAt(span);
    chunks.find((c) => c.start <= at && at < c.start + c.bytes.length)!.fds.push(...span.fds);
  }
  return chunks.map(({ bytes, fds }) => ({ bytes, fds }));
}

interface Outcome {
  calls: Pick<DbusMessage, 'path' | 'interface' | 'member' | 'signature' | 'body' | 'fds' | 'flags'>[];
  signals: { member?: string; iface: unknown; changed: Record<string, unknown> }[];
  replies: unknown[];
  written: { type: unknown; member?: unknown; replySerial?: unknown; serial: unknown; fds: number[] }[];
  handshake: string;
}

/** Both ways to read QEMU's calls: dbus-native's general unmarshaller alone, and with the fast path
 *  for fixed-layout calls (UpdateMap here) in front of it. Every exchange test runs on both. */
const FIXED_CALLS = new Map([
  ['UpdateMap', 4],
  ['MouseSet', 3],
]);
const readers = [
  { name: 'general decoder', fixedCalls: undefined },
  { name: 'fixed-call fast path', fixedCalls: FIXED_CALLS },
];

async function runExchange(chunks: Chunk[], fixedCalls?: typeof FIXED_CALLS): Promise<Outcome> {
  const stream = new ScriptedStream();
  const conn = new PeerConnection(stream, { name: 'scripted', fixedCalls });
  const fastBefore = conn.fixedCallCount;
  const out: Outcome = { calls: [], signals: [], replies: [], written: [], handshake: '' };
  let expectedEvents = 4; // three calls answered or not, one signal
  let allEvents!: () => void;
  const events = new Promise<void>((resolve) => (allEvents = resolve));
  const seen = (): void => void (--expectedEvents === 0 && allEvents());
  conn.on('call', (m) => {
    out.calls.push({ path: m.path, interface: m.interface, member: m.member, signature: m.signature, body: m.body, fds: m.fds, flags: m.flags });
    conn.reply(m);
    seen();
  });
  conn.on('signal', (m) => {
    out.signals.push({ member: m.member, iface: m.body?.[0], changed: plainDict(m.body?.[1]) });
    seen();
  });
  const replies = Promise.allSettled([
    conn.call(CONSOLE, 'org.qemu.Display1.Console', 'RegisterListener', { signature: 'h', body: [0], fds: [FD_LISTENER] }),
    conn.call('/org/qemu/Display1/VM', 'org.qemu.Display1.VM', 'ConsoleIDs'),
    conn.call(CONSOLE, 'org.qemu.Display1.Console', 'SetUIInfo', { signature: 'qqiiuu', body: [0, 0, 0, 0, 1024, 768] }),
  ]);
  await Promise.all([stream.deliver(chunks), conn.ready]);
  out.replies = (await replies).map((r) => (r.status === 'fulfilled' ? r.value : r.reason instanceof DbusCallError ? r.reason.message : r.reason));
  await events;
  await nextMacrotask(); // let the corked replies reach _write

  const sent = Buffer.concat(stream.written.map((c) => c.bytes));
  const begin = sent.indexOf('BEGIN\r\n') + 'BEGIN\r\n'.length;
  out.handshake = sent.subarray(0, begin).toString('latin1');
  // Messages after BEGIN, each with the fds of the write that started it.
  let offset = 0;
  let pos = begin;
  const fdsAtByte = new Map<number, number[]>();
  for (const c of stream.written) {
    if (c.fds.length) fdsAtByte.set(offset, c.fds);
    offset += c.bytes.length;
  }
  while (pos < sent.length) {
    const bodyLen = sent.readUInt32LE(4 + pos);
    const fieldsLen = sent.readUInt32LE(12 + pos);
    const len = ((16 + fieldsLen + 7) & ~7) + bodyLen;
    const m = wire.unmarshall(sent.subarray(pos, pos + len));
    out.written.push({ type: m.type, member: m.member, serial: m.serial, replySerial: m.replySerial, fds: fdsAtByte.get(pos) ?? [] });
    pos += len;
  }
  // The fast path must have taken UpdateMap itself, not left it to dbus-native.
  assert.equal(conn.fixedCallCount - fastBefore, fixedCalls ? 1 : 0);
  conn.close();
  return out;
}

const uidHex = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
const expected: Outcome = {
  calls: [
    { path: LISTENER, interface: MAP_IFACE, member: 'ScanoutMap', signature: 'huuuuu', body: [0, 0, 1280, 800, 5120, 0x20020888], fds: [FD_SURFACE_A], flags: 0 },
    { path: LISTENER, interface: MAP_IFACE, member: 'UpdateMap', signature: 'iiii', body: [10, 20, 30, 40], fds: undefined, flags: 1 },
    { path: LISTENER, interface: MAP_IFACE, member: 'ScanoutMap', signature: 'huuuuu', body: [0, 4096, 800, 600, 3200, 0x20020888], fds: [FD_SURFACE_B], flags: 0 },
  ],
  signals: [{ member: 'PropertiesChanged', iface: 'org.qemu.Display1.Console', changed: { Width: 1024 } }],
  replies: [[], [[0, 1]], 'org.qemu.Display1.Error.Unsupported: SetUIInfo is not supported'],
  written: [
    { type: MessageType.methodCall, member: 'RegisterListener', serial: 1, replySerial: undefined, fds: [FD_LISTENER] },
    { type: MessageType.methodCall, member: 'ConsoleIDs', serial: 2, replySerial: undefined, fds: [] },
    { type: MessageType.methodCall, member: 'SetUIInfo', serial: 3, replySerial: undefined, fds: [] },
    // replies to the two ScanoutMaps; none to UpdateMap (NO_REPLY_EXPECTED)
    { type: MessageType.methodReturn, member: undefined, serial: 4, replySerial: 2, fds: [] },
    { type: MessageType.methodReturn, member: undefined, serial: 5, replySerial: 5, fds: [] },
  ],
  handshake: `\0AUTH EXTERNAL ${uidHex}\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n`,
};

for (const { name, fixedCalls } of readers)
  test(`the whole exchange in one chunk decodes to the calls, replies, signal and fds QEMU sent (${name})`, async () => {
    assert.deepEqual(await runExchange(chunksAt([]), fixedCalls), expected);
  });

for (const { name, fixedCalls } of readers)
  test(`one byte at a time, fds with the first byte of their message (${name})`, async () => {
    const all = Array.from({ length: exchange.length }, (_, i) => i);
    assert.deepEqual(await runExchange(chunksAt(all), fixedCalls), expected);
  });

for (const { name, fixedCalls } of readers)
  test(`split in two at every byte boundary (${name})`, async () => {
    for (let cut = 1; cut < exchange.length; cut++) {
      assert.deepEqual(await runExchange(chunksAt([cut]), fixedCalls), expected, `split at byte ${cut} of ${exchange.length}`);
    }
  });

for (const { name, fixedCalls } of readers)
  test(`random splits, fds on any chunk that holds a byte of their message (${name})`, async () => {
    let seed = 0x6b6a75;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let run = 0; run < 60; run++) {
      const cuts = Array.from({ length: 1 + random(40) }, () => random(exchange.length));
      const fdByte = new Map<number, number>();
      const chunks = chunksAt(cuts, (span) => {
        if (!fdByte.has(span.start)) fdByte.set(span.start, span.start + random(span.end - span.start));
        return fdByte.get(span.start)!;
      });
      assert.deepEqual(await runExchange(chunks, fixedCalls), expected, `run ${run}: cuts ${[...new Set(cuts)].sort((a, b) => a - b).join(',')}`);
    }
  });

test('a stream that closes in the middle of a message rejects every pending call', async () => {
  const stream = new ScriptedStream();
  const conn = new PeerConnection(stream, { name: 'scripted' });
  const pending = [
    conn.call(CONSOLE, 'org.qemu.Display1.Console', 'RegisterListener', { signature: 'h', body: [0], fds: [FD_LISTENER] }),
    conn.call('/org/qemu/Display1/VM', 'org.qemu.Display1.VM', 'ConsoleIDs'),
  ];
  const half = spans[0]!.start + 8;
  await stream.deliver(chunksAt(Array.from({ length: half + 1 }, (_, i) => i)).slice(0, half));
  await conn.ready;
  stream.destroy();
  for (const p of pending) await assert.rejects(p, (e: unknown) => e instanceof DbusClosedError && /closed/.test(e.message));
});

test('through the fast path, a message that cannot be framed closes the connection with an error (no crash)', async () => {
  const updateMap = encoded[2]!; // UpdateMap: taken by the fast path
  for (const mangle of [(b: Buffer) => (b[0] = 0x78), (b: Buffer) => (b[3] = 9), (b: Buffer) => b.writeUInt32LE(0xfffffff0, 4)]) {
    const stream = new ScriptedStream();
    const conn = new PeerConnection(stream, { name: 'scripted', fixedCalls: FIXED_CALLS });
    const calls: string[] = [];
    conn.on('call', (m) => calls.push(m.member ?? ''));
    const closed = new Promise<Error | undefined>((resolve) => conn.once('close', resolve));
    const bad = Buffer.from(updateMap);
    mangle(bad);
    await stream.deliver([{ bytes: sasl, fds: [] }]);
    await conn.ready;
    await stream.deliver([{ bytes: Buffer.concat([updateMap, bad, updateMap]), fds: [] }]);
    const err = await closed;
    assert.ok(err instanceof Error && /byte order|version|maximum size/i.test(err.message), String(err));
    assert.deepEqual(calls, ['UpdateMap'], 'the good call before the bad one is delivered, nothing after it');
  }
});

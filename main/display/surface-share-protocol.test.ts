// The surface-share socket's codec fed the way noVNC feeds its RFB tests: both directions one byte
// at a time, split at every boundary and at random, the memfd of each surface notice delivered on
// the chunk that holds a byte of its line (the server attaches it to the line's first byte).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeFd, fileSize, memfdCreate } from '../../native/index.js';
import {
  MAX_SHARE_LINE,
  ShareClientDecoder,
  ShareProtocolError,
  ShareServerDecoder,
  encodeLine,
  parseServerMessage,
  type ReceivedServerMessage,
  type ShareClientMessage,
  type ShareServerMessage,
} from './surface-share-protocol.js';

const FORMAT = 0x20020888;
const surfaceA = { t: 'surface', id: 1, width: 640, height: 480, stride: 2560, offset: 0, length: 2560 * 480, format: FORMAT } as const;
const surfaceB = { t: 'surface', id: 3, width: 1024, height: 768, stride: 4096, offset: 4096, length: 4096 * 768, format: FORMAT } as const;
const serverMessages: ShareServerMessage[] = [surfaceA, { t: 'unshared', id: 2 }, surfaceB, { t: 'refused', reason: 'revoked – bye' }];
const serverLines = serverMessages.map(encodeLine);
const serverBytes = Buffer.concat(serverLines);
const lineSpans = serverLines.map((l, i) => {
  const start = serverLines.slice(0, i).reduce((n, b) => n + b.length, 0);
  return { start, end: start + l.length };
});

const token = 'ab'.repeat(32);
const clientMessages: ShareClientMessage[] = [
  { t: 'token', token },
  { t: 'ack', id: 1 },
  { t: 'ack', id: 3 },
];
const clientBytes = Buffer.concat(clientMessages.map(encodeLine));

function seededRandom(seed: number): (n: number) => number {
  return (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
}

/** `bytes` cut at `cuts` (sorted, deduplicated, inside the buffer). */
function cut(bytes: Buffer, cuts: number[]): { start: number; bytes: Buffer }[] {
  const b = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((x, y) => x - y), bytes.length];
  return b.slice(1).map((end, i) => ({ start: b[i]!, bytes: bytes.subarray(b[i]!, end) }));
}

/** Real memfds standing in for QEMU's surfaces, sized so that each one is recognisable. */
function memfds(t: { after(fn: () => void): void }): number[] {
  const fds = [surfaceA, surfaceB].map((s) => memfdCreate(`kju-share-test-${s.id}`, s.offset + s.length));
  t.after(() => fds.forEach(closeFd));
  return fds;
}

/** Feeds the server's stream in `chunks`; surface k's fd comes with the chunk holding byte fdAt(k). */
function decodeServer(chunks: { start: number; bytes: Buffer }[], fds: number[], fdAt: (line: number) => number): ReceivedServerMessage[] {
  const d = new ShareServerDecoder();
  const fdLines = serverMessages.flatMap((m, i) => (m.t === 'surface' ? [i] : []));
  const out: ReceivedServerMessage[] = [];
  for (const c of chunks) {
    const here = fdLines.flatMap((line, k) => (fdAt(line) >= c.start && fdAt(line) < c.start + c.bytes.length ? [fds[k]!] : []));
    if (here.length) d.pushFds(here);
    // a fresh copy that is wiped afterwards: the decoder must not keep the caller's buffer
    const chunk = Buffer.from(c.bytes);
    out.push(...d.push(chunk));
    chunk.fill(0);
  }
  assert.deepEqual(d.takeUnclaimedFds(), [], 'every fd was claimed by its notice');
  return out;
}

function expectedServer(fds: number[]): ReceivedServerMessage[] {
  return [
    { ...surfaceA, fd: fds[0]! },
    { t: 'unshared', id: 2 },
    { ...surfaceB, fd: fds[1]! },
    { t: 'refused', reason: 'revoked – bye' },
  ];
}

function checkMemfds(out: ReceivedServerMessage[]): void {
  for (const m of out) if (m.t === 'surface') assert.equal(fileSize(m.fd), m.offset + m.length, `surface ${m.id} got its own memfd`);
}

test('server → client: one chunk, one byte at a time, every split in two; fds on their line’s first byte', (t) => {
  const fds = memfds(t);
  const firstByte = (line: number) => lineSpans[line]!.start;
  const runs = [
    { what: 'one chunk', cuts: [] as number[] },
    { what: 'one byte at a time', cuts: Array.from({ length: serverBytes.length }, (_, i) => i) },
    ...Array.from({ length: serverBytes.length - 1 }, (_, i) => ({ what: `split at ${i + 1}`, cuts: [i + 1] })),
  ];
  for (const run of runs) {
    const out = decodeServer(cut(serverBytes, run.cuts), fds, firstByte);
    assert.deepEqual(out, expectedServer(fds), run.what);
    checkMemfds(out);
  }
});

test('server → client: random splits, each fd on a random chunk of its own line', (t) => {
  const fds = memfds(t);
  const random = seededRandom(0x5eed);
  for (let run = 0; run < 200; run++) {
    const cuts = Array.from({ length: random(30) }, () => random(serverBytes.length));
    const at = lineSpans.map((s) => s.start + random(s.end - s.start));
    const out = decodeServer(cut(serverBytes, cuts), fds, (line) => at[line]!);
    assert.deepEqual(out, expectedServer(fds), `run ${run}: cuts ${cuts.join(',')}, fds at ${at.join(',')}`);
    checkMemfds(out);
  }
});

test('client → server: token and acks one byte at a time and in random splits', () => {
  const random = seededRandom(7);
  const runs = [Array.from({ length: clientBytes.length }, (_, i) => i), ...Array.from({ length: 100 }, () => Array.from({ length: random(20) }, () => random(clientBytes.length)))];
  for (const cuts of runs) {
    const d = new ShareClientDecoder();
    const out = cut(clientBytes, cuts).flatMap((c) => [...d.push(Buffer.from(c.bytes))]);
    assert.deepEqual(out, clientMessages, `cuts ${cuts.join(',')}`);
  }
});

test('a surface notice whose fd has not arrived by the end of its line is a protocol error, after the lines before it', () => {
  const d = new ShareServerDecoder();
  const got: ShareServerMessage['t'][] = [];
  assert.throws(
    () => {
      for (const m of d.push(Buffer.concat([encodeLine({ t: 'unshared', id: 1 }), encodeLine(surfaceA)]))) got.push(m.t);
    },
    (e: unknown) => e instanceof ShareProtocolError && /without its file descriptor/.test(e.message),
  );
  assert.deepEqual(got, ['unshared']);
});

test('lines over MAX_SHARE_LINE, non-JSON lines and malformed messages are protocol errors', () => {
  const long = Buffer.from(`{"t":"refused","reason":"${'x'.repeat(MAX_SHARE_LINE)}"}\n`);
  assert.throws(
    () => [...new ShareServerDecoder().push(long)],
    (e: unknown) => e instanceof ShareProtocolError && /longer than 1024/.test(e.message),
  );
  // one byte at a time it fails as soon as the line is too long, before its newline
  const d = new ShareServerDecoder();
  assert.throws(() => {
    for (let i = 0; i < long.length - 1; i++) Array.from(d.push(long.subarray(i, i + 1)));
  }, ShareProtocolError);
  assert.throws(
    () => [...new ShareServerDecoder().push(Buffer.from('hello\n'))],
    (e: unknown) => e instanceof ShareProtocolError && /not JSON/.test(e.message),
  );
  for (const bad of ['{"t":"token","token":"hello"}\n', `{"t":"token","token":"${token}","x":1}\n`, '{"t":"ack","id":"x"}\n', '{"t":"ack","id":-1}\n', '[1]\n']) {
    assert.throws(() => [...new ShareClientDecoder().push(Buffer.from(bad))], ShareProtocolError, bad);
  }
  assert.throws(() => parseServerMessage({ ...surfaceA, stride: 4 }), /stride\/length/);
  assert.throws(() => parseServerMessage({ ...surfaceA, width: 0 }), /out of range/);
  assert.throws(() => parseServerMessage({ t: 'frame' }), /unknown message type/);
});

// The fixed-layout fast path against dbus-native's general decoder: the same message for every
// valid call (random values, both byte orders, serials, header field orders and extra fields), and
// for every mutated one (truncated, bit-flipped, garbage) either null (the general decoder decides)
// or exactly what the general decoder returns — never a different answer, never a throw.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { decodeFixedCall, framedLength } from './fixed-call.js';

const require = createRequire(import.meta.url);
const dbusMessage = require('dbus-native/lib/message.js') as { unmarshall(b: Buffer, opts?: object): Record<string, unknown> };
const marshall = require('dbus-native/lib/marshall.js') as (signature: string, data: unknown[]) => Buffer;

const SPEC = new Map([
  ['UpdateMap', 4],
  ['MouseSet', 3],
]);
const OPTS = { ayBuffer: 'view', returnBigInt: false }; // the listener connection's decoder options
const general = (b: Buffer) => dbusMessage.unmarshall(b, OPTS);

let seed = 0x12fa57;
const random = (n: number): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const int32 = () => (random(0x10000) << 16) ^ random(0x10000) ^ (random(2) ? -0x80000000 : 0);
const pick = <T>(xs: readonly T[]): T => xs[random(xs.length)]!;
const shuffle = <T>(xs: T[]): T[] => {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
};

/**
 * A method call marshalled by dbus-native's own marshaller, with the header fields in any order
 * (the spec allows it; dbus-native's message marshaller always writes them in code order) and big
 * endian made by swapping every fixed-width value the layout holds.
 */
function encodeCall(o: { member: string; sig: string; body: number[]; serial: number; flags: number; fields: [number, string, unknown][]; big: boolean }): Buffer {
  const fields: [number, [string, unknown]][] = o.fields.map(([code, sig, v]) => [code, [sig, v]]);
  const body = o.sig ? marshall(o.sig, o.body) : Buffer.alloc(0);
  const head = marshall('yyyyuua(yv)', [0x6c, 1, o.flags, 1, body.length, o.serial, fields]);
  const padded = Buffer.concat([head, Buffer.alloc((8 - (head.length % 8)) % 8)]);
  const le = Buffer.concat([padded, body]);
  return o.big ? toBigEndian(le, o) : le;
}

/** rewrite a little-endian call of this layout as big endian (the layout is known, so each u32 can be swapped) */
function toBigEndian(le: Buffer, o: { sig: string; body: number[]; fields: [number, string, unknown][] }): Buffer {
  const b = Buffer.from(le);
  b[0] = 0x42;
  for (const at of [4, 8, 12]) b.writeUInt32BE(le.readUInt32LE(at), at);
  let pos = 16;
  for (const [, sig] of o.fields) {
    pos = Math.ceil(pos / 8) * 8 + 4;
    if (sig === 'g') pos += 1 + b[pos]! + 1;
    else if (sig === 'u') {
      b.writeUInt32BE(le.readUInt32LE(pos), pos);
      pos += 4;
    } else {
      const len = le.readUInt32LE(pos);
      b.writeUInt32BE(len, pos);
      pos += 4 + len + 1;
    }
  }
  const bodyStart = b.length - o.body.length * 4;
  for (let i = 0; i < o.body.length; i++) b.writeInt32BE(le.readInt32LE(bodyStart + 4 * i), bodyStart + 4 * i);
  return b;
}

const IFACES = ['org.qemu.Display1.Listener.Unix.Map', 'org.qemu.Display1.Listener', 'x.y'];
function randomCall(): Parameters<typeof encodeCall>[0] {
  const member = pick(['UpdateMap', 'MouseSet', 'UpdateMap', 'Scanout', 'Disable']);
  const count = member === 'UpdateMap' ? 4 : member === 'MouseSet' ? 3 : random(3);
  const sig = 'i'.repeat(count);
  const fields: [number, string, unknown][] = [
    [1, 'o', pick(['/org/qemu/Display1/Listener', '/', '/a/b_c'])],
    [3, 's', member],
  ];
  if (random(4)) fields.push([2, 's', pick(IFACES)]);
  if (sig) fields.push([8, 'g', sig]);
  if (!random(5)) fields.push([6, 's', ':1.' + random(100)]);
  if (!random(5)) fields.push([7, 's', 'org.qemu' + 'é'.repeat(random(3))]);
  return { member, sig, body: Array.from({ length: count }, int32), serial: 1 + random(0xfffffffe), flags: random(4), fields: shuffle(fields), big: random(2) === 1 };
}

test('every valid fixed-layout call decodes exactly as dbus-native decodes it, in both byte orders', () => {
  let fast = 0;
  for (let i = 0; i < 5000; i++) {
    const call = randomCall();
    const bytes = encodeCall(call);
    const expected = general(bytes);
    assert.equal(framedLength(bytes, 0, 1 << 20), bytes.length);
    const got = decodeFixedCall(bytes, SPEC);
    if (SPEC.get(call.member) === call.sig.length) {
      assert.deepEqual(got, expected, `call ${i}: ${JSON.stringify(call)}`);
      fast++;
    } else {
      assert.equal(got, null, `call ${i}: ${call.member}(${call.sig}) is not a fixed call`);
    }
  }
  assert.ok(fast > 2000, `only ${fast} of 5000 random calls were fixed-layout ones`);
});

test('QEMU’s UpdateMap as it arrives (160 bytes, NO_REPLY_EXPECTED) is recognised', () => {
  const call = {
    member: 'UpdateMap',
    sig: 'iiii',
    body: [0, 0, 1024, 768],
    serial: 42,
    flags: 1,
    big: false,
    fields: [
      [1, 'o', '/org/qemu/Display1/Listener'],
      [2, 's', 'org.qemu.Display1.Listener.Unix.Map'],
      [3, 's', 'UpdateMap'],
      [8, 'g', 'iiii'],
    ] as [number, string, unknown][],
  };
  const bytes = encodeCall(call);
  assert.equal(bytes.length, 160);
  assert.deepEqual(decodeFixedCall(bytes, SPEC), {
    serial: 42,
    type: 1,
    flags: 1,
    path: '/org/qemu/Display1/Listener',
    interface: 'org.qemu.Display1.Listener.Unix.Map',
    member: 'UpdateMap',
    signature: 'iiii',
    body: [0, 0, 1024, 768],
  });
});

test('calls that are not fixed-layout ones go to the general decoder', () => {
  const base = { serial: 7, flags: 0, big: false };
  const cases: Parameters<typeof encodeCall>[0][] = [
    {
      ...base,
      member: 'UpdateMap',
      sig: 'iiiu',
      body: [1, 2, 3, 4],
      fields: [
        [1, 'o', '/'],
        [3, 's', 'UpdateMap'],
        [8, 'g', 'iiiu'],
      ],
    },
    {
      ...base,
      member: 'UpdateMap',
      sig: 'iii',
      body: [1, 2, 3],
      fields: [
        [1, 'o', '/'],
        [3, 's', 'UpdateMap'],
        [8, 'g', 'iii'],
      ],
    },
    {
      ...base,
      member: 'UpdateMap',
      sig: 'iiii',
      body: [1, 2, 3, 4],
      fields: [
        [1, 'o', '/'],
        [3, 's', 'UpdateMap'],
        [8, 'g', 'iiii'],
        [9, 'u', 0],
      ],
    }, // UNIX_FDS
    {
      ...base,
      member: 'UpdateMap',
      sig: 'iiii',
      body: [1, 2, 3, 4],
      fields: [
        [1, 's', '/'],
        [3, 's', 'UpdateMap'],
        [8, 'g', 'iiii'],
      ],
    }, // path typed 's'
    {
      ...base,
      member: 'UpdateMap',
      sig: 'iiii',
      body: [1, 2, 3, 4],
      fields: [
        [1, 'o', '/'],
        [8, 'g', 'iiii'],
      ],
    }, // no member
  ];
  for (const c of cases) {
    const bytes = encodeCall(c);
    assert.doesNotThrow(() => general(bytes));
    assert.equal(decodeFixedCall(bytes, SPEC), null, JSON.stringify(c.fields));
  }
  // a method return, and a signal, with an UpdateMap-shaped body
  const call = encodeCall({
    ...base,
    member: 'UpdateMap',
    sig: 'iiii',
    body: [1, 2, 3, 4],
    fields: [
      [1, 'o', '/'],
      [3, 's', 'UpdateMap'],
      [8, 'g', 'iiii'],
    ],
  });
  for (const type of [2, 4]) {
    const other = Buffer.from(call);
    other[1] = type;
    assert.equal(decodeFixedCall(other, SPEC), null);
  }
});

/** the fast decoder's answer on mangled bytes: null, or the general decoder's exact answer */
function assertNoOtherAnswer(bytes: Buffer, what: string): 'fast' | 'general' | 'error' {
  let got: unknown;
  assert.doesNotThrow(() => (got = decodeFixedCall(bytes, SPEC)), what);
  let expected: unknown;
  let generalError: unknown;
  try {
    expected = general(bytes);
  } catch (err) {
    generalError = err;
  }
  if (got === null) return generalError ? 'error' : 'general';
  assert.equal(generalError, undefined, `${what}: the fast path decoded a message the general decoder rejects`);
  assert.deepEqual(got, expected, what);
  return 'fast';
}

test('truncated, bit-flipped and garbage messages: never a different answer, never a throw', () => {
  const seen = { fast: 0, general: 0, error: 0 };
  for (let i = 0; i < 1500; i++) {
    const call = randomCall();
    call.member = pick(['UpdateMap', 'MouseSet']);
    call.sig = 'i'.repeat(SPEC.get(call.member)!);
    call.body = Array.from({ length: call.sig.length }, int32);
    call.fields = call.fields.map(([c, s, v]) => (c === 3 ? [c, s, call.member] : c === 8 ? [c, s, call.sig] : [c, s, v]));
    if (!call.fields.some(([c]) => c === 8)) call.fields.push([8, 'g', call.sig]);
    const bytes = encodeCall(call);
    // every truncation
    if (i % 10 === 0) for (let n = 0; n < bytes.length; n++) seen[assertNoOtherAnswer(bytes.subarray(0, n), `call ${i} cut to ${n} bytes`)]++;
    // single and multiple bit flips anywhere
    for (let k = 0; k < 8; k++) {
      const flipped = Buffer.from(bytes);
      for (let f = 0, n = 1 + random(3); f < n; f++) flipped[random(flipped.length)] ^= 1 << random(8);
      seen[assertNoOtherAnswer(flipped, `call ${i} flip ${k}: ${flipped.toString('hex')}`)]++;
    }
    // a random byte overwritten, and bytes appended
    const poked = Buffer.from(bytes);
    poked[random(poked.length)] = random(256);
    seen[assertNoOtherAnswer(poked, `call ${i} poked`)]++;
    seen[assertNoOtherAnswer(Buffer.concat([bytes, Buffer.alloc(1 + random(9), random(256))]), `call ${i} with trailing bytes`)]++;
  }
  for (let i = 0; i < 2000; i++) {
    const garbage = Buffer.from(Array.from({ length: random(200) }, () => random(256)));
    if (random(2)) garbage.set([0x6c, 1, 0, 1].slice(0, garbage.length));
    seen[assertNoOtherAnswer(garbage, `garbage ${garbage.toString('hex')}`)]++;
  }
  // The mutations must have exercised all three outcomes.
  assert.ok(seen.fast > 0 && seen.general > 0 && seen.error > 0, JSON.stringify(seen));
});

test('framedLength frames by the fixed header, refuses what cannot be framed', () => {
  const bytes = encodeCall({
    member: 'UpdateMap',
    sig: 'iiii',
    body: [1, 2, 3, 4],
    serial: 1,
    flags: 1,
    big: false,
    fields: [
      [1, 'o', '/'],
      [3, 's', 'UpdateMap'],
      [8, 'g', 'iiii'],
    ],
  });
  const two = Buffer.concat([bytes, bytes]);
  assert.equal(framedLength(two, 0, 1 << 20), bytes.length);
  assert.equal(framedLength(two, bytes.length, 1 << 20), bytes.length);
  assert.equal(framedLength(two, two.length - 15, 1 << 20), 'short');
  assert.equal(framedLength(bytes, 0, bytes.length - 1), 'bad');
  const wrongOrder = Buffer.from(bytes);
  wrongOrder[0] = 0x78;
  assert.equal(framedLength(wrongOrder, 0, 1 << 20), 'bad');
  const wrongVersion = Buffer.from(bytes);
  wrongVersion[3] = 2;
  assert.equal(framedLength(wrongVersion, 0, 1 << 20), 'bad');
});

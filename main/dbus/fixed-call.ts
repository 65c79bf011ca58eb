// Decodes the listener's fixed-layout method calls (UpdateMap(iiii), MouseSet(iii)) straight from
// their bytes, without dbus-native's general unmarshaller: QEMU sends ~1000 UpdateMap a second and
// the general path costs ~0.1 ms each. Pure functions; run on whichever thread reads the socket.
import type { DbusMessage } from './dbus-message.js';

/** member name → how many int32 arguments it carries (its signature is that many 'i') */
export type FixedCallSpec = ReadonlyMap<string, number>;

const LITTLE = 0x6c; // 'l'
const BIG = 0x42; // 'B'
const METHOD_CALL = 1;
const PROTOCOL_VERSION = 1;
const HEADER_BYTES = 16;

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * The total length of the message that starts at `at`, from its 16 fixed header bytes: a number,
 * 'short' when fewer than 16 bytes are there, or 'bad' when the header cannot be framed (wrong byte
 * order or version, a length past `maxBytes`): the general decoder then reports the error.
 */
export function framedLength(buf: Uint8Array, at: number, maxBytes: number): number | 'short' | 'bad' {
  if (buf.length - at < HEADER_BYTES) return 'short';
  const order = buf[at];
  if ((order !== LITTLE && order !== BIG) || buf[at + 3] !== PROTOCOL_VERSION) return 'bad';
  const view = new DataView(buf.buffer, buf.byteOffset + at, HEADER_BYTES);
  const le = order === LITTLE;
  const body = view.getUint32(4, le);
  const fields = view.getUint32(12, le);
  if (body > maxBytes || fields > maxBytes) return 'bad';
  const total = HEADER_BYTES + align8(fields) + body;
  return total > maxBytes ? 'bad' : total;
}

/**
 * The call in `msg` (exactly one whole message) if it is a method call to a member of `spec` with
 * the canonical layout of its int32 signature, shaped as dbus-native's unmarshaller would return it;
 * otherwise null, and the general decoder has the last word (it may decode it or report an error).
 * Stricter than the general decoder on purpose: anything unusual (fds, unknown or oddly typed header
 * fields, non-zero padding, missing terminators, a body of another length) falls back.
 */
export function decodeFixedCall(msg: Uint8Array, spec: FixedCallSpec): DbusMessage | null {
  if (msg.length < HEADER_BYTES) return null;
  const order = msg[0];
  if ((order !== LITTLE && order !== BIG) || msg[1] !== METHOD_CALL || msg[3] !== PROTOCOL_VERSION) return null;
  const le = order === LITTLE;
  const view = new DataView(msg.buffer, msg.byteOffset, msg.length);
  const bodyLength = view.getUint32(4, le);
  const serial = view.getUint32(8, le);
  const fieldsLength = view.getUint32(12, le);
  const fieldsEnd = HEADER_BYTES + fieldsLength;
  const bodyStart = HEADER_BYTES + align8(fieldsLength);
  if (bodyStart + bodyLength !== msg.length) return null;

  const m: DbusMessage = { serial, type: METHOD_CALL, flags: msg[2] };
  let signature: string | undefined;
  let pos = HEADER_BYTES;
  while (pos < fieldsEnd) {
    if (pos % 8 !== 0) {
      const padded = align8(pos);
      if (padded > fieldsEnd) return null;
      for (; pos < padded; pos++) if (msg[pos] !== 0) return null;
    }
    if (pos + 4 > fieldsEnd) return null;
    const code = msg[pos];
    // a variant whose signature is one basic type: length 1, the type, a terminating nul
    if (msg[pos + 1] !== 1 || msg[pos + 3] !== 0) return null;
    const type = msg[pos + 2];
    pos += 4;
    if (code === 8) {
      if (type !== 0x67 /* g */ || pos >= fieldsEnd) return null;
      const len = msg[pos];
      const end = pos + 1 + len;
      if (end >= fieldsEnd || msg[end] !== 0) return null;
      signature = textOf(msg, pos + 1, end);
      pos = end + 1;
      continue;
    }
    const key = code === 1 ? 'path' : code === 2 ? 'interface' : code === 3 ? 'member' : code === 6 ? 'destination' : code === 7 ? 'sender' : undefined;
    if (!key || type !== (code === 1 ? 0x6f /* o */ : 0x73) /* s */ || pos + 4 > fieldsEnd) return null;
    const len = view.getUint32(pos, le);
    const start = pos + 4;
    const end = start + len;
    if (end >= fieldsEnd || msg[end] !== 0) return null;
    (m as unknown as Record<string, string>)[key] = textOf(msg, start, end);
    pos = end + 1;
  }
  if (pos !== fieldsEnd) return null;
  for (let p = fieldsEnd; p < bodyStart; p++) if (msg[p] !== 0) return null;

  const count = m.member === undefined ? undefined : spec.get(m.member);
  if (count === undefined || signature === undefined || bodyLength !== count * 4 || signature !== 'i'.repeat(count)) return null;
  m.signature = signature;
  if (count > 0) {
    const body: number[] = new Array(count);
    for (let i = 0; i < count; i++) body[i] = view.getInt32(bodyStart + 4 * i, le);
    m.body = body;
  }
  return m;
}

const utf8 = new TextDecoder();
// Decoded as the general decoder does (Buffer#toString: invalid UTF-8 becomes U+FFFD).
function textOf(bytes: Uint8Array, start: number, end: number): string {
  return utf8.decode(bytes.subarray(start, end));
}

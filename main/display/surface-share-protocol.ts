// Wire format of the surface-share socket (SurfaceShareServer ↔ SurfaceShareClient): newline-
// terminated JSON, small lines only; pixels never travel here, only the memfd with SCM_RIGHTS.
//   client → server, first line: {"t":"token",token} with the ticket's token (64 hex digits)
//   server → client: {"t":"surface",id,width,height,stride,offset,length,format} with the memfd
//                    attached to the line's first byte; {"t":"unshared",id} when the current
//                    surface has no memfd (copy transport: use the pixels of the frames);
//                    {"t":"refused",reason} before closing on a bad token
//   client → server: {"t":"ack",id} once surface `id` is mapped and in use; from then on frames
//                    of that surface may carry rects only
// Pure parsing and framing; no I/O. Runs wherever it is imported.
import { JsonLineDecoder, JsonLinesError } from '../util/json-lines.js';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

export const MAX_SHARE_LINE = 1024;
export const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

export interface SharedSurfaceNotice {
  t: 'surface';
  id: number;
  width: number;
  height: number;
  stride: number;
  offset: number;
  length: number;
  format: number;
}

export type ShareServerMessage = SharedSurfaceNotice | { t: 'unshared'; id: number } | { t: 'refused'; reason: string };
export type ShareClientMessage = { t: 'token'; token: string } | { t: 'ack'; id: number };

export class ShareProtocolError extends KjuError {
  override name = 'ShareProtocolError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('protocol-error', message, options);
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function asObject(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ShareProtocolError('not a JSON object');
  return v as Record<string, unknown>;
}

/** One decoded JSON line from the server → the message it is. */
export function parseServerMessage(value: unknown): ShareServerMessage {
  const o = asObject(value);
  switch (o.t) {
    case 'surface': {
      const keys = ['id', 'width', 'height', 'stride', 'offset', 'length', 'format'] as const;
      for (const k of keys) if (!isCount(o[k])) throw new ShareProtocolError(`surface notice: bad ${k}`);
      const n = o as unknown as SharedSurfaceNotice;
      if (n.width < 1 || n.height < 1 || n.width > 16384 || n.height > 16384) throw new ShareProtocolError(`surface notice: size ${n.width}x${n.height} out of range`);
      if (n.stride < n.width * 4 || n.length < n.stride * n.height) throw new ShareProtocolError('surface notice: stride/length do not fit the size');
      return { t: 'surface', id: n.id, width: n.width, height: n.height, stride: n.stride, offset: n.offset, length: n.length, format: n.format };
    }
    case 'unshared':
      if (!isCount(o.id)) throw new ShareProtocolError('unshared: bad id');
      return { t: 'unshared', id: o.id };
    case 'refused':
      return { t: 'refused', reason: typeof o.reason === 'string' ? o.reason.slice(0, 200) : 'refused' };
    default:
      throw new ShareProtocolError(`unknown message type ${JSON.stringify(o.t)?.slice(0, 40)}`);
  }
}

/** One decoded JSON line from a client → the message it is. A token's format is checked here,
 *  its value by the server. */
export function parseClientMessage(value: unknown): ShareClientMessage {
  const o = asObject(value);
  if (Object.keys(o).length !== 2) throw new ShareProtocolError('expected {"t":"token","token":s} or {"t":"ack","id":n}');
  if (o.t === 'token' && typeof o.token === 'string' && TOKEN_PATTERN.test(o.token)) return { t: 'token', token: o.token };
  if (o.t === 'ack' && isCount(o.id)) return { t: 'ack', id: o.id };
  throw new ShareProtocolError('expected {"t":"token","token":s} or {"t":"ack","id":n}');
}

/** JSON lines (at most MAX_SHARE_LINE bytes each) → values; framing errors as ShareProtocolError. */
function decodeLines(lines: JsonLineDecoder, chunk: Uint8Array): unknown[] {
  try {
    return lines.push(chunk);
  } catch (err) {
    if (err instanceof JsonLinesError) throw new ShareProtocolError(err.message, { cause: err });
    throw err;
  }
}

/** A server message as received: a surface notice with the memfd that came with it. */
export type ReceivedServerMessage = Exclude<ShareServerMessage, SharedSurfaceNotice> | (SharedSurfaceNotice & { fd: number });

/**
 * The client's reader of the server's stream. Feed it the fds of the socket's 'fds' event and the
 * bytes of its 'data' event, in arrival order; each surface notice takes the next fd (the server
 * attaches it to the notice line's first byte, so it has always arrived by the line's end).
 * `push` frames the whole chunk at once (a line that is not JSON throws before anything is
 * yielded), then parses one message per step, so the lines before a bad one are handled first.
 * Throws ShareProtocolError; the stream is then unusable. The fds it yields belong to the caller.
 * Not thread-safe, one owner.
 */
export class ShareServerDecoder {
  private readonly lines = new JsonLineDecoder(MAX_SHARE_LINE);
  private fds: number[] = [];

  pushFds(fds: readonly number[]): void {
    this.fds.push(...fds);
  }

  *push(chunk: Uint8Array): Generator<ReceivedServerMessage, void, undefined> {
    for (const v of decodeLines(this.lines, chunk)) {
      const m = parseServerMessage(v);
      if (m.t !== 'surface') {
        yield m;
        continue;
      }
      const fd = this.fds.shift();
      if (fd === undefined) throw new ShareProtocolError('a surface notice arrived without its file descriptor');
      yield { ...m, fd };
    }
  }

  /** fds received that no notice has claimed yet; the caller closes them when it gives up. */
  takeUnclaimedFds(): number[] {
    return this.fds.splice(0);
  }
}

/** The server's reader of one client's stream (clients send no fds); framed and parsed like
 *  ShareServerDecoder.push. Not thread-safe, one owner. */
export class ShareClientDecoder {
  private readonly lines = new JsonLineDecoder(MAX_SHARE_LINE);

  *push(chunk: Uint8Array): Generator<ShareClientMessage, void, undefined> {
    for (const v of decodeLines(this.lines, chunk)) yield parseClientMessage(v);
  }
}

export const encodeLine = (m: ShareServerMessage | ShareClientMessage): Buffer => Buffer.from(`${JSON.stringify(m)}\n`);

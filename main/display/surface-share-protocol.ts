// Wire format of the surface-share socket (SurfaceShareServer ↔ SurfaceShareClient): newline-
// terminated JSON, small lines only; pixels never travel here, only the memfd with SCM_RIGHTS.
//   client → server, first line: the ticket's token (64 hex digits), as plain text
//   server → client: {"t":"surface",id,width,height,stride,offset,length,format} with the memfd
//                    attached to the line's first byte; {"t":"unshared",id} when the current
//                    surface has no memfd (copy transport: use the pixels of the frames);
//                    {"t":"refused",reason} before closing on a bad token
//   client → server: {"t":"ack",id} once surface `id` is mapped and in use; from then on frames
//                    of that surface may carry rects only
// Pure parsing; no I/O. Runs wherever it is imported.
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
export type ShareClientMessage = { t: 'ack'; id: number };

export class ShareProtocolError extends KjuError {
  override name = 'ShareProtocolError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('protocol-error', message, options);
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function parseObject(line: string): Record<string, unknown> {
  if (line.length > MAX_SHARE_LINE) throw new ShareProtocolError(`line of ${line.length} bytes is over ${MAX_SHARE_LINE}`);
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ShareProtocolError('not JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ShareProtocolError('not a JSON object');
  return v as Record<string, unknown>;
}

export function parseServerMessage(line: string): ShareServerMessage {
  const o = parseObject(line);
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

export function parseClientMessage(line: string): ShareClientMessage {
  const o = parseObject(line);
  if (o.t !== 'ack' || !isCount(o.id) || Object.keys(o).length !== 2) throw new ShareProtocolError('expected {"t":"ack","id":n}');
  return { t: 'ack', id: o.id };
}

export const encodeLine = (m: ShareServerMessage | ShareClientMessage): Buffer => Buffer.from(`${JSON.stringify(m)}\n`);

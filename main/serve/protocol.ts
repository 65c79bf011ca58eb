// The `kju serve` WebSocket protocol on the wire: paths, JSON parsing and framing, close codes. The
// value-level checks of what a browser sends (arguments, viewer input) are main/backend/arg-checks.ts.
//
// Static files need no token (they hold no secrets). Every WebSocket upgrade needs the server's
// token as the subprotocol value `kju.token.<token>` beside `kju.v1` (common/serve-auth.ts; the
// server answers `kju.v1`), and an `Origin` equal to `http://<Host header>`; otherwise 401 (token)
// or 403 (origin). No cookie: cookies ignore ports, so one would reach every service on the host.
//
// /ws/backend — JSON text both ways.
//   client → server  {"id": 7, "method": "startVm", "args": {"id": "vm-1"}}
//                    id: safe integer or string of ≤ 64 chars; method: one of BACKEND_METHODS.
//   server → client  {"id": 7, "result": Result}   — one reply per request, possibly out of order.
//                    Unknown method or bad args → result {ok:false, code:'unknown-method'|'bad-args'}.
//                    {"t": "vms", "vms": VmSummary[]} — pushed whenever the VM list changes.
//                    {"t": "progress", "opId": "…", "percent": 0..100} — pushed to every backend client
//                    while a createVm/cloneVm that carried that opId runs (opIds are the caller's).
//   Malformed JSON, a non-object, a missing/bad id, or a binary message closes the socket (1008/1003).
//   So do more than MAX_BACKEND_PENDING calls in flight or MAX_BACKEND_BUFFERED bytes of unread
//   replies (1008): each client's queued replies are bounded.
//
// /ws/display?vm=<id>&console=<n> — one console of one VM (console defaults to 0).
//   server → client  text: DisplayMessage JSON. On connect: surface (if there is one), cursor (if
//                    defined), then always input-mode, so the first message confirms the display
//                    opened. A display that cannot be opened closes with code 4404 and the reason.
//                    binary: one FramePacket (common/frame-packet.ts) with pixels, rows packed.
//                    A cursor's `pixels` travel as a base64 string (JSON has no bytes).
//   client → server  text: ViewerMessage JSON: {"t":"pull"}, {"t":"input","input":InputMessage}
//                    or {"t":"refresh"} (DisplayStream.refresh: the next frame is the whole surface).
//   Flow control: the server sends at most one FramePacket per pull, holding the damage merged
//   since the last one (a DamageQueue per viewer). The first frame after connect or after a
//   surface message covers the whole surface. A viewer that does not pull only accumulates merged
//   rects; it never slows the display or other viewers.
//   Input is checked strictly (types, integer ranges, no extra fields); a violation, malformed
//   JSON, an unknown message type, a binary message or a message over MAX_DISPLAY_MESSAGE bytes
//   closes that client (1008, 1003, 1009). Absolute positions outside the current surface are
//   dropped, not fatal: they race with resolution changes.
//   The server closes with 4000 when the display source ends (after a {t:'closed'} message) and
//   with 1008 when a client stops reading its socket.
import { CLIPBOARD_MAX_BYTES } from '../../common/contract.js';
import type { CursorShape, DisplayMessage, BackendArgs, BackendMethod, Result, ViewerMessage, VmSummary } from '../../common/contract.js';
import { checkCall, checkViewerMessage, isInt, isObj, isStr, keysAre, type Checked } from '../backend/arg-checks.js';

export const BACKEND_PATH = '/ws/backend';
export const DISPLAY_PATH = '/ws/display';
/** `/ws/audio?vm=<id>`: the guest's sound, pushed (main/serve/audio-relay.ts); the page sends nothing. */
export const AUDIO_PATH = '/ws/audio';
export const MAX_BACKEND_MESSAGE = 64 * 1024;
export const MAX_DISPLAY_MESSAGE = 4 * 1024;
/**
 * A viewer's clipboard message may be larger: CLIPBOARD_MAX_BYTES of text as JSON (control
 * characters escape to 6 bytes) plus slack, so text just over the limit still arrives and is
 * refused with a message instead of the socket closing. The display socket's maxPayload.
 */
export const MAX_CLIPBOARD_MESSAGE = 6 * CLIPBOARD_MAX_BYTES + 1024;
/**
 * A backend client may have this many calls in flight and this many reply bytes waiting in its
 * socket; past either it is closed with 1008. The UI has a handful of calls in flight and reads
 * what it gets: a client that sends and never reads would otherwise grow serve's memory without bound.
 */
export const MAX_BACKEND_PENDING = 256;
export const MAX_BACKEND_BUFFERED = 4 * 1024 * 1024;

export const CloseCode = {
  normal: 1000,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  displayEnded: 4000,
  displayUnavailable: 4404,
} as const;

export type RequestId = number | string;
export type BackendRequest = { [M in BackendMethod]: { id: RequestId; method: M; args: BackendArgs<M> } }[BackendMethod];
/** A DisplayMessage as it travels as JSON: cursor pixels as base64. */
export type WireDisplayMessage = Exclude<DisplayMessage, { t: 'cursor' }> | { t: 'cursor'; cursor: Omit<CursorShape, 'pixels'> & { pixels: string } };

export type BackendServerMessage = { id: RequestId; result: Result<unknown> } | { t: 'vms'; vms: VmSummary[] } | { t: 'progress'; opId: string; percent: number };

/** A parse outcome: use it, answer it with an error Result, drop it quietly, or close the client. */
export type Parsed<T> = Checked<T> | { kind: 'reply'; id: RequestId; result: Result<never> };

const fatal = (why: string): { kind: 'fatal'; why: string } => ({ kind: 'fatal', why });

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** One backend request: framing errors are fatal; an unknown method or bad arguments get an error reply. */
export function parseBackendRequest(text: string): Parsed<BackendRequest> {
  const j = parseJson(text);
  if (!j.ok) return fatal('invalid JSON');
  const m = j.value;
  if (!isObj(m)) return fatal('request is not an object');
  const id = m.id;
  if (!(isInt(id, 0, Number.MAX_SAFE_INTEGER) || isStr(id, 64))) return fatal('request id must be a non-negative integer or a short string');
  if (!keysAre(m, ['id', 'method'], ['args'])) return fatal('request has missing or unknown fields');
  if (typeof m.method !== 'string') return fatal('method must be a string');
  const checked = checkCall(m.method, m.args);
  if (!checked.ok) return { kind: 'reply', id, result: checked };
  return { kind: 'ok', value: { id, ...checked.call } as BackendRequest };
}

/** Parses one text message from a display viewer; `surface` is the one the input must fall within. */
export function parseViewerMessage(text: string, surface: { width: number; height: number } | null): Parsed<ViewerMessage> {
  const j = parseJson(text);
  if (!j.ok) return fatal('invalid JSON');
  return checkViewerMessage(j.value, surface);
}

/** Parses `/ws/display?vm=..&console=..` query values; null when they are not acceptable. */
export function parseDisplayTarget(params: URLSearchParams): { vmId: string; console: number } | null {
  const vmId = params.get('vm');
  const c = params.get('console') ?? '0';
  if (!vmId || vmId.length > 256 || !/^\d{1,3}$/.test(c)) return null;
  return { vmId, console: Number(c) };
}

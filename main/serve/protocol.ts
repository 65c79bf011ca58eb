// The `kju serve` WebSocket protocol, and strict parsing of everything a browser sends.
//
// Every HTTP request and every WebSocket upgrade needs the server's token: `?token=` in the URL or
// the `kju_token_<port>` cookie that the page response sets (HttpOnly, SameSite=Strict). Upgrades
// also need an `Origin` equal to `http://<Host header>`; otherwise 401 (token) or 403 (origin).
//
// /ws/control — JSON text both ways.
//   client → server  {"id": 7, "method": "startVm", "args": {"id": "vm-1"}}
//                    id: safe integer or string of ≤ 64 chars; method: one of HOST_METHODS.
//   server → client  {"id": 7, "result": Result}   — one reply per request, possibly out of order.
//                    Unknown method or bad args → result {ok:false, code:'unknown-method'|'bad-args'}.
//                    {"t": "vms", "vms": VmSummary[]} — pushed whenever the VM list changes.
//                    {"t": "progress", "opId": "…", "percent": 0..100} — pushed to every control client
//                    while a createVm/cloneVm that carried that opId runs (opIds are the caller's).
//   Malformed JSON, a non-object, a missing/bad id, or a binary message closes the socket (1008/1003).
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
import { EXISTING_DISK_MODES, HOST_METHODS, VM_DISPLAYS, VM_PRESETS, type CursorShape, type DisplayMessage, type HostArgs, type HostMethod, type InputMessage, type MouseButton, type Result, type ViewerMessage, type VmSummary } from '../../common/contract.js';

export const CONTROL_PATH = '/ws/control';
export const DISPLAY_PATH = '/ws/display';
export const MAX_CONTROL_MESSAGE = 64 * 1024;
export const MAX_DISPLAY_MESSAGE = 4 * 1024;

export const CloseCode = {
  normal: 1000,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  displayEnded: 4000,
  displayUnavailable: 4404,
} as const;

export type RequestId = number | string;
export type ControlRequest = { [M in HostMethod]: { id: RequestId; method: M; args: HostArgs<M> } }[HostMethod];
/** A DisplayMessage as it travels as JSON: cursor pixels as base64. */
export type WireDisplayMessage =
  | Exclude<DisplayMessage, { t: 'cursor' }>
  | { t: 'cursor'; cursor: Omit<CursorShape, 'pixels'> & { pixels: string } };

export type ControlServerMessage =
  | { id: RequestId; result: Result<unknown> }
  | { t: 'vms'; vms: VmSummary[] }
  | { t: 'progress'; opId: string; percent: number };

/** A parse outcome: use it, answer it with an error Result, drop it quietly, or close the client. */
export type Parsed<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'reply'; id: RequestId; result: Result<never> }
  | { kind: 'drop'; why: string }
  | { kind: 'fatal'; why: string };

const fatal = (why: string): { kind: 'fatal'; why: string } => ({ kind: 'fatal', why });

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;

/** true when `o` has every key in `required`, and nothing outside `required` and `optional` */
function keysAre(o: Obj, required: readonly string[], optional: readonly string[] = []): boolean {
  for (const k of required) if (!Object.hasOwn(o, k)) return false;
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) return false;
  return true;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Generous bounds: the library checks names, sizes and host limits with messages a person can act on. */
const MAX_NAME = 256;
const MAX_PATH = 4096;
const MAX_MEMORY_MIB = 16 * 1024 * 1024;
const MAX_CPUS = 1024;
const isOptBool = (v: unknown) => v === undefined || typeof v === 'boolean';
const isOptPath = (v: unknown) => v === undefined || isStr(v, MAX_PATH);
const isOptOpId = (v: unknown) => v === undefined || isStr(v, 64);
const isOneOf = <T extends string>(v: unknown, list: readonly T[]): v is T => typeof v === 'string' && (list as readonly string[]).includes(v);
const idOnly = (a: Obj) => keysAre(a, ['id']) && isStr(a.id, 256);

function isDiskSpec(d: unknown): boolean {
  if (!isObj(d)) return false;
  switch (d.kind) {
    case 'new':
      return keysAre(d, ['kind', 'size']) && isStr(d.size, 32);
    case 'existing':
      return keysAre(d, ['kind', 'path', 'mode']) && isStr(d.path, MAX_PATH) && isOneOf(d.mode, EXISTING_DISK_MODES);
    case 'none':
      return keysAre(d, ['kind']);
    default:
      return false;
  }
}

function isVmEdit(c: unknown): boolean {
  if (!isObj(c) || !keysAre(c, [], ['memoryMiB', 'cpus', 'display', 'cdrom'])) return false;
  return (
    (c.memoryMiB === undefined || isInt(c.memoryMiB, 1, MAX_MEMORY_MIB)) &&
    (c.cpus === undefined || isInt(c.cpus, 1, MAX_CPUS)) &&
    (c.display === undefined || isOneOf(c.display, VM_DISPLAYS)) &&
    (c.cdrom === undefined || c.cdrom === null || isStr(c.cdrom, MAX_PATH))
  );
}

/** Per-method argument checks; `satisfies` makes a new HostApi method fail to compile until it has one. */
const argCheckers = {
  listVms: (a: Obj) => keysAre(a, []),
  startVm: (a: Obj) => keysAre(a, ['id']) && isStr(a.id, 256),
  stopVm: (a: Obj) => keysAre(a, ['id'], ['force']) && isStr(a.id, 256) && isOptBool(a.force),
  presets: (a: Obj) => keysAre(a, []),
  hostLimits: (a: Obj) => keysAre(a, []),
  createVm: (a: Obj) =>
    keysAre(a, ['name', 'preset', 'memoryMiB', 'cpus', 'disk'], ['display', 'iso', 'kernel', 'initrd', 'append', 'opId']) &&
    isStr(a.name, MAX_NAME) &&
    isOneOf(a.preset, VM_PRESETS) &&
    isInt(a.memoryMiB, 1, MAX_MEMORY_MIB) &&
    isInt(a.cpus, 1, MAX_CPUS) &&
    (a.display === undefined || isOneOf(a.display, VM_DISPLAYS)) &&
    isDiskSpec(a.disk) &&
    isOptPath(a.iso) &&
    isOptPath(a.kernel) &&
    isOptPath(a.initrd) &&
    (a.append === undefined || (typeof a.append === 'string' && a.append.length <= MAX_PATH)) &&
    isOptOpId(a.opId),
  editVm: (a: Obj) => keysAre(a, ['id', 'changes']) && isStr(a.id, 256) && isVmEdit(a.changes),
  cloneVm: (a: Obj) => keysAre(a, ['id', 'name'], ['linked', 'opId']) && isStr(a.id, 256) && isStr(a.name, MAX_NAME) && isOptBool(a.linked) && isOptOpId(a.opId),
  deleteVm: (a: Obj) => keysAre(a, ['id'], ['permanent']) && isStr(a.id, 256) && isOptBool(a.permanent),
  pauseVm: idOnly,
  resumeVm: idOnly,
  resetVm: idOnly,
  powerButton: idOnly,
  suspendVm: idOnly,
  listSnapshots: idOnly,
  snapshot: (a: Obj) => keysAre(a, ['id', 'op', 'name']) && isStr(a.id, 256) && isOneOf(a.op, ['create', 'revert', 'delete'] as const) && isStr(a.name, MAX_NAME),
  setCdrom: (a: Obj) => keysAre(a, ['id', 'path']) && isStr(a.id, 256) && (a.path === null || isStr(a.path, MAX_PATH)),
} satisfies Record<HostMethod, (a: Obj) => boolean>;

export function parseControlRequest(text: string): Parsed<ControlRequest> {
  const j = parseJson(text);
  if (!j.ok) return fatal('invalid JSON');
  const m = j.value;
  if (!isObj(m)) return fatal('request is not an object');
  const id = m.id;
  if (!(isInt(id, 0, Number.MAX_SAFE_INTEGER) || isStr(id, 64))) return fatal('request id must be a non-negative integer or a short string');
  if (!keysAre(m, ['id', 'method'], ['args'])) return fatal('request has missing or unknown fields');
  if (typeof m.method !== 'string') return fatal('method must be a string');
  const method = m.method;
  if (!(HOST_METHODS as readonly string[]).includes(method)) {
    return { kind: 'reply', id, result: { ok: false, code: 'unknown-method', message: `kju serve has no method '${method.slice(0, 64)}'` } };
  }
  const args = m.args === undefined ? {} : m.args;
  if (!isObj(args) || !argCheckers[method as HostMethod](args)) {
    return { kind: 'reply', id, result: { ok: false, code: 'bad-args', message: `bad arguments for ${method}` } };
  }
  return { kind: 'ok', value: { id, method, args } as ControlRequest };
}

/** Rel motion and UI sizes beyond these are not something a viewer sends. */
const MAX_REL = 0x7fff;
const MAX_UI_SIZE = 16384;

function parseInput(i: unknown, surface: { width: number; height: number } | null): Parsed<InputMessage> {
  if (!isObj(i)) return fatal('input is not an object');
  switch (i.t) {
    case 'key':
      if (!keysAre(i, ['t', 'down', 'qnum']) || typeof i.down !== 'boolean' || !isInt(i.qnum, 0, 0x1ff)) return fatal('bad key input');
      return { kind: 'ok', value: { t: 'key', down: i.down, qnum: i.qnum } };
    case 'button':
      if (!keysAre(i, ['t', 'down', 'button']) || typeof i.down !== 'boolean' || !isInt(i.button, 0, 8)) return fatal('bad button input');
      return { kind: 'ok', value: { t: 'button', down: i.down, button: i.button as MouseButton } };
    case 'abs':
      if (!keysAre(i, ['t', 'x', 'y']) || !isInt(i.x, 0, MAX_UI_SIZE) || !isInt(i.y, 0, MAX_UI_SIZE)) return fatal('bad abs input');
      if (!surface || i.x >= surface.width || i.y >= surface.height) return { kind: 'drop', why: 'abs position outside the current surface' };
      return { kind: 'ok', value: { t: 'abs', x: i.x, y: i.y } };
    case 'rel':
      if (!keysAre(i, ['t', 'dx', 'dy']) || !isInt(i.dx, -MAX_REL, MAX_REL) || !isInt(i.dy, -MAX_REL, MAX_REL)) return fatal('bad rel input');
      return { kind: 'ok', value: { t: 'rel', dx: i.dx, dy: i.dy } };
    case 'releaseAll':
      if (!keysAre(i, ['t'])) return fatal('bad releaseAll input');
      return { kind: 'ok', value: { t: 'releaseAll' } };
    case 'uiInfo':
      if (!keysAre(i, ['t', 'width', 'height']) || !isInt(i.width, 1, MAX_UI_SIZE) || !isInt(i.height, 1, MAX_UI_SIZE)) return fatal('bad uiInfo input');
      return { kind: 'ok', value: { t: 'uiInfo', width: i.width, height: i.height } };
    default:
      return fatal('unknown input type');
  }
}

/** Parses one text message from a display viewer; `surface` is the one the input must fall within. */
export function parseViewerMessage(text: string, surface: { width: number; height: number } | null): Parsed<ViewerMessage> {
  const j = parseJson(text);
  if (!j.ok) return fatal('invalid JSON');
  const m = j.value;
  if (!isObj(m)) return fatal('message is not an object');
  if (m.t === 'pull') return keysAre(m, ['t']) ? { kind: 'ok', value: { t: 'pull' } } : fatal('bad pull message');
  if (m.t === 'refresh') return keysAre(m, ['t']) ? { kind: 'ok', value: { t: 'refresh' } } : fatal('bad refresh message');
  if (m.t === 'input') {
    if (!keysAre(m, ['t', 'input'])) return fatal('bad input message');
    const p = parseInput(m.input, surface);
    return p.kind === 'ok' ? { kind: 'ok', value: { t: 'input', input: p.value } } : p;
  }
  return fatal('unknown message type');
}

/** Parses `/ws/display?vm=..&console=..` query values; null when they are not acceptable. */
export function parseDisplayTarget(params: URLSearchParams): { vmId: string; console: number } | null {
  const vmId = params.get('vm');
  const c = params.get('console') ?? '0';
  if (!vmId || vmId.length > 256 || !/^\d{1,3}$/.test(c)) return null;
  return { vmId, console: Number(c) };
}

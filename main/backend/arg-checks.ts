// Strict value-level checks of what a front end sends the backend: the arguments of every contract
// method, and a display viewer's messages (input). They run on parsed values: `kju serve` parses
// JSON first (main/serve/protocol.ts), Electron passes IPC and MessagePort data as it arrives.
// Pure functions; they run on whichever Node loop received the data.
import {
  EXISTING_DISK_MODES,
  BACKEND_METHODS,
  VM_DISPLAY_DEVICES,
  MAX_VM_DISPLAYS,
  VM_SOUND_DEVICES,
  VM_PRESETS,
  VM_EDIT_FIELDS,
  HOST_PATH_KINDS,
  isOneOf,
  type Failure,
  type BackendArgs,
  type BackendMethod,
  type InputMessage,
  type MouseButton,
  type ViewerMessage,
} from '../../common/contract.js';

/** A check's outcome: use the value, drop it quietly (a harmless race), or refuse the sender. */
export type Checked<T> = { kind: 'ok'; value: T } | { kind: 'drop'; why: string } | { kind: 'fatal'; why: string };
/** One contract call, method and arguments as checked. */
export type BackendCall = { [M in BackendMethod]: { method: M; args: BackendArgs<M> } }[BackendMethod];

const fatal = (why: string): { kind: 'fatal'; why: string } => ({ kind: 'fatal', why });

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
export const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;

/** true when `o` has every key in `required`, and nothing outside `required` and `optional` */
export function keysAre(o: Obj, required: readonly string[], optional: readonly string[] = []): boolean {
  for (const k of required) if (!Object.hasOwn(o, k)) return false;
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) return false;
  return true;
}

/** Generous bounds: the library checks names, sizes and host limits with messages a person can act on. */
const MAX_NAME = 256;
const MAX_PATH = 4096;
const MAX_MEMORY_MIB = 16 * 1024 * 1024;
const MAX_CPUS = 1024;
const isOptBool = (v: unknown) => v === undefined || typeof v === 'boolean';
const isOptPath = (v: unknown) => v === undefined || isStr(v, MAX_PATH);
const isOptOpId = (v: unknown) => v === undefined || isStr(v, 64);
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

const MAX_LINKS = 64;
const isPort = (v: unknown) => isInt(v, 1, 65535);
const isIpv4 = (v: unknown) => typeof v === 'string' && /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(v);
const isProto = (v: unknown) => v === 'tcp' || v === 'udp';
const isShare = (s: unknown) => isObj(s) && keysAre(s, ['path', 'readOnly']) && isStr(s.path, MAX_PATH) && typeof s.readOnly === 'boolean';
const isForward = (f: unknown) => isObj(f) && keysAre(f, ['proto', 'hostAddr', 'hostPort', 'guestPort']) && isProto(f.proto) && isIpv4(f.hostAddr) && isPort(f.hostPort) && isPort(f.guestPort);
const isForwardKey = (f: unknown) => isObj(f) && keysAre(f, ['proto', 'hostAddr', 'hostPort']) && isProto(f.proto) && isIpv4(f.hostAddr) && isPort(f.hostPort);
const isOptList = (v: unknown, item: (x: unknown) => boolean) => v === undefined || (Array.isArray(v) && v.length <= MAX_LINKS && v.every(item));
/** vendor:product in hex, or bus-port as sysfs names it (1-2, 3-1.4) */
const isUsbDevice = (v: unknown) => typeof v === 'string' && /^([0-9a-fA-F]{4}:[0-9a-fA-F]{4}|\d{1,3}-\d{1,3}(\.\d{1,3}){0,6})$/.test(v);

function isVmEdit(c: unknown): boolean {
  if (!isObj(c) || !keysAre(c, [], VM_EDIT_FIELDS)) return false;
  return (
    isOptList(c.shares, isShare) &&
    isOptList(c.forwards, isForward) &&
    (c.memoryMiB === undefined || isInt(c.memoryMiB, 1, MAX_MEMORY_MIB)) &&
    (c.cpus === undefined || isInt(c.cpus, 1, MAX_CPUS)) &&
    (c.displayDevice === undefined || isOneOf(c.displayDevice, VM_DISPLAY_DEVICES)) &&
    (c.displays === undefined || isInt(c.displays, 1, MAX_VM_DISPLAYS)) &&
    isOptBool(c.clipboard) &&
    (c.soundDevice === undefined || isOneOf(c.soundDevice, VM_SOUND_DEVICES)) &&
    (c.tpm === undefined || typeof c.tpm === 'boolean') &&
    (c.secureBoot === undefined || typeof c.secureBoot === 'boolean') &&
    (c.cdrom === undefined || c.cdrom === null || isStr(c.cdrom, MAX_PATH)) &&
    (c.kernel === undefined || c.kernel === null || isStr(c.kernel, MAX_PATH)) &&
    (c.initrd === undefined || c.initrd === null || isStr(c.initrd, MAX_PATH)) &&
    (c.append === undefined || c.append === null || (typeof c.append === 'string' && c.append.length <= MAX_PATH))
  );
}

/** Per-method argument checks; `satisfies` makes a new contract method fail to compile until it has one. */
const argCheckers = {
  listVms: (a: Obj) => keysAre(a, []),
  startVm: (a: Obj) => keysAre(a, ['id']) && isStr(a.id, 256),
  stopVm: (a: Obj) => keysAre(a, ['id'], ['force']) && isStr(a.id, 256) && isOptBool(a.force),
  presets: (a: Obj) => keysAre(a, []),
  osCatalogue: (a: Obj) => keysAre(a, [], ['text']) && (a.text === undefined || isStr(a.text, 256)),
  hostLimits: (a: Obj) => keysAre(a, []),
  checkHostPath: (a: Obj) => keysAre(a, ['path', 'kind']) && isStr(a.path, MAX_PATH) && isOneOf(a.kind, HOST_PATH_KINDS),
  createVm: (a: Obj) =>
    keysAre(
      a,
      ['name', 'preset', 'memoryMiB', 'cpus', 'disk'],
      ['displayDevice', 'displays', 'clipboard', 'soundDevice', 'iso', 'kernel', 'initrd', 'append', 'shares', 'forwards', 'tpm', 'secureBoot', 'opId'],
    ) &&
    isOptList(a.shares, isShare) &&
    isOptList(a.forwards, isForward) &&
    isStr(a.name, MAX_NAME) &&
    isOneOf(a.preset, VM_PRESETS) &&
    isInt(a.memoryMiB, 1, MAX_MEMORY_MIB) &&
    isInt(a.cpus, 1, MAX_CPUS) &&
    (a.displayDevice === undefined || isOneOf(a.displayDevice, VM_DISPLAY_DEVICES)) &&
    (a.displays === undefined || isInt(a.displays, 1, MAX_VM_DISPLAYS)) &&
    isOptBool(a.clipboard) &&
    (a.soundDevice === undefined || isOneOf(a.soundDevice, VM_SOUND_DEVICES)) &&
    (a.tpm === undefined || typeof a.tpm === 'boolean') &&
    (a.secureBoot === undefined || typeof a.secureBoot === 'boolean') &&
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
  diagnostics: (a: Obj) => keysAre(a, []),
  listForwards: idOnly,
  addForward: (a: Obj) => keysAre(a, ['id', 'forward']) && isStr(a.id, 256) && isForward(a.forward),
  removeForward: (a: Obj) => keysAre(a, ['id', 'forward']) && isStr(a.id, 256) && isForwardKey(a.forward),
  listHostUsb: (a: Obj) => keysAre(a, []),
  attachedUsb: idOnly,
  attachUsb: (a: Obj) => keysAre(a, ['id', 'device']) && isStr(a.id, 256) && isUsbDevice(a.device),
  detachUsb: (a: Obj) => keysAre(a, ['id', 'device']) && isStr(a.id, 256) && isUsbDevice(a.device),
  thumbnail: idOnly,
} satisfies Record<BackendMethod, (a: Obj) => boolean>;

export function isBackendMethod(method: unknown): method is BackendMethod {
  return typeof method === 'string' && (BACKEND_METHODS as readonly string[]).includes(method);
}

/**
 * Checks one call as a front end sent it; absent `args` are `{}`. A method outside the contract is
 * code 'unknown-method', arguments of the wrong shape (types, ranges, extra fields) 'bad-args'.
 */
export function checkCall(method: unknown, args: unknown): { ok: true; call: BackendCall } | Failure {
  if (!isBackendMethod(method)) return { ok: false, code: 'unknown-method', message: `kju has no method '${String(method).slice(0, 64)}'` };
  const a = args === undefined ? {} : args;
  if (!isObj(a) || !argCheckers[method](a)) return { ok: false, code: 'bad-args', message: `bad arguments for ${method}` };
  return { ok: true, call: { method, args: a } as BackendCall };
}

/** Rel motion and UI sizes beyond these are not something a viewer sends. */
const MAX_REL = 0x7fff;
const MAX_UI_SIZE = 16384;

function checkInput(i: unknown, surface: { width: number; height: number } | null): Checked<InputMessage> {
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

/**
 * Checks one message from a display viewer; `surface` is the one absolute input must fall within.
 * The value returned is a fresh object with exactly the fields checked.
 */
export function checkViewerMessage(m: unknown, surface: { width: number; height: number } | null): Checked<ViewerMessage> {
  if (!isObj(m)) return fatal('message is not an object');
  if (m.t === 'pull') return keysAre(m, ['t']) ? { kind: 'ok', value: { t: 'pull' } } : fatal('bad pull message');
  if (m.t === 'refresh') return keysAre(m, ['t']) ? { kind: 'ok', value: { t: 'refresh' } } : fatal('bad refresh message');
  if (m.t === 'input') {
    if (!keysAre(m, ['t', 'input'])) return fatal('bad input message');
    const p = checkInput(m.input, surface);
    return p.kind === 'ok' ? { kind: 'ok', value: { t: 'input', input: p.value } } : p;
  }
  if (m.t === 'clipboard-share') return keysAre(m, ['t', 'on']) && typeof m.on === 'boolean' ? { kind: 'ok', value: { t: 'clipboard-share', on: m.on } } : fatal('bad clipboard-share message');
  // The size limit is GuestClipboard's, refused with a message; here only the shape.
  if (m.t === 'clipboard') return keysAre(m, ['t', 'text']) && typeof m.text === 'string' ? { kind: 'ok', value: { t: 'clipboard', text: m.text } } : fatal('bad clipboard message');
  return fatal('unknown message type');
}

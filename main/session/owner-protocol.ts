// kju.sock, the owner socket: the private unix socket (in the VM's 0700 runtime dir) through which
// other kju processes reach the one kju process that owns a running VM (the app, `kju serve`,
// `kju run`, the app's display utility). One JSON object per line each way:
// {id, method, params} → {id, ok: true, value} | {id, ok: false, code, message}.
// OwnerApi is also what reach.ts hands out for a VM owned here or attached for one call.
import { JsonLineDecoder } from '../util/json-lines.js';
import type { ForwardKey, PortForward } from '../qemu/guest-links.js';
import type { LifecycleParams, LifecycleReply } from './lifecycle.js';

export interface OwnerMethods {
  status: { params: Record<string, never>; value: { name: string; pid: number; ownerPid: number; surface: { width: number; height: number; transport: string } | null } };
  /** writes a PNG of head `head` (default 0)'s current surface to an absolute path */
  screenshot: { params: { path: string; head?: number }; value: { path: string; width: number; height: number; head: number } };
  /**
   * asks the guest to take this size on head `head` (Console.SetUIInfo; clamped to what a guest
   * takes) and waits up to timeoutMs for its surface to become that size: `surface` is the size then
   */
  resize: {
    params: { width: number; height: number; head?: number; timeoutMs?: number };
    value: { head: number; requested: { width: number; height: number }; clamped: string | null; surface: { width: number; height: number } | null };
  };
  type: { params: { text: string }; value: { keys: number } };
  key: { params: { chord: string }; value: { keys: number } };
  /** force: QMP quit; else the ACPI power button and up to timeoutMs for the guest to power off */
  stop: { params: { force: boolean; timeoutMs?: number }; value: { stopped: boolean } };
  lifecycle: { params: LifecycleParams; value: LifecycleReply };
  /** the user network's port forwards, changed live; every op answers with the forwards after it */
  forward: { params: { op: 'list' } | { op: 'add'; forward: PortForward } | { op: 'remove'; forward: ForwardKey }; value: { forwards: PortForward[] } };
  /** host USB devices in the VM, by bus-port; `device` is vendor:product or bus-port of a host device */
  usb: { params: { op: 'list' } | { op: 'attach' | 'detach'; device: string }; value: { attached: string[]; removed?: boolean } };
  /**
   * the VM's shared clipboard (VmSession.sharedClipboard, the viewers' own): get answers its text
   * (null: empty); set offers `text` to the guest and, with waitMs, waits that long for the guest to
   * fetch it (`delivered`)
   */
  clipboard: { params: { op: 'get' } | { op: 'set'; text: string; waitMs?: number }; value: { text?: string | null; delivered?: boolean } };
}
export type OwnerMethod = keyof OwnerMethods;

/** Every method, tied to OwnerMethods both ways (a missing or extra name fails to compile). */
export const OWNER_METHODS = ['status', 'screenshot', 'resize', 'type', 'key', 'stop', 'lifecycle', 'forward', 'usb', 'clipboard'] as const satisfies readonly OwnerMethod[];
const _allListed: Exclude<OwnerMethod, (typeof OWNER_METHODS)[number]> extends never ? true : never = true;
void _allListed;

/** The whole owner-socket API as calls: served on kju.sock, and what reachVm returns. */
export type OwnerApi = { [M in OwnerMethod]: (params: OwnerMethods[M]['params']) => Promise<OwnerMethods[M]['value']> };

export type OwnerRequest = { id: number; method: string; params: unknown };
export type OwnerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code: string; message: string; hint?: string };

/**
 * A request or reply may hold a path, a typed text or a clipboard text (1 MiB of UTF-8, up to 6
 * bytes a byte once JSON escapes control characters); more than this is a broken or hostile peer.
 */
export const MAX_OWNER_LINE = 8 << 20;

export function encodeOwnerMessage(m: OwnerRequest | OwnerReply): string {
  return `${JSON.stringify(m)}\n`;
}

/** A line that is JSON but not a message of the owner socket. */
export interface BadMessage {
  bad: string;
}

/**
 * Cuts an owner-socket byte stream into messages, whatever the chunk boundaries (a multi-byte
 * character split across chunks included). A line that is JSON but not a message comes out as a
 * BadMessage; a line that is not JSON, or longer than MAX_OWNER_LINE, throws JsonLinesError (the
 * connection is then unusable). One decoder per connection, on its owner's loop.
 */
class OwnerDecoder<T> {
  private readonly lines: JsonLineDecoder;
  constructor(
    private readonly check: (v: unknown) => T | BadMessage,
    maxLine: number,
  ) {
    this.lines = new JsonLineDecoder(maxLine);
  }
  push(chunk: Uint8Array | string): (T | BadMessage)[] {
    return this.lines.push(chunk).map(this.check);
  }
}

/** The owner's side: requests in. */
export class OwnerRequestDecoder extends OwnerDecoder<OwnerRequest> {
  constructor(maxLine = MAX_OWNER_LINE) {
    super(checkRequest, maxLine);
  }
}

/** The caller's side: replies in. */
export class OwnerReplyDecoder extends OwnerDecoder<OwnerReply> {
  constructor(maxLine = MAX_OWNER_LINE) {
    super(checkReply, maxLine);
  }
}

export const isBad = (m: object): m is BadMessage => 'bad' in m;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkRequest(v: unknown): OwnerRequest | { bad: string } {
  if (!isObject(v) || typeof v.id !== 'number' || typeof v.method !== 'string') return { bad: 'not a request: {id: number, method: string, params}' };
  return { id: v.id, method: v.method, params: v.params ?? {} };
}

function checkReply(v: unknown): OwnerReply | { bad: string } {
  if (!isObject(v) || typeof v.id !== 'number' || typeof v.ok !== 'boolean') return { bad: 'not a reply: {id: number, ok: boolean, ...}' };
  if (v.ok) return { id: v.id, ok: true, value: v.value };
  const failure: OwnerReply = { id: v.id, ok: false, code: typeof v.code === 'string' ? v.code : 'EFAILED', message: typeof v.message === 'string' ? v.message : 'failed' };
  return typeof v.hint === 'string' ? { ...failure, hint: v.hint } : failure;
}

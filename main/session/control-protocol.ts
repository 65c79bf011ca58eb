// kju.sock: the private unix socket (in the VM's 0700 runtime dir) through which CLI commands reach
// the kju process that currently hosts a VM (the app, `kju serve` or `kju run`). One JSON object
// per line each way: {id, method, params} → {id, ok: true, value} | {id, ok: false, code, message}.
import type { LifecycleParams, LifecycleReply } from './lifecycle.js';

export interface ControlApi {
  status: { params: Record<string, never>; value: { name: string; pid: number; hostPid: number; surface: { width: number; height: number; transport: string } | null } };
  /** writes a PNG of the host's current surface to an absolute path */
  screenshot: { params: { path: string }; value: { path: string; width: number; height: number } };
  type: { params: { text: string }; value: { keys: number } };
  key: { params: { chord: string }; value: { keys: number } };
  stop: { params: { force: boolean; timeoutMs?: number }; value: { stopped: boolean } };
}
export type ControlMethod = keyof ControlApi;

/**
 * Served by hosts that run lifecycle operations (session-manager.ts); others answer ENOMETHOD.
 * Kept apart from ControlApi so hosts and callers that do not handle it need not name it.
 */
export interface LifecycleControlApi {
  lifecycle: { params: LifecycleParams; value: LifecycleReply };
}
export type AnyControlApi = ControlApi & LifecycleControlApi;
export type AnyControlMethod = keyof AnyControlApi;
export const CONTROL_METHODS = ['status', 'screenshot', 'type', 'key', 'stop'] as const satisfies readonly ControlMethod[];

export type ControlRequest = { id: number; method: AnyControlMethod; params: unknown };
export type ControlReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code: string; message: string };

/** Splits a byte stream into lines, whatever the chunk boundaries; caps line length. */
export class LineSplitter {
  private buf = '';
  constructor(private readonly maxLine = 1 << 20) {}
  push(chunk: string): string[] {
    this.buf += chunk;
    const lines = this.buf.split('\n');
    this.buf = lines.pop()!;
    if (this.buf.length > this.maxLine) throw new Error(`line longer than ${this.maxLine} bytes`);
    return lines.filter((l) => l.trim().length > 0);
  }
}

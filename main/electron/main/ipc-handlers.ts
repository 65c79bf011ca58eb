// The backend API over Electron IPC: one handler per BackendApi method, typed from the contract with the
// sender first (VS Code's platform/native pattern), registered for exactly BACKEND_METHODS.
// Every request is checked twice before a handler runs: the sending frame must be ours
// (app://kju/), and the arguments must pass the backend's strict checks, the same as `kju serve`'s.
// Expected failures return as data ({ok:false, code, message}); a throw becomes code 'internal'.
// Runs on the Electron main process's event loop.
import type { IpcMainInvokeEvent } from 'electron';
import { BACKEND_METHODS, type BackendArgs, type BackendMethod, type BackendValue, type Result } from '../../../common/contract.js';
import { checkCall } from '../../backend/arg-checks.js';
import { toFailure } from '../../backend/failure.js';
import { backendChannel } from '../ipc/channels.js';
import { isAppUrl } from './app-origin.js';

export type BackendHandler<M extends BackendMethod, E = IpcMainInvokeEvent> = (event: E, args: BackendArgs<M>) => Promise<Result<BackendValue<M>>>;
export type BackendHandlerTable<E = IpcMainInvokeEvent> = { [M in BackendMethod]: BackendHandler<M, E> };

/** The part of ipcMain this needs (a fake in tests). */
export interface IpcRegistrar<E> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** Only our own pages may call: the top-level or sub frame that sent the request must be app://kju/. */
export function isTrustedSender(event: { senderFrame: { url: string } | null }): boolean {
  const url = event.senderFrame?.url;
  return typeof url === 'string' && isAppUrl(url);
}

/** The same strict argument checks as kju serve's backend socket (main/backend/arg-checks.ts), on the IPC values as they arrive. */
export function checkBackendArgs(method: BackendMethod, args: unknown): Result<null> {
  const checked = checkCall(method, args ?? {});
  return checked.ok ? { ok: true, value: null } : checked;
}

/** A handler for every method that passes the (already checked) arguments on to `call`; override the few that do more. */
export function forwardingHandlers<E>(call: <M extends BackendMethod>(method: M, args: BackendArgs<M>) => Promise<Result<BackendValue<M>>>): BackendHandlerTable<E> {
  const table: Partial<Record<BackendMethod, BackendHandler<BackendMethod, E>>> = {};
  for (const method of BACKEND_METHODS) table[method] = (_event, args) => call(method, args);
  return table as BackendHandlerTable<E>;
}

async function runChecked<M extends BackendMethod, E>(method: M, handler: BackendHandler<M, E>, event: E, args: unknown): Promise<Result<BackendValue<M>>> {
  const checked = checkBackendArgs(method, args);
  if (!checked.ok) return checked;
  try {
    return await handler(event, (args ?? {}) as BackendArgs<M>);
  } catch (err) {
    return toFailure(err, method);
  }
}

/**
 * Registers `kju:<method>` for every BACKEND_METHODS entry. Returns a function that removes them.
 * `trusted` decides whether an event comes from our own page; untrusted calls get code 'forbidden'.
 */
export function registerBackendHandlers<E>(ipc: IpcRegistrar<E>, table: BackendHandlerTable<E>, trusted: (event: E) => boolean): () => void {
  const channels: string[] = [];
  for (const method of BACKEND_METHODS) {
    const channel = backendChannel(method);
    const handler = table[method] as BackendHandler<BackendMethod, E>;
    ipc.handle(channel, async (event, args) => {
      if (!trusted(event)) return { ok: false, code: 'forbidden', message: `${channel} is only for kju's own pages` } satisfies Result<never>;
      return runChecked(method, handler, event, args);
    });
    channels.push(channel);
  }
  return () => channels.forEach((c) => ipc.removeHandler(c));
}

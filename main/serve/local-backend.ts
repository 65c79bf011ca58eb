// The backend of `kju serve` and of the desktop app: the VM library plus the SessionManager that
// hosts this machine's running VMs. Expected failures come back as {ok:false, code, message}.
// Runs on the Node event loop of the hosting process.
import { resolve } from 'node:path';
import type { HostArgs, HostMethod, HostValue, Result, VmSummary } from '../../common/contract.js';
import type { DisplaySource } from '../display/display-source.js';
import type { AppBackend, DisplayTarget } from '../electron/app-backend.js';
import { LibraryError } from '../library/library-error.js';
import { QemuLaunchError } from '../qemu/launch.js';
import { LifecycleError } from '../session/lifecycle.js';
import { SavedStateError } from '../session/saved-state.js';
import { SessionError, SessionManager, type SessionManagerOptions } from '../session/session-manager.js';
import { SnapshotError } from '../session/snapshots.js';

/** Error class → Result code ('missing-file', 'not-running', 'launch-failed'...). Unknown errors are rethrown. */
export function toFailure(err: unknown): { ok: false; code: string; message: string } {
  const kebab = (s: string) => s.toLowerCase().replaceAll('_', '-');
  if (err instanceof LibraryError || err instanceof SessionError || err instanceof SavedStateError || err instanceof SnapshotError || err instanceof LifecycleError) {
    return { ok: false, code: kebab(err.code), message: err.message };
  }
  if (err instanceof QemuLaunchError) return { ok: false, code: 'launch-failed', message: err.message };
  throw err;
}

async function attempt<T>(fn: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return toFailure(err);
  }
}

export class LocalBackend implements AppBackend {
  constructor(readonly sessions: SessionManager) {}

  async call<M extends HostMethod>(method: M, args: HostArgs<M>): Promise<Result<HostValue<M>>> {
    const a = args as Record<string, unknown>;
    const id = typeof a?.id === 'string' ? a.id : '';
    switch (method) {
      case 'listVms':
        return attempt(() => this.sessions.list()) as Promise<Result<HostValue<M>>>;
      case 'startVm':
        return attempt(async () => {
          const current = (await this.sessions.list()).find((v) => v.id === id);
          if (current && ['running', 'paused', 'starting'].includes(current.state)) return current;
          return (await this.sessions.start(id)).summary;
        }) as Promise<Result<HostValue<M>>>;
      case 'stopVm':
        return attempt(async () => (await this.sessions.stop(id, { force: Boolean(a.force), forceAfter: false })).summary) as Promise<Result<HostValue<M>>>;
      default:
        return { ok: false, code: 'unknown-method', message: `unknown method ${String(method)}` };
    }
  }

  openDisplay(vmId: string, console: number): Promise<Result<DisplaySource>> {
    return attempt(() => this.sessions.openDisplay(vmId, console));
  }

  onVmsChanged(cb: (vms: VmSummary[]) => void): () => void {
    this.sessions.on('changed', cb);
    return () => this.sessions.off('changed', cb);
  }

  releaseDisplay(vmId: string): Promise<Result<DisplayTarget>> {
    return attempt(() => this.sessions.release(vmId));
  }

  async reclaimDisplay(vmId: string): Promise<void> {
    await this.sessions.reclaim(vmId).catch(() => {});
  }

  suspendVm(vmId: string): Promise<Result<VmSummary>> {
    return attempt(async () => (await this.sessions.suspend(vmId)).summary);
  }

  shutdownVm(vmId: string, timeoutMs: number): Promise<Result<VmSummary>> {
    return attempt(async () => (await this.sessions.stop(vmId, { timeoutMs, forceAfter: true })).summary);
  }

  vmIdForBundle(path: string): Promise<Result<string>> {
    return attempt(async () => {
      const dir = resolve(path);
      const known = (await this.sessions.library.list()).find((e) => e.dir === dir);
      if (known) {
        if (known.problem || !known.config) throw new LibraryError(known.problemCode ?? 'INVALID_CONFIG', known.problem ?? 'unreadable bundle', dir);
        return known.config.id;
      }
      return (await this.sessions.library.importBundle(dir)).config.id;
    });
  }

  /** Quit choice "keep running": VMs go on without us. */
  close(): void {
    this.sessions.close();
  }
}

/** Opens the library and re-attaches to the VMs left running by an earlier host. */
export async function createLocalBackend(o: SessionManagerOptions = {}): Promise<LocalBackend> {
  const { manager } = await SessionManager.open(o);
  return new LocalBackend(manager);
}

// The backend of `kju serve` and of the desktop app: the VM library plus the SessionManager that
// hosts this machine's running VMs. Expected failures come back as {ok:false, code, message}.
// Runs on the Node event loop of the hosting process.
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import {
  VM_PRESETS,
  type CreateVmArgs,
  type HostArgs,
  type HostMethod,
  type HostValue,
  type OperationProgress,
  type PresetInfo,
  type Result,
  type VmEdit,
  type VmSummary,
} from '../../common/contract.js';
import type { Display, Preset } from '../library/bundle-config.js';
import { PRESET_DEFAULTS } from '../library/presets.js';
import { cloneVm } from '../library/vm-clone.js';
import { createVm, type ExistingDiskMode } from '../library/vm-create.js';
import type { DisplaySource } from '../display/display-source.js';
import type { AppBackend, DisplayTarget } from '../electron/app-backend.js';
import { LibraryError } from '../library/library-error.js';
import { attempt } from './failure.js';
import { SessionError, SessionManager, type SessionManagerOptions } from '../session/session-manager.js';

// The contract repeats the library's lists for the renderer; these fail to compile when they drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _presetsMatch: Same<(typeof VM_PRESETS)[number], Preset> = true;
const _displaysMatch: Same<NonNullable<VmEdit['display']>, Display> = true;
const _modesMatch: Same<Extract<CreateVmArgs['disk'], { kind: 'existing' }>['mode'], ExistingDiskMode> = true;
void [_presetsMatch, _displaysMatch, _modesMatch];

const PRESET_LABELS: Record<Preset, string> = { linux: 'Linux', windows: 'Windows', dos: 'DOS / FreeDOS', bsd: 'BSD', other: 'Other' };

/** States in which a VM's hardware must not change under it. */
const ACTIVE_STATES: readonly VmSummary['state'][] = ['running', 'paused', 'starting', 'shutting-down'];

export class LocalBackend implements AppBackend {
  private readonly progress = new EventEmitter<{ progress: [p: OperationProgress] }>();

  constructor(readonly sessions: SessionManager) {}

  /** Progress of createVm/cloneVm calls that carried an opId; Node loop. */
  onProgress(cb: (p: OperationProgress) => void): () => void {
    this.progress.on('progress', cb);
    return () => this.progress.off('progress', cb);
  }

  private reporter(opId: string | undefined): ((percent: number) => void) | undefined {
    if (!opId) return undefined;
    let last = -1;
    return (percent) => {
      const p = Math.max(0, Math.min(100, Math.round(percent)));
      if (p === last) return;
      last = p;
      this.progress.emit('progress', { opId, percent: p });
    };
  }

  private async summary(id: string): Promise<VmSummary> {
    const all = await this.sessions.list();
    const s = all.find((v) => v.id === id);
    if (!s) throw new LibraryError('not-found', `VM ${id} is no longer in the library`);
    return s;
  }

  /** Library changes that the manager does not see (create, edit, clone, delete) still reach every window. */
  private announce(): void {
    if (this.sessions.listenerCount('changed') === 0) return;
    this.sessions.list().then((vms) => this.sessions.emit('changed', vms), () => {});
  }

  private async state(id: string): Promise<VmSummary['state']> {
    const vm = await this.sessions.library.get(id);
    return (await this.summary(vm.config.id)).state;
  }

  private async createVm(a: CreateVmArgs): Promise<VmSummary> {
    const onProgress = this.reporter(a.opId);
    onProgress?.(0);
    const vm = await createVm(this.sessions.library, {
      name: a.name,
      preset: a.preset,
      memoryMiB: a.memoryMiB,
      cpus: a.cpus,
      display: a.display,
      diskSize: a.disk.kind === 'new' ? a.disk.size : a.disk.kind === 'none' ? null : undefined,
      existingDisk: a.disk.kind === 'existing' ? { path: a.disk.path, mode: a.disk.mode } : undefined,
      iso: a.iso,
      kernel: a.kernel,
      initrd: a.initrd,
      append: a.append,
      onProgress,
    });
    onProgress?.(100);
    this.announce();
    return this.summary(vm.config.id);
  }

  private async editVm(id: string, changes: VmEdit): Promise<VmSummary> {
    const vm = await this.sessions.library.get(id);
    const state = await this.state(vm.config.id);
    if (ACTIVE_STATES.includes(state)) {
      throw new LibraryError('in-use', `VM "${vm.config.name}" is ${state}; shut it down before changing its hardware (the ISO can be changed while it runs)`, vm.dir);
    }
    await this.sessions.library.edit(vm.config.id, changes);
    this.announce();
    return this.summary(vm.config.id);
  }

  private async resumeVm(id: string): Promise<VmSummary> {
    const vm = await this.sessions.library.get(id);
    const state = await this.state(vm.config.id);
    if (state === 'paused') await this.sessions.unpause(vm.config.id);
    else if (state === 'suspended') await this.sessions.start(vm.config.id);
    else if (state !== 'running') throw new SessionError('NOT_RUNNING', `VM "${vm.config.name}" is ${state}: there is nothing to resume; start it instead`);
    return this.summary(vm.config.id);
  }

  async call<M extends HostMethod>(method: M, args: HostArgs<M>): Promise<Result<HostValue<M>>> {
    const a = args as Record<string, unknown>;
    const id = typeof a?.id === 'string' ? a.id : '';
    const done = <T>(fn: () => Promise<T>) => attempt(fn, method) as Promise<Result<HostValue<M>>>;
    switch (method) {
      case 'presets':
        return done(async () =>
          VM_PRESETS.map((p): PresetInfo => {
            const d = PRESET_DEFAULTS[p];
            return { id: p, label: PRESET_LABELS[p], memoryMiB: d.memoryMiB, cpus: d.cpus, display: d.display, diskSize: d.diskSize, firmware: d.firmware, machine: d.machine };
          }),
        );
      case 'hostLimits':
        return done(async () => ({ ...this.sessions.library.host }));
      case 'createVm':
        return done(() => this.createVm(args as CreateVmArgs));
      case 'editVm':
        return done(() => this.editVm(id, a.changes as VmEdit));
      case 'cloneVm':
        return done(async () => {
          const onProgress = this.reporter(a.opId as string | undefined);
          onProgress?.(0);
          const vm = await cloneVm(this.sessions.library, id, a.name as string, { linked: Boolean(a.linked), onProgress });
          onProgress?.(100);
          this.announce();
          return this.summary(vm.config.id);
        });
      case 'deleteVm':
        return done(async () => {
          const r = await this.sessions.library.delete(id, { permanent: Boolean(a.permanent) });
          this.announce();
          return r;
        });
      case 'pauseVm':
        return done(async () => {
          await this.sessions.pause(id);
          return this.summary((await this.sessions.library.get(id)).config.id);
        });
      case 'resumeVm':
        return done(() => this.resumeVm(id));
      case 'resetVm':
        return done(async () => {
          await this.sessions.reset(id);
          return this.summary((await this.sessions.library.get(id)).config.id);
        });
      case 'powerButton':
        // stop() with no wait: presses the button (continuing a paused guest first) and returns.
        return done(async () => (await this.sessions.stop(id, { timeoutMs: 0, forceAfter: false })).summary);
      case 'suspendVm':
        return done(async () => (await this.sessions.suspend(id)).summary);
      case 'listSnapshots':
        return done(async () => (await this.sessions.snapshots(id)).map((s) => ({ name: s.name, date: s.date, vmStateBytes: s.vmStateBytes })));
      case 'snapshot':
        return done(() => this.sessions.snapshot(id, a.op as 'create' | 'revert' | 'delete', a.name as string));
      case 'setCdrom':
        return done(async () => {
          const s = await this.sessions.setCdrom(id, a.path as string | null);
          this.announce();
          return s;
        });
      case 'listVms':
        return attempt(() => this.sessions.list(), method) as Promise<Result<HostValue<M>>>;
      case 'startVm':
        return attempt(async () => {
          const current = (await this.sessions.list()).find((v) => v.id === id);
          if (current && ['running', 'paused', 'starting'].includes(current.state)) return current;
          return (await this.sessions.start(id)).summary;
        }, method) as Promise<Result<HostValue<M>>>;
      case 'stopVm':
        return attempt(async () => (await this.sessions.stop(id, { force: Boolean(a.force), forceAfter: false })).summary, method) as Promise<Result<HostValue<M>>>;
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
        if (known.problem || !known.config) throw new LibraryError(known.problemCode ?? 'invalid-config', known.problem ?? 'unreadable bundle', dir);
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

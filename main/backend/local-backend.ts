// The backend over this host's VM library and the SessionManager that owns its running VMs, for
// `kju serve` and the desktop app. Expected failures come back as {ok:false, code, message, hint}.
// Runs on the Node event loop of the owner process.
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import {
  VM_EDIT_FIELDS,
  VM_PRESETS,
  isActiveVmState,
  type HostPathKind,
  type VmPreset,
  type VmEditField,
  type CreateVmArgs,
  type BackendArgs,
  type BackendMethod,
  type BackendValue,
  type OperationProgress,
  type PresetInfo,
  type Result,
  type VmEdit,
  type VmShare,
  type VmSummary,
} from '../../common/contract.js';
import { PRESET_DEFAULTS } from '../library/presets.js';
import { loadCatalogue, searchCatalogue } from '../os/catalogue.js';
import { cloneVm } from '../library/vm-clone.js';
import { createVm } from '../library/vm-create.js';
import type { AudioOut } from '../display/audio-out.js';
import type { DisplaySource } from '../display/display-source.js';
import type { GuestClipboard } from '../display/guest-clipboard.js';
import { LibraryError } from '../library/library-error.js';
import { SessionError, SessionManager, type SessionManagerOptions } from '../session/session-manager.js';
import { listHostUsb } from '../qemu/host-usb.js';
import { checkCall } from './arg-checks.js';
import { HostPathPolicy } from './host-paths.js';
import { runDiagnostics } from './diagnostics.js';
import type { Backend, DisplayTarget } from './backend.js';
import { attempt } from './failure.js';
import { KjuError } from '../../common/errors.js';

const PRESET_LABELS: Record<VmPreset, string> = { linux: 'Linux', windows: 'Windows', dos: 'DOS / FreeDOS', bsd: 'BSD', other: 'Other' };

/** How a path check's message names each kind of path. */
const HOST_PATH_NAMES: Record<HostPathKind, string> = { iso: 'the ISO', disk: 'the disk image', kernel: 'the kernel', initrd: 'the initrd', folder: 'the shared folder' };

/** The config field an edit error names, as the contract's VmEdit field (config.json says `display` and `sound`). */
const EDIT_FIELD_OF_CONFIG: Record<string, VmEditField | undefined> = { display: 'displayDevice', sound: 'soundDevice', ...Object.fromEntries(VM_EDIT_FIELDS.map((f) => [f, f])) };

/** Runs `fn`; a kju error it throws is tagged with the edit field it is about (its own field, or `field`). */
async function onEditField<T>(field: VmEditField | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KjuError) err.field = (err.field !== undefined && Object.hasOwn(EDIT_FIELD_OF_CONFIG, err.field) ? EDIT_FIELD_OF_CONFIG[err.field] : undefined) ?? field;
    throw err;
  }
}

/** A handler per contract method, typed from the contract (the pattern of main/electron/ipc-handlers.ts). */
export type BackendHandlers = { [M in BackendMethod]: (args: BackendArgs<M>) => Promise<BackendValue<M>> };

export interface LocalBackendOptions {
  /** folders besides the library and the home folder whose files a front end may use (`kju serve --allow`) */
  allow?: readonly string[];
}

export class LocalBackend implements Backend {
  private readonly progress = new EventEmitter<{ progress: [p: OperationProgress] }>();
  private hostPaths: HostPathPolicy | null = null;

  constructor(
    readonly sessions: SessionManager,
    private readonly options: LocalBackendOptions = {},
  ) {}

  /** What host files front ends may name; every path argument goes through it (main/backend/host-paths.ts). */
  get pathPolicy(): HostPathPolicy {
    return (this.hostPaths ??= HostPathPolicy.forFrontEnds(this.sessions.library.root, this.options.allow));
  }

  private async allowedPath(path: string, what: string): Promise<string>;
  private async allowedPath(path: string | undefined, what: string): Promise<string | undefined>;
  private async allowedPath(path: string | undefined, what: string): Promise<string | undefined> {
    return path === undefined ? undefined : this.pathPolicy.check(path, what);
  }

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
    this.sessions.list().then(
      (vms) => this.sessions.emit('changed', vms),
      () => {},
    );
  }

  private async state(id: string): Promise<VmSummary['state']> {
    const vm = await this.sessions.library.get(id);
    return (await this.summary(vm.config.id)).state;
  }

  private async createVm(a: CreateVmArgs): Promise<VmSummary> {
    const existingDisk = a.disk.kind === 'existing' ? { path: await this.allowedPath(a.disk.path, 'the disk image'), mode: a.disk.mode } : undefined;
    const [iso, kernel, initrd] = [await this.allowedPath(a.iso, 'the ISO'), await this.allowedPath(a.kernel, 'the kernel'), await this.allowedPath(a.initrd, 'the initrd')];
    const shares = await this.allowedShares(a.shares);
    const onProgress = this.reporter(a.opId);
    onProgress?.(0);
    const vm = await createVm(this.sessions.library, {
      name: a.name,
      preset: a.preset,
      memoryMiB: a.memoryMiB,
      cpus: a.cpus,
      display: a.displayDevice,
      displays: a.displays,
      clipboard: a.clipboard,
      sound: a.soundDevice,
      diskSize: a.disk.kind === 'new' ? a.disk.size : a.disk.kind === 'none' ? null : undefined,
      existingDisk,
      iso,
      kernel,
      initrd,
      append: a.append,
      shares,
      forwards: a.forwards,
      tpm: a.tpm,
      secureBoot: a.secureBoot,
      onProgress,
    });
    onProgress?.(100);
    this.announce();
    return this.summary(vm.config.id);
  }

  /** Shared folders a front end names must be folders under the allowed roots, like any path it sends. */
  private async allowedShares(shares: VmShare[] | undefined): Promise<VmShare[] | undefined> {
    if (!shares) return undefined;
    const out: VmShare[] = [];
    for (const s of shares) out.push({ path: await this.pathPolicy.check(s.path, 'the shared folder', 'folder'), readOnly: s.readOnly });
    return out;
  }

  private async editVm(id: string, changes: VmEdit): Promise<VmSummary> {
    const vm = await this.sessions.library.get(id);
    const state = await this.state(vm.config.id);
    if (isActiveVmState(state)) {
      throw new LibraryError('in-use', `VM "${vm.config.name}" is ${state}; shut it down before changing its hardware (the ISO can be changed while it runs)`, vm.dir);
    }
    const path = (field: 'cdrom' | 'kernel' | 'initrd', what: string) => {
      const p = changes[field];
      return typeof p === 'string' ? onEditField(field, () => this.allowedPath(p, what)) : Promise.resolve(p);
    };
    const [cdrom, kernel, initrd] = [await path('cdrom', 'the ISO'), await path('kernel', 'the kernel'), await path('initrd', 'the initrd')];
    const shares = await onEditField('shares', () => this.allowedShares(changes.shares));
    // The library's config keeps the names `display` and `sound` for the devices (config.json's fields).
    const { displayDevice, soundDevice, ...rest } = changes;
    const paths = { ...(cdrom === undefined ? {} : { cdrom }), ...(kernel === undefined ? {} : { kernel }), ...(initrd === undefined ? {} : { initrd }) };
    await onEditField(undefined, () =>
      this.sessions.library.edit(vm.config.id, { ...rest, ...paths, ...(shares ? { shares } : {}), display: displayDevice, ...(soundDevice === undefined ? {} : { sound: soundDevice }) }),
    );
    this.announce();
    return this.summary(vm.config.id);
  }

  private async resumeVm(id: string): Promise<VmSummary> {
    const vm = await this.sessions.library.get(id);
    const state = await this.state(vm.config.id);
    if (state === 'paused') await this.sessions.unpause(vm.config.id);
    else if (state === 'suspended') await this.sessions.start(vm.config.id);
    else if (state !== 'running') throw new SessionError('not-running', `VM "${vm.config.name}" is ${state}: there is nothing to resume; start it instead`);
    return this.summary(vm.config.id);
  }

  /** One handler per contract method, typed from the contract: arguments arrive checked, and a throw is the Result mapping's. */
  private readonly handlers: BackendHandlers = {
    listVms: () => this.sessions.list(),
    startVm: async ({ id }) => {
      const current = (await this.sessions.list()).find((v) => v.id === id);
      if (current && ['running', 'paused', 'starting'].includes(current.state)) return current;
      return (await this.sessions.start(id)).summary;
    },
    stopVm: async ({ id, force }) => (await this.sessions.stop(id, { force: Boolean(force), forceAfter: false })).summary,
    presets: async () =>
      VM_PRESETS.map((p): PresetInfo => {
        const d = PRESET_DEFAULTS[p];
        return {
          id: p,
          label: PRESET_LABELS[p],
          memoryMiB: d.memoryMiB,
          cpus: d.cpus,
          displayDevice: d.display,
          soundDevice: d.sound,
          diskSize: d.diskSize,
          firmware: d.firmware,
          machine: d.machine,
          tpm: !!d.tpm,
          secureBoot: !!d.secureBoot,
        };
      }),
    osCatalogue: async ({ text }) => {
      const catalogue = await loadCatalogue();
      return { ...catalogue, entries: searchCatalogue(catalogue, text) };
    },
    hostLimits: async () => ({ ...this.sessions.library.host }),
    checkHostPath: async ({ path, kind }) => ({ path: await this.pathPolicy.check(path, HOST_PATH_NAMES[kind], kind === 'folder' ? 'folder' : 'file') }),
    createVm: (a) => this.createVm(a),
    editVm: ({ id, changes }) => this.editVm(id, changes),
    cloneVm: async ({ id, name, linked, opId }) => {
      const onProgress = this.reporter(opId);
      onProgress?.(0);
      const vm = await cloneVm(this.sessions.library, id, name, { linked: Boolean(linked), onProgress });
      onProgress?.(100);
      this.announce();
      return this.summary(vm.config.id);
    },
    deleteVm: async ({ id, permanent }) => {
      const r = await this.sessions.library.delete(id, { permanent: Boolean(permanent) });
      this.announce();
      return r;
    },
    pauseVm: async ({ id }) => {
      await this.sessions.pause(id);
      return this.summary((await this.sessions.library.get(id)).config.id);
    },
    resumeVm: ({ id }) => this.resumeVm(id),
    resetVm: async ({ id }) => {
      await this.sessions.reset(id);
      return this.summary((await this.sessions.library.get(id)).config.id);
    },
    // stop() with no wait: presses the button (continuing a paused guest first) and returns.
    powerButton: async ({ id }) => (await this.sessions.stop(id, { timeoutMs: 0, forceAfter: false })).summary,
    suspendVm: async ({ id }) => (await this.sessions.suspend(id)).summary,
    listSnapshots: async ({ id }) => (await this.sessions.snapshots(id)).map((s) => ({ name: s.name, date: s.date, vmStateBytes: s.vmStateBytes })),
    snapshot: ({ id, op, name }) => this.sessions.snapshot(id, op, name),
    setCdrom: async ({ id, path }) => {
      const s = await this.sessions.setCdrom(id, path === null ? null : await this.allowedPath(path, 'the ISO'));
      this.announce();
      return s;
    },
    diagnostics: () => runDiagnostics(),
    listForwards: async ({ id }) => (await this.sessions.forward(id, { op: 'list' })).forwards,
    addForward: async ({ id, forward }) => (await this.sessions.forward(id, { op: 'add', forward })).forwards,
    removeForward: async ({ id, forward }) => (await this.sessions.forward(id, { op: 'remove', forward })).forwards,
    listHostUsb: async () => (await listHostUsb()).map(({ devnum: _devnum, ...d }) => d),
    attachedUsb: async ({ id }) => (await this.sessions.usb(id, { op: 'list' })).attached,
    attachUsb: async ({ id, device }) => (await this.sessions.usb(id, { op: 'attach', device })).attached,
    detachUsb: async ({ id, device }) => {
      const r = await this.sessions.usb(id, { op: 'detach', device });
      return { removed: r.removed ?? true, attached: r.attached };
    },
    thumbnail: async ({ id }) => {
      const t = await this.sessions.thumbnail(id);
      return t && { png: t.png.toString('base64'), live: t.live };
    },
  };

  /** Checks the arguments (main/backend/arg-checks.ts), runs the method's handler, and maps a throw to a failure. */
  async call<M extends BackendMethod>(method: M, args: BackendArgs<M>): Promise<Result<BackendValue<M>>> {
    const checked = checkCall(method, args);
    if (!checked.ok) return checked;
    const handler: BackendHandlers[M] = this.handlers[method];
    return attempt(() => handler(args), method);
  }

  openAudio(vmId: string): Promise<Result<AudioOut>> {
    return attempt(() => this.sessions.openAudio(vmId), 'openAudio');
  }

  openDisplay(vmId: string, console: number): Promise<Result<DisplaySource>> {
    return attempt(() => this.sessions.openDisplay(vmId, console), 'openDisplay');
  }

  onVmsChanged(cb: (vms: VmSummary[]) => void): () => void {
    this.sessions.on('changed', cb);
    return () => this.sessions.off('changed', cb);
  }

  sharedClipboard(vmId: string): Promise<Result<GuestClipboard | null>> {
    return attempt(() => this.sessions.sharedClipboard(vmId), 'sharedClipboard');
  }

  releaseDisplay(vmId: string): Promise<Result<DisplayTarget>> {
    return attempt(() => this.sessions.release(vmId), 'releaseDisplay');
  }

  async reclaimDisplay(vmId: string): Promise<void> {
    await this.sessions.reclaim(vmId).catch(() => {});
  }

  suspendVm(vmId: string): Promise<Result<VmSummary>> {
    return attempt(async () => (await this.sessions.suspend(vmId)).summary, 'suspendVm');
  }

  shutdownVm(vmId: string, timeoutMs: number): Promise<Result<VmSummary>> {
    return attempt(async () => (await this.sessions.stop(vmId, { timeoutMs, forceAfter: true })).summary, 'shutdownVm');
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
    }, 'vmIdForBundle');
  }

  /** Quit choice "keep running": VMs go on without us. */
  close(): void {
    this.sessions.close();
  }
}

/** Opens the library and re-attaches to the VMs left running by an earlier owner. */
export async function createLocalBackend(o: SessionManagerOptions & LocalBackendOptions = {}): Promise<LocalBackend> {
  const { allow, ...sessionOptions } = o;
  const { manager } = await SessionManager.open(sessionOptions);
  return new LocalBackend(manager, { allow });
}

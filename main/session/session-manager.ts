// The library's running VMs as one kju process sees them: the public operations (start, stop,
// pause, suspend, snapshots, CD-ROM, displays) of the app, `kju serve` and the CLI's lifecycle
// commands. Thin: the books are in running-vms.ts, the road to a VM is reach.ts (direct here, over
// kju.sock to another owner, or attached for the call), taking over orphans is reattach.ts,
// starting is start-vm.ts, suspend and resume are suspend.ts, and the state a list shows is
// list-state.ts. An owning manager (open(), or create({passive: false})) serves kju.sock
// for its VMs and adopts orphans on a timer and before operating on one; a passive one (CLI
// commands) never takes a VM over. QEMU never belongs to it: closing leaves VMs running.
// Everything runs on the Node event loop of its process.
import { EventEmitter } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isActiveVmState, type Accelerator, type Transport, type VmSummary } from '../../common/contract.js';
import type { DisplaySource } from '../display/display-source.js';
import type { AudioOut } from '../display/audio-out.js';
import type { GuestClipboard } from '../display/guest-clipboard.js';
import { isAlive, readPidFile } from '../qemu/pid-alive.js';
import { killPoint } from '../util/kill-point.js';
import { libraryVmRuntimeDir, readRuntimeVmInfo, removeRuntimeDir, type RuntimeDir } from '../qemu/runtime-dir.js';
import { Library, toVmSummary, type BundleVm } from '../library/library.js';
import { LibraryError } from '../library/library-error.js';
import { lockNoteHolderAlive, VmBusyError, withVmLock, writeLockNote } from '../library/vm-lock.js';
import { lastScreenPath } from '../library/bundle-files.js';
import { bundleToVmDescription } from '../library/vm-description-from-bundle.js';
import type { LifecycleParams, LifecycleReply } from './lifecycle.js';
import { explainShareBlocksMigration } from './share-blocks-migration.js';
import type { OwnerApi } from './owner-protocol.js';
import { deriveListState, needsProbe, NOT_RESPONDING, type ListFacts } from './list-state.js';
import { probeRunState, withVm } from './reach.js';
import { adoptVm, reattachAll, reclaimVm, type AdoptResult, type ReattachReport } from './reattach.js';
import { RunningVmTable, type RunningVm } from './running-vms.js';
import { clearSuspended, isSuspended, statePaths } from './saved-state.js';
import { dropStaleSavedState, recoverInterruptedSuspend, refuseSavingWithClipboard, resumeStateOf, suspendVm } from './suspend.js';
import { SessionError } from './session-errors.js';
import { listSnapshots, snapshotDisks, snapshotOffline, SnapshotError, type SnapshotInfo, checkSnapshotName } from './snapshots.js';
import { isFileVmId, runningFileVms, type FileVm } from './file-vms.js';
import { stoppedOwnerProblem } from './owner-process.js';
import { startVm } from './start-vm.js';
import { stopVm } from './stop-vm.js';
import type { VmSession } from './vm-session.js';

/** States in which a QEMU runs for the VM (what it runs with is worth showing). */

export { SessionError } from './session-errors.js';

export interface SessionManagerOptions {
  library?: Library;
  /** default: launchQemu decides per launch (KJU_ACCEL, else the checked host accelerator, else TCG) */
  accel?: Accelerator;
  /**
   * A short-lived CLI command (default false): no kju.sock served, no VM taken over; operations
   * reach a VM through its owner's kju.sock or attach for the call, and list() only reads states.
   */
  passive?: boolean;
  /** open() only: how often an owning manager looks for VMs nobody owns (default 2000 ms; 0: never) */
  reattachEveryMs?: number;
}

/** Why the VM in `rt` did not answer: its owning kju process is stopped, else QEMU does not respond. */
function notResponding(rt: RuntimeDir, name: string): string {
  return stoppedOwnerProblem(rt, name) ?? NOT_RESPONDING;
}

/** How often an owning manager opened with open() looks for VMs to adopt (e.g. from `kju start`). */
const REATTACH_EVERY_MS = 2_000;

export class SessionManager extends EventEmitter<{ changed: [vms: VmSummary[]] }> {
  readonly library: Library;
  private readonly accel: Accelerator | undefined;
  private readonly passive: boolean;
  private readonly table: RunningVmTable;
  private readonly adopting = new Map<string, Promise<AdoptResult>>();
  private reattachTimer: NodeJS.Timeout | null = null;
  private reattaching: Promise<ReattachReport> | null = null;
  private changeQueued = false;
  private closed = false;

  private constructor(o: SessionManagerOptions) {
    super();
    this.library = o.library ?? Library.open();
    this.accel = o.accel;
    this.passive = o.passive ?? false;
    this.table = new RunningVmTable({ changed: () => this.queueChanged(), serveOwnerSocket: !this.passive });
  }

  /** A manager that has not looked for running VMs yet (CLI commands; they reach VMs on demand). */
  static create(o: SessionManagerOptions = {}): SessionManager {
    return new SessionManager(o);
  }

  /**
   * An owning manager that has re-attached to the VMs left running by earlier owners, and keeps
   * adopting VMs that show up without an owner (`kju start`) every few seconds until close().
   */
  static async open(o: SessionManagerOptions = {}): Promise<{ manager: SessionManager; reattached: ReattachReport }> {
    const manager = new SessionManager(o);
    const reattached = await manager.reattach();
    const every = o.reattachEveryMs ?? REATTACH_EVERY_MS;
    if (!manager.passive && every > 0) {
      manager.reattachTimer = setInterval(() => void manager.reattach().catch(() => {}), every);
      manager.reattachTimer.unref();
    }
    return { manager, reattached };
  }

  /** Adopts live library VMs nobody owns, cleans up after dead ones (reattach.ts). One scan at a time. */
  reattach(): Promise<ReattachReport> {
    this.reattaching ??= reattachAll(this.library, this.table).finally(() => {
      this.reattaching = null;
      this.queueChanged();
    });
    return this.reattaching;
  }

  private runtimeDirOf(vm: BundleVm): RuntimeDir {
    return libraryVmRuntimeDir(vm);
  }

  private isRunning(vm: BundleVm): boolean {
    return this.table.get(vm.config.id) !== undefined || isAlive(readPidFile(this.runtimeDirOf(vm).pidFile));
  }

  /** An owning manager takes a VM nobody owns before operating on it; one adoption per VM at a time. */
  private async adopt(vm: BundleVm): Promise<void> {
    if (this.passive || this.table.get(vm.config.id)) return;
    let p = this.adopting.get(vm.config.id);
    if (!p) {
      p = adoptVm(vm, this.table).finally(() => this.adopting.delete(vm.config.id));
      this.adopting.set(vm.config.id, p);
    }
    await p.catch(() => {});
  }

  private queueChanged(): void {
    if (this.changeQueued || this.closed || this.listenerCount('changed') === 0) return;
    this.changeQueued = true;
    setImmediate(() => {
      this.changeQueued = false;
      this.list().then(
        (vms) => this.emit('changed', vms),
        () => {},
      );
    });
  }

  /**
   * Every VM of the library with its live state; a crash shows as `problem` with QEMU's log tail.
   * Only reads: a VM owned elsewhere is asked (or its QMP queried briefly), never taken over.
   */
  async list(): Promise<VmSummary[]> {
    const entries = await this.library.list();
    const out: VmSummary[] = [];
    for (const e of entries) {
      const s = toVmSummary(e);
      if (e.config) {
        const vm = { dir: e.dir, config: e.config };
        const r = this.table.get(e.config.id);
        const suspended = isSuspended(e.dir);
        const facts: ListFacts = {
          listed: s.state,
          owned: r && { state: r.state, held: r.session !== null },
          crash: this.table.crashOf(e.config.id),
          suspended,
          resumerAlive: suspended && lockNoteHolderAlive(vm, 'starting'),
        };
        const rt = r?.runtimeDir ?? this.runtimeDirOf(vm);
        const { state, problem } = deriveListState(facts, needsProbe(facts) ? await probeRunState(rt) : undefined);
        s.state = state;
        if (problem !== undefined) s.problem = problem === NOT_RESPONDING ? notResponding(rt, e.config.name) : problem;
        if (r?.transport) s.transport = r.transport;
        if (isActiveVmState(state)) {
          const info = readRuntimeVmInfo(rt);
          if (info) Object.assign(s, info);
        }
      }
      out.push(s);
    }
    for (const f of await this.fileVms()) out.push(f.summary);
    return out;
  }

  /** Running VMs started from a description file (`kju run path/vm.json`), not in the library. */
  private fileVms(): Promise<FileVm[]> {
    return runningFileVms({ probe: (rt) => probeRunState(rt), notResponding: (rt, name) => notResponding(rt, name) });
  }

  /** A file VM by its `file:` id; throws NOT_RUNNING when it is not running (any more). */
  private async fileVm(id: string): Promise<FileVm> {
    const f = (await this.fileVms()).find((v) => v.summary.id === id);
    if (!f) throw new SessionError('not-running', `the VM started from ${id.slice('file:'.length)} is not running (any more)`);
    return f;
  }

  /** What the app cannot do to a VM that `kju run` owns from outside the library: said plainly. */
  private refuseFileVm(idOrName: string, what: string): void {
    if (!isFileVmId(idOrName)) return;
    const path = idOrName.slice('file:'.length);
    throw new SessionError('owned-elsewhere', `cannot ${what}: the VM started from ${path} is not in the library; the "kju run" that started it owns it`, {
      hint: `use "kju stop ${path}" (or "kju pause/resume/screenshot ${path}") there, or add it to the library`,
    });
  }

  /** The library VM, which must be running; throws SUSPENDED or NOT_RUNNING with what to do. */
  private async runningVm(idOrName: string): Promise<BundleVm> {
    this.refuseFileVm(idOrName, 'do that here');
    const vm = await this.library.get(idOrName);
    if (!this.isRunning(vm)) {
      if (isSuspended(vm.dir)) throw new SessionError('suspended', `VM "${vm.config.name}" is suspended to disk; resume it with "kju resume ${vm.config.name}"`);
      throw new SessionError('not-running', `VM "${vm.config.name}" is not running; start it with "kju start ${vm.config.name}"`);
    }
    return vm;
  }

  /** Runs `fn` on the VM's OwnerApi (reach.ts), adopting it first when we own VMs and nobody has it. */
  private async onVm<T>(vm: BundleVm, fn: (api: OwnerApi, r: RunningVm | undefined) => Promise<T>): Promise<T> {
    await this.adopt(vm);
    return withVm({ name: vm.config.name, runtimeDir: this.runtimeDirOf(vm) }, (api) => fn(api, this.table.get(vm.config.id)));
  }

  private async lifecycle(idOrName: string, p: LifecycleParams): Promise<LifecycleReply> {
    return this.onVm(await this.runningVm(idOrName), (api) => api.lifecycle(p));
  }

  private summaryOf(vm: BundleVm): Promise<VmSummary> {
    return this.list().then((all) => all.find((s) => s.id === vm.config.id)!);
  }

  /**
   * Starts a stopped VM, or resumes a suspended one from its saved state (`fresh` discards that
   * state and boots from the disks). Throws ALREADY_RUNNING, LibraryError (MISSING_FILE,
   * INVALID_CONFIG...), SavedStateError, QemuLaunchError. QEMU is detached: it outlives this process.
   */
  async start(idOrName: string, o: { fresh?: boolean } = {}): Promise<{ summary: VmSummary; logFile: string; resumed: boolean }> {
    if (isFileVmId(idOrName)) throw new SessionError('already-running', `the VM started from ${idOrName.slice('file:'.length)} is already running`);
    const vm = await this.library.get(idOrName);
    return withVmLock(vm, 'starting', () => this.startLocked(vm, o)).catch((err: unknown) => {
      // the loser of a start race ends as "already running" whether it came before or after the winner's launch
      if (err instanceof VmBusyError && err.holder === 'starting') {
        throw new SessionError('already-running', `VM "${vm.config.name}" is starting (another kju process is starting it)`, { cause: err });
      }
      throw err;
    });
  }

  private async startLocked(vm: BundleVm, o: { fresh?: boolean }): Promise<{ summary: VmSummary; logFile: string; resumed: boolean }> {
    await recoverInterruptedSuspend(vm, this.runtimeDirOf(vm), this.isRunning(vm), this.table);
    if (this.isRunning(vm)) throw new SessionError('already-running', `VM "${vm.config.name}" is already running`);
    const desc = bundleToVmDescription(vm);
    const stateFile = await resumeStateOf(vm, o.fresh ?? false);
    let r: RunningVm | undefined;
    if (stateFile) writeLockNote(vm, 'starting'); // a recovered QEMU's exit removed it: the list tells this resume from a killed one by it
    const { qemu, session } = await startVm(desc, {
      runtimeDir: this.runtimeDirOf(vm),
      accel: this.accel,
      logDir: join(vm.dir, 'logs'),
      bundleDir: vm.dir,
      stateFile,
      onAttached: (q, s) => {
        r = this.table.add(vm, q, stateFile ? 'starting' : 'running');
        this.table.own(r, s);
      },
    }).catch((err: unknown) => {
      if (r) this.table.markEnding(r, 'stop'); // killed by startVm: no crash
      throw err;
    });
    if (stateFile) clearSuspended(vm.dir);
    this.table.setState(r!, (await session.ownerApi().lifecycle({ op: 'query' })).state);
    this.queueChanged();
    return { summary: await this.summaryOf(vm), logFile: qemu.logFile, resumed: Boolean(stateFile) };
  }

  async pause(idOrName: string): Promise<LifecycleReply> {
    return this.lifecycle(idOrName, { op: 'pause' });
  }

  /** Continues a paused VM. */
  async unpause(idOrName: string): Promise<LifecycleReply> {
    const reply = await this.lifecycle(idOrName, { op: 'cont' });
    dropStaleSavedState(await this.library.get(idOrName));
    return reply;
  }

  async reset(idOrName: string): Promise<LifecycleReply> {
    return this.lifecycle(idOrName, { op: 'reset' });
  }

  /**
   * ACPI power button, then waits up to `timeoutMs` for QEMU to exit; `force` quits at once
   * (or after the timeout with `forceAfter`). Resolves whether it stopped.
   */
  async stop(idOrName: string, o: { force?: boolean; timeoutMs?: number; forceAfter?: boolean } = {}): Promise<{ stopped: boolean; summary: VmSummary }> {
    if (isFileVmId(idOrName)) return this.stopFileVm(idOrName, o);
    const vm = await this.runningVm(idOrName);
    return withVmLock(vm, 'stopping', () => this.stopLocked(vm, o));
  }

  private async stopLocked(vm: BundleVm, o: { force?: boolean; timeoutMs?: number; forceAfter?: boolean }): Promise<{ stopped: boolean; summary: VmSummary }> {
    const timeoutMs = o.timeoutMs ?? 30_000;
    let stopped = false;
    if (!o.force) {
      stopped = await this.onVm(vm, async (api, r) => {
        if (r) this.table.markEnding(r, 'stop');
        const done = (await api.stop({ force: false, timeoutMs })).stopped;
        if (!done && r) this.table.clearEnding(r);
        return done;
      });
    }
    if (!stopped && (o.force || o.forceAfter)) {
      await this.adopt(vm);
      const r = this.table.get(vm.config.id);
      if (r) this.table.markEnding(r, 'stop');
      // QMP quit, else SIGKILL of the verified QEMU (hung, or its qmp.sock held by another process)
      stopped = (await stopVm({ name: vm.config.name, runtimeDir: this.runtimeDirOf(vm) }, { force: true })).stopped;
      if (!stopped && r) this.table.clearEnding(r);
    }
    // what QEMU leaves (launch stamp, vm.json) goes now, not at the next scan
    if (stopped) removeRuntimeDir(this.runtimeDirOf(vm));
    await new Promise((res) => setImmediate(res));
    return { stopped, summary: await this.summaryOf(vm) };
  }

  /** Stops a file VM through its owner (the `kju run` that started it), like `kju stop path/vm.json`. */
  private async stopFileVm(id: string, o: { force?: boolean; timeoutMs?: number; forceAfter?: boolean }): Promise<{ stopped: boolean; summary: VmSummary }> {
    const f = await this.fileVm(id);
    const ref = { name: f.summary.name, runtimeDir: f.runtimeDir };
    let stopped = o.force ? false : (await stopVm(ref, { timeoutMs: o.timeoutMs })).stopped;
    if (!stopped && (o.force || o.forceAfter)) stopped = (await stopVm(ref, { force: true })).stopped;
    this.queueChanged();
    const { problem: _gone, ...rest } = f.summary;
    return { stopped, summary: stopped ? { ...rest, state: 'stopped' } : f.summary };
  }

  /**
   * Saves the whole VM (RAM, devices) into `<bundle>/states/` and stops QEMU; `start` resumes it.
   * The disks must stay untouched until then (edits and snapshots are refused meanwhile).
   */
  async suspend(idOrName: string): Promise<{ summary: VmSummary; bytes: number; stateFile: string }> {
    const vm = await this.runningVm(idOrName);
    return withVmLock(vm, 'suspending', () => this.suspendLocked(vm));
  }

  private async suspendLocked(vm: BundleVm): Promise<{ summary: VmSummary; bytes: number; stateFile: string }> {
    refuseSavingWithClipboard(vm, 'suspended');
    const paths = statePaths(vm.dir);
    rmSync(paths.partial, { force: true });
    const rt = this.runtimeDirOf(vm);
    const bytes = await this.onVm(vm, (api, r) => suspendVm(vm, rt, api, r, this.table));
    killPoint('suspend:quit');
    if (!isAlive(readPidFile(rt.pidFile))) removeRuntimeDir(rt);
    await new Promise((res) => setImmediate(res));
    return { summary: await this.summaryOf(vm), bytes, stateFile: paths.state };
  }

  /** Snapshots: live (RAM included) while running, disk-only with qemu-img while stopped. */
  async snapshots(idOrName: string): Promise<SnapshotInfo[]> {
    return listSnapshots(await this.library.get(idOrName));
  }

  async snapshot(idOrName: string, op: 'create' | 'revert' | 'delete', name: string): Promise<{ live: boolean }> {
    const vm = await this.library.get(idOrName);
    checkSnapshotName(name);
    snapshotDisks(vm);
    if (isSuspended(vm.dir)) {
      throw new SnapshotError('suspended', `VM "${vm.config.name}" is suspended to disk; its disks must not change until it resumes: resume it first (or start it with --fresh)`);
    }
    if (!this.isRunning(vm)) {
      await snapshotOffline(vm, op, name);
      return { live: false };
    }
    const existing = await listSnapshots(vm);
    const has = existing.some((s) => s.name === name);
    if (op === 'create' && has) throw new SnapshotError('exists', `VM "${vm.config.name}" already has a snapshot named "${name}"; delete it first or choose another name`);
    if (op !== 'create' && !has) throw new SnapshotError('not-found', `VM "${vm.config.name}" has no snapshot named "${name}"`);
    if (op !== 'delete') refuseSavingWithClipboard(vm, 'snapshotted live');
    await this.lifecycle(vm.config.id, { op: `snapshot-${op}`, tag: name }).catch((err: unknown) => {
      throw explainShareBlocksMigration(err, vm.config.name, op === 'revert' ? 'reverted to a snapshot live' : 'snapshotted live');
    });
    return { live: true };
  }

  /**
   * Puts an ISO in the VM's CD-ROM drive (`path`) or ejects it (null), in the running QEMU (see
   * media.ts) and in the bundle, so the next boot has the same disc. Refused while suspended.
   */
  async setCdrom(idOrName: string, path: string | null): Promise<VmSummary> {
    const vm = await this.library.get(idOrName);
    const file = path === null ? null : resolve(path);
    if (file !== null && !existsSync(file)) throw new LibraryError('missing-file', `ISO image ${file} does not exist`, file);
    if (this.isRunning(vm)) await this.lifecycle(vm.config.id, file === null ? { op: 'cdrom-eject' } : { op: 'cdrom-insert', file });
    await this.library.edit(vm.config.id, { cdrom: file });
    this.queueChanged();
    return this.summaryOf(vm);
  }

  /**
   * A running VM's port forwards, changed live by its owner (HMP hostfwd_add/remove); every op
   * answers with the forwards after it. Throws SUSPENDED/NOT_RUNNING, GuestLinkError 'port-in-use'.
   */
  async forward(idOrName: string, p: Parameters<OwnerApi['forward']>[0]): Promise<Awaited<ReturnType<OwnerApi['forward']>>> {
    return this.onVm(await this.runningVm(idOrName), (api) => api.forward(p));
  }

  /** Host USB devices of a running VM: list (bus-port names), attach, detach (a gone device is removed: false). */
  async usb(idOrName: string, p: Parameters<OwnerApi['usb']>[0]): Promise<Awaited<ReturnType<OwnerApi['usb']>>> {
    return this.onVm(await this.runningVm(idOrName), (api) => api.usb(p));
  }

  /** The table entry of a VM this manager owns (adopting it when nobody does); 'owned-elsewhere' otherwise. */
  private async ownedVm(idOrName: string): Promise<RunningVm & { session: VmSession }> {
    const vm = await this.runningVm(idOrName);
    await this.adopt(vm);
    const r = this.table.get(vm.config.id);
    if (!r?.session) throw new SessionError('owned-elsewhere', `VM "${vm.config.name}" is shown by another kju process right now`);
    return r as RunningVm & { session: VmSession };
  }

  /**
   * The guest's sound out of a VM this manager owns: a new out-listener (QEMU allows several); the
   * caller owns it and closes it. SessionError no-sound when the VM runs without a sound card.
   */
  async openAudio(idOrName: string): Promise<AudioOut> {
    return (await this.ownedVm(idOrName)).session.openAudio();
  }

  /**
   * A new display of console `console` (0 = first graphic console) of a VM this manager owns.
   * Each call registers its own D-Bus listener (QEMU allows several per console and replays the
   * current surface to each); the caller owns it and closes it.
   */
  async openDisplay(idOrName: string, console = 0): Promise<DisplaySource> {
    this.refuseFileVm(idOrName, 'open its window in this kju');
    const r = await this.ownedVm(idOrName);
    const consoles = await r.session.display.graphicConsoles();
    if (console < 0 || console >= consoles.length) {
      throw new SessionError('no-console', `VM "${r.name}" has ${consoles.length} graphic console(s); there is no console ${console}`);
    }
    const display = await r.session.display.openDisplay(consoles[console]);
    // The list shows how the screen arrives (shared memory or copied) once a display has seen a surface.
    const note = (t: Transport | undefined) => {
      if (t) this.table.noteTransport(r, t);
    };
    note(display.surface?.transport);
    // before any await: a first surface arriving meanwhile must not be missed
    display.on('surface', (s) => note(s.transport));
    return display;
  }

  /** The clipboard of a VM this manager owns, when its config shares it (VmSession.sharedClipboard); null when not. */
  async sharedClipboard(idOrName: string): Promise<GuestClipboard | null> {
    const r = await this.ownedVm(idOrName);
    const vm = await this.library.get(r.id).catch(() => null);
    if (!vm?.config.clipboard) return null;
    return (await r.session.sharedClipboard((line) => process.stderr.write(`kju: ${r.name}: ${line}\n`))) ?? null;
  }

  /**
   * The library's thumbnail of a VM: live from the screen of a VM this manager shows (VmSession
   * makes at most one a second), else the last screen saved in its bundle at stop or suspend; null
   * when there is neither (a VM started from a file, one shown by another kju, one never seen).
   */
  async thumbnail(idOrName: string): Promise<{ png: Buffer; live: boolean } | null> {
    if (isFileVmId(idOrName)) return null;
    const vm = await this.library.get(idOrName);
    const session = this.table.get(vm.config.id)?.session;
    const live = session ? await session.thumbnail() : null;
    if (live) return { png: live, live: true };
    try {
      return { png: await readFile(lastScreenPath(vm.dir)), live: false };
    } catch {
      return null;
    }
  }

  /** The session of a VM this manager owns (tests, screenshots); undefined otherwise. */
  sessionOf(id: string): VmSession | undefined {
    return this.table.get(id)?.session ?? undefined;
  }

  /** Lets go of QMP and the display of a VM so another process (a display utility) can own it. */
  async release(idOrName: string): Promise<{ vmId: string; name: string; runtimeDir: string; pid: number; clipboard: boolean }> {
    const r = await this.ownedVm(idOrName);
    const clipboard = !!(await this.library.get(r.id).catch(() => null))?.config.clipboard;
    this.table.release(r);
    return { vmId: r.id, name: r.name, runtimeDir: r.runtimeDir.dir, pid: r.pid, clipboard };
  }

  /** Owns a released VM again (its utility is gone). No-op when it stopped or someone else owns it. */
  async reclaim(idOrName: string): Promise<void> {
    const vm = await this.library.get(idOrName);
    const r = this.table.get(vm.config.id);
    if (!r || r.session) return;
    if ((await reclaimVm(r, this.table)) === 'attached') this.queueChanged();
  }

  /** Running (or paused) VMs this manager owns or has released to a display utility, by id. */
  activeIds(): string[] {
    return this.table.ids();
  }

  /** Quit choice "suspend all": returns the failures, one line each. */
  async suspendAll(): Promise<string[]> {
    const ids = this.activeIds();
    const results = await Promise.all(
      ids.map((id) =>
        this.suspend(id).then(
          () => null,
          (err: Error) => `${this.table.get(id)?.name ?? id}: ${err.message}`,
        ),
      ),
    );
    return results.filter((x): x is string => x !== null);
  }

  /** Quit choice "shut down all": ACPI to every VM at once; names the VMs that did not stop in time. */
  async shutdownAll(timeoutMs: number): Promise<{ notStopped: string[] }> {
    const vms = this.table.values();
    const results = await Promise.all(
      vms.map((r) =>
        this.stop(r.id, { timeoutMs }).then(
          (x) => x.stopped,
          () => false,
        ),
      ),
    );
    return { notStopped: vms.filter((_, i) => !results[i]).map((r) => r.name) };
  }

  /** Quit choice "keep running": closes our connections; QEMU and the VMs carry on. */
  close(): void {
    this.closed = true;
    if (this.reattachTimer) clearInterval(this.reattachTimer);
    this.reattachTimer = null;
    this.table.close();
  }
}

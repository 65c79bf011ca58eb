// The library's running VMs as seen by the one process that hosts them (the app, `kju serve`, or a
// CLI command for its duration). QEMU accepts one QMP client and one D-Bus display connection at a
// time, so for every running VM exactly one kju process holds those and serves kju.sock; others
// reach it there. This class starts VMs (booting, or resuming a suspended one), re-attaches on
// start-up to VMs that outlived their host, tracks live state from QMP events and process exit,
// and runs lifecycle operations. QEMU never belongs to it: detaching leaves VMs running.
// Everything runs on the Node event loop of the hosting process.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { VmRunState, VmSummary } from '../../common/contract.js';
import type { DisplaySource } from '../display/display-source.js';
import type { Accelerator } from '../qemu/build-argv.js';
import { runtimePaths } from '../qemu/build-argv.js';
import { attachQemu, launchQemu, type QemuExit, type QemuProcess } from '../qemu/launch.js';
import { prepareRuntimeDir, runtimeBase, runtimeDirFor, sanitizeVmName } from '../qemu/runtime-dir.js';
import { QmpClient } from '../qmp/qmp-client.js';
import { Library, toVmSummary, type BundleVm } from '../library/library.js';
import { LibraryError } from '../library/library-error.js';
import { bundleToVmDescription } from '../library/vm-description-from-bundle.js';
import { callHost, NoHostError } from './control-client.js';
import type { ControlServer } from './control-server.js';
import { loadStateFromFile, runLifecycleOp, type LifecycleParams, type LifecycleReply } from './lifecycle.js';
import { checkResumable, clearSuspended, isSuspended, readSuspended, recordSuspended, statePaths } from './saved-state.js';
import { listSnapshots, snapshotDisks, snapshotOffline, SnapshotError, type SnapshotInfo, checkSnapshotName } from './snapshots.js';
import { describeExit, VmSession } from './vm-session.js';
import { isAlive, readPidFile } from '../qemu/pid-alive.js';

export type SessionErrorCode = 'NOT_RUNNING' | 'ALREADY_RUNNING' | 'HOSTED_ELSEWHERE' | 'SUSPENDED' | 'NO_CONSOLE';

export class SessionError extends Error {
  override name = 'SessionError';
  constructor(
    readonly code: SessionErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SessionManagerOptions {
  library?: Library;
  /** default: launchQemu decides per launch (KJU_ACCEL, else the checked host accelerator, else TCG) */
  accel?: Accelerator;
  /**
   * A short-lived CLI command (default false): no kju.sock served, and list() only reads states
   * (through kju.sock, or a brief QMP query) instead of taking over running VMs.
   */
  passive?: boolean;
}

export interface ReattachReport {
  /** VMs this manager now hosts */
  attached: string[];
  /** live VMs another kju process hosts (reached through kju.sock) */
  hostedElsewhere: string[];
  /** runtime dirs of QEMUs that are gone, cleaned up */
  removed: string[];
  /** live VMs not in the library (started from a description file): left alone */
  foreign: string[];
}

interface RunningVm {
  id: string;
  name: string;
  bundleDir: string;
  runtimeDir: string;
  pid: number;
  logFile: string;
  exited: Promise<QemuExit>;
  /** null while another process holds QMP (released to a display utility, or hosted elsewhere) */
  session: VmSession | null;
  state: VmRunState;
  /** QEMU announced an orderly end (guest power-off, quit, signal): its exit is no crash */
  shutdownSeen: boolean;
  /** we asked it to end: suspend or stop */
  ending: 'suspend' | 'stop' | null;
  /** kju.sock, while we host the VM */
  control: { close(): unknown } | null;
}



const readPid = (runtimeDir: string): number | undefined => readPidFile(runtimePaths(runtimeDir).pidFile);

/** Removes what a dead QEMU and its host left in its runtime dir (only files kju puts there). */
export function removeStaleRuntimeDir(runtimeDir: string): void {
  const p = runtimePaths(runtimeDir);
  for (const f of [p.qmpSocket, p.serialSocket, p.pidFile, p.vmJson, p.controlSocket]) rmSync(f, { force: true });
  try {
    rmdirSync(runtimeDir);
  } catch {
    // something else is in there: leave the directory
  }
}

/** Whether a kju process answers on the VM's kju.sock. */
async function hostAnswers(runtimeDir: string): Promise<boolean> {
  try {
    await callHost(runtimePaths(runtimeDir).controlSocket, 'status', {}, 5_000);
    return true;
  } catch (err) {
    if (err instanceof NoHostError) return false;
    return false;
  }
}

export class SessionManager extends EventEmitter<{ changed: [vms: VmSummary[]] }> {
  readonly library: Library;
  private readonly accel: Accelerator | undefined;
  private readonly passive: boolean;
  private readonly running = new Map<string, RunningVm>();
  /** why a VM last ended badly (crash with log tail), until it is started again */
  private readonly crashed = new Map<string, string>();
  private changeQueued = false;
  private closed = false;

  private constructor(o: SessionManagerOptions) {
    super();
    this.library = o.library ?? Library.open();
    this.accel = o.accel;
    this.passive = o.passive ?? false;
  }

  /** A manager that has not looked for running VMs yet (CLI commands; they attach on demand). */
  static create(o: SessionManagerOptions = {}): SessionManager {
    return new SessionManager(o);
  }

  /** A manager that has already re-attached to the VMs left running by earlier hosts. */
  static async open(o: SessionManagerOptions = {}): Promise<{ manager: SessionManager; reattached: ReattachReport }> {
    const manager = new SessionManager(o);
    const reattached = await manager.reattach();
    return { manager, reattached };
  }

  /** Scans the runtime dirs: attaches to live library VMs nobody hosts, cleans up after dead ones. */
  async reattach(): Promise<ReattachReport> {
    const report: ReattachReport = { attached: [], hostedElsewhere: [], removed: [], foreign: [] };
    let dirs: string[];
    try {
      dirs = readdirSync(runtimeBase());
    } catch {
      return report;
    }
    const entries = await this.library.list();
    for (const d of dirs) {
      const runtimeDir = join(runtimeBase(), d);
      if (!existsSync(runtimePaths(runtimeDir).vmJson) && !existsSync(runtimePaths(runtimeDir).pidFile)) continue;
      const pid = readPid(runtimeDir);
      if (pid === undefined || !isAlive(pid)) {
        if (await hostAnswers(runtimeDir)) continue; // QEMU is starting under another host
        removeStaleRuntimeDir(runtimeDir);
        report.removed.push(runtimeDir);
        continue;
      }
      let name: string | undefined;
      try {
        name = (JSON.parse(readFileSync(runtimePaths(runtimeDir).vmJson, 'utf8')) as { name?: string }).name;
      } catch {
        // no vm.json: not a VM kju can name
      }
      const entry = entries.find((e) => e.config && !e.problem && e.name.toLowerCase() === name?.toLowerCase());
      if (!entry || runtimeDirFor(entry.name) !== runtimeDir) {
        report.foreign.push(runtimeDir);
        continue;
      }
      const r = await this.adopt({ dir: entry.dir, config: entry.config! });
      if (r === 'attached') report.attached.push(entry.name);
      else if (r === 'elsewhere') report.hostedElsewhere.push(entry.name);
      else if (r === 'stale') report.removed.push(runtimeDir);
    }
    this.queueChanged();
    return report;
  }

  /** Takes over a live QEMU of the library nobody hosts. */
  private async adopt(vm: BundleVm): Promise<'attached' | 'elsewhere' | 'stale' | 'gone'> {
    const runtimeDir = runtimeDirFor(vm.config.name);
    if (this.running.has(vm.config.id)) return 'attached';
    const logFile = join(vm.dir, 'logs', `${sanitizeVmName(vm.config.name)}.log`);
    const qemu = attachQemu(runtimeDir, { logFile });
    if (!qemu) return 'gone';
    qemu.unref();
    if (await hostAnswers(runtimeDir)) {
      this.track(vm, qemu, null, 'running');
      return 'elsewhere';
    }
    let qmp: QmpClient;
    try {
      qmp = await QmpClient.connect(runtimePaths(runtimeDir).qmpSocket, { greetingTimeoutMs: 5_000 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNREFUSED' || code === 'ENOENT') {
        // The pid is alive but nobody listens: the pid was reused by an unrelated process.
        removeStaleRuntimeDir(runtimeDir);
        return 'stale';
      }
      // Someone holds QMP without serving kju.sock (a CLI command in progress): leave it to them.
      this.track(vm, qemu, null, 'running');
      return 'elsewhere';
    }
    const session = await VmSession.attach({ name: vm.config.name, runtimeDir, pid: qemu.pid, exited: qemu.exited, qmp });
    const { state } = await runLifecycleOp(session.qmp, { op: 'query' });
    this.track(vm, qemu, session, state);
    return 'attached';
  }

  private track(vm: BundleVm, qemu: QemuProcess, session: VmSession | null, state: VmRunState): RunningVm {
    const r: RunningVm = {
      id: vm.config.id,
      name: vm.config.name,
      bundleDir: vm.dir,
      runtimeDir: qemu.runtimeDir,
      pid: qemu.pid,
      logFile: qemu.logFile,
      exited: qemu.exited,
      session: null,
      state,
      shutdownSeen: false,
      ending: null,
      control: null,
    };
    this.running.set(r.id, r);
    this.crashed.delete(r.id);
    if (session) this.bindSession(r, session);
    void qemu.exited.then((exit) => this.onExit(r, exit));
    this.queueChanged();
    return r;
  }

  private bindSession(r: RunningVm, session: VmSession): void {
    r.session = session;
    session.on('qmp-event', (event) => {
      if (r.session !== session) return;
      const next: Partial<Record<string, VmRunState>> = { STOP: 'paused', RESUME: 'running', SUSPEND: 'paused', WAKEUP: 'running', SHUTDOWN: 'shutting-down' };
      if (event === 'SHUTDOWN') r.shutdownSeen = true;
      const s = next[event];
      if (s && s !== r.state) {
        r.state = s;
        this.queueChanged();
      } else if (event === 'RESET') this.queueChanged();
    });
    if (!this.passive) {
      this.serveControl(r, session).then(
        (server) => (r.session === session ? (r.control = server) : server.close()),
        () => {},
      );
    }
  }

  /** kju.sock for a VM we host: what VmSession serves, with stops and lifecycle through our bookkeeping. */
  private serveControl(r: RunningVm, session: VmSession): Promise<ControlServer> {
    return session.hostControlSocket(
      {
        stop: async ({ force, timeoutMs }) => {
          r.ending = 'stop';
          const stopped = await session.stop(Boolean(force), timeoutMs);
          if (!stopped) r.ending = null;
          return { stopped };
        },
      },
      { lifecycle: (p) => this.lifecycle(r, p) },
    );
  }


  private detachSession(r: RunningVm): void {
    r.control?.close();
    r.control = null;
    r.session?.detach();
    r.session = null;
  }

  private onExit(r: RunningVm, exit: QemuExit): void {
    if (this.running.get(r.id) !== r) return;
    this.running.delete(r.id);
    this.detachSession(r);
    // A QEMU we did not hear end in order, and did not ask to end, crashed (or was killed).
    const orderly = r.ending !== null || r.shutdownSeen || (exit.code === 0 && exit.signal === null);
    if (!orderly) this.crashed.set(r.id, describeExit(r.name, { code: exit.code, signal: exit.signal, logTail: exit.logTail }));
    removeStaleRuntimeDir(r.runtimeDir); // the exit promise already knows (a zombie QEMU still answers kill 0)
    this.queueChanged();
  }

  private queueChanged(): void {
    if (this.changeQueued || this.closed || this.listenerCount('changed') === 0) return;
    this.changeQueued = true;
    setImmediate(() => {
      this.changeQueued = false;
      this.list().then((vms) => this.emit('changed', vms), () => {});
    });
  }

  /** Every VM of the library with its live state; a crash shows as `problem` with QEMU's log tail. */
  async list(): Promise<VmSummary[]> {
    const entries = await this.library.list();
    const out: VmSummary[] = [];
    for (const e of entries) {
      const s = toVmSummary(e);
      const id = e.config?.id;
      const r = id ? this.running.get(id) : undefined;
      if (r) {
        s.state = r.session ? r.state : await this.remoteState(r);
      } else if (id && this.crashed.has(id)) {
        s.state = 'crashed';
        s.problem = this.crashed.get(id);
      } else if (e.config && isSuspended(e.dir) && s.state === 'stopped') {
        s.state = 'suspended';
      } else if (e.config && s.state === 'running' && this.passive) {
        s.state = await this.probeState(runtimeDirFor(e.name));
      } else if (e.config && s.state === 'running' && !e.problem) {
        // running, but started elsewhere since our scan (e.g. `kju start`): take it over
        const how = await this.adopt({ dir: e.dir, config: e.config }).catch(() => 'gone' as const);
        const a = this.running.get(e.config.id);
        if (how === 'attached' && a) s.state = a.state;
        else if (how === 'stale' || how === 'gone') s.state = 'stopped';
      }
      out.push(s);
    }
    return out;
  }

  /** The state of a VM we do not host, without taking it over. */
  private async probeState(runtimeDir: string): Promise<VmRunState> {
    try {
      return (await callHost(runtimePaths(runtimeDir).controlSocket, 'lifecycle', { op: 'query' }, 3_000)).state;
    } catch (err) {
      if (!(err instanceof NoHostError)) return 'running';
    }
    try {
      const qmp = await QmpClient.connect(runtimePaths(runtimeDir).qmpSocket, { greetingTimeoutMs: 2_000 });
      try {
        return (await runLifecycleOp(qmp, { op: 'query' })).state;
      } finally {
        qmp.close();
      }
    } catch {
      return 'running';
    }
  }

  private async remoteState(r: RunningVm): Promise<VmRunState> {
    try {
      return (await callHost(runtimePaths(r.runtimeDir).controlSocket, 'lifecycle', { op: 'query' }, 3_000)).state;
    } catch {
      return r.state;
    }
  }

  private async runningVm(idOrName: string): Promise<{ vm: BundleVm; r: RunningVm }> {
    const vm = await this.library.get(idOrName);
    let r = this.running.get(vm.config.id);
    if (!r && isAlive(readPid(runtimeDirFor(vm.config.name)))) {
      await this.adopt(vm);
      r = this.running.get(vm.config.id);
    }
    if (!r) {
      if (isSuspended(vm.dir)) throw new SessionError('SUSPENDED', `VM "${vm.config.name}" is suspended to disk; resume it with "kju resume ${vm.config.name}"`);
      throw new SessionError('NOT_RUNNING', `VM "${vm.config.name}" is not running; start it with "kju start ${vm.config.name}"`);
    }
    return { vm, r };
  }

  /** Runs a lifecycle op on a running VM, here or through the kju process that hosts it. */
  private async lifecycle(r: RunningVm, p: LifecycleParams): Promise<LifecycleReply> {
    if (r.session) {
      const reply = await runLifecycleOp(r.session.qmp, p);
      if (reply.state !== r.state) {
        r.state = reply.state;
        this.queueChanged();
      }
      return reply;
    }
    try {
      return await callHost(runtimePaths(r.runtimeDir).controlSocket, 'lifecycle', p, 600_000);
    } catch (err) {
      if (err instanceof NoHostError) throw new SessionError('HOSTED_ELSEWHERE', `another kju process holds VM "${r.name}" and does not answer; try again when it is done`);
      throw err;
    }
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
    const vm = await this.library.get(idOrName);
    const name = vm.config.name;
    if (this.running.has(vm.config.id) || isAlive(readPid(runtimeDirFor(name)))) {
      throw new SessionError('ALREADY_RUNNING', `VM "${name}" is already running`);
    }
    const desc = bundleToVmDescription(vm);
    let record = readSuspended(vm.dir);
    if (record && o.fresh) {
      clearSuspended(vm.dir);
      record = null;
    }
    const stateFile = record ? checkResumable(vm, record) : undefined;
    if (stateFile) desc.extraArgs = [...(desc.extraArgs ?? []), '-incoming', 'defer'];
    const logDir = join(vm.dir, 'logs');
    const qemu = await launchQemu(desc, { accel: this.accel, runtimeDir: prepareRuntimeDir(name), logDir });
    qemu.unref();
    let session: VmSession;
    try {
      session = await VmSession.attach({ name, runtimeDir: qemu.runtimeDir, pid: qemu.pid, exited: qemu.exited });
    } catch (err) {
      qemu.kill('SIGKILL');
      throw err;
    }
    const r = this.track(vm, qemu, session, stateFile ? 'starting' : 'running');
    if (stateFile) {
      try {
        await loadStateFromFile(session.qmp, stateFile);
      } catch (err) {
        r.ending = 'stop';
        qemu.kill('SIGKILL');
        throw err;
      }
      clearSuspended(vm.dir);
      r.state = 'running';
    }
    const { state } = await runLifecycleOp(session.qmp, { op: 'query' });
    r.state = state;
    this.queueChanged();
    return { summary: await this.summaryOf(vm), logFile: qemu.logFile, resumed: Boolean(stateFile) };
  }

  async pause(idOrName: string): Promise<LifecycleReply> {
    const { r } = await this.runningVm(idOrName);
    return this.lifecycle(r, { op: 'pause' });
  }

  /** Continues a paused VM. */
  async unpause(idOrName: string): Promise<LifecycleReply> {
    const { r } = await this.runningVm(idOrName);
    return this.lifecycle(r, { op: 'cont' });
  }

  async reset(idOrName: string): Promise<LifecycleReply> {
    const { r } = await this.runningVm(idOrName);
    return this.lifecycle(r, { op: 'reset' });
  }

  /**
   * ACPI power button, then waits up to `timeoutMs` for QEMU to exit; `force` quits at once
   * (or after the timeout with `forceAfter`). Resolves whether it stopped.
   */
  async stop(idOrName: string, o: { force?: boolean; timeoutMs?: number; forceAfter?: boolean } = {}): Promise<{ stopped: boolean; summary: VmSummary }> {
    const { vm, r } = await this.runningVm(idOrName);
    const timeoutMs = o.timeoutMs ?? 30_000;
    const waitExit = (ms: number) => this.waitExit(r, ms);
    r.ending = 'stop';
    if (o.force) {
      await this.quit(r);
    } else {
      if (r.state === 'paused') await this.lifecycle(r, { op: 'cont' }); // a paused guest cannot see the button
      await this.lifecycle(r, { op: 'powerdown' });
    }
    let stopped = await waitExit(o.force ? 10_000 : timeoutMs);
    if (!stopped && o.forceAfter) {
      await this.quit(r);
      stopped = await waitExit(10_000);
    }
    if (!stopped) r.ending = null;
    if (!stopped && o.force) process.kill(r.pid, 'SIGKILL');
    await new Promise((res) => setImmediate(res));
    return { stopped, summary: await this.summaryOf(vm) };
  }

  /** Whether QEMU exits within `ms`. The timer is not unref'd: a CLI command must stay alive to see the exit. */
  private waitExit(r: RunningVm, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      r.exited.then(() => true),
      new Promise<false>((res) => (timer = setTimeout(() => res(false), ms))),
    ]).finally(() => clearTimeout(timer));
  }

  private async quit(r: RunningVm): Promise<void> {
    if (r.session) {
      await r.session.qmp.execute('quit').catch(() => {}); // QEMU may close the socket before replying
      return;
    }
    try {
      await callHost(runtimePaths(r.runtimeDir).controlSocket, 'stop', { force: true });
    } catch {
      process.kill(r.pid, 'SIGTERM');
    }
  }

  /**
   * Saves the whole VM (RAM, devices) into `<bundle>/states/` and stops QEMU; `start` resumes it.
   * The disks must stay untouched until then (edits and snapshots are refused meanwhile).
   */
  async suspend(idOrName: string): Promise<{ summary: VmSummary; bytes: number; stateFile: string }> {
    const { vm, r } = await this.runningVm(idOrName);
    const paths = statePaths(vm.dir);
    rmSync(paths.partial, { force: true });
    const reply = await this.lifecycle(r, { op: 'save-state', file: paths.partial });
    r.ending = 'suspend';
    await this.quit(r);
    const gone = await this.waitExit(r, 15_000);
    if (!gone) {
      process.kill(r.pid, 'SIGKILL');
      await r.exited;
    }
    await recordSuspended(vm, reply.bytes ?? 0);
    await new Promise((res) => setImmediate(res));
    return { summary: await this.summaryOf(vm), bytes: reply.bytes ?? 0, stateFile: paths.state };
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
      throw new SnapshotError('SUSPENDED', `VM "${vm.config.name}" is suspended to disk; its disks must not change until it resumes: resume it first (or start it with --fresh)`);
    }
    const running = this.running.has(vm.config.id) || isAlive(readPid(runtimeDirFor(vm.config.name)));
    if (!running) {
      await snapshotOffline(vm, op, name);
      return { live: false };
    }
    const { r } = await this.runningVm(idOrName);
    const existing = await listSnapshots(vm);
    const has = existing.some((s) => s.name === name);
    if (op === 'create' && has) throw new SnapshotError('EXISTS', `VM "${vm.config.name}" already has a snapshot named "${name}"; delete it first or choose another name`);
    if (op !== 'create' && !has) throw new SnapshotError('NOT_FOUND', `VM "${vm.config.name}" has no snapshot named "${name}"`);
    await this.lifecycle(r, { op: `snapshot-${op}`, tag: name });
    return { live: true };
  }

  /**
   * Puts an ISO in the VM's CD-ROM drive (`path`) or ejects it (null), in the running QEMU (see
   * media.ts) and in the bundle, so the next boot has the same disc. Refused while suspended.
   */
  async setCdrom(idOrName: string, path: string | null): Promise<VmSummary> {
    const vm = await this.library.get(idOrName);
    const file = path === null ? null : resolve(path);
    if (file !== null && !existsSync(file)) throw new LibraryError('MISSING_FILE', `ISO image ${file} does not exist`, file);
    const running = this.running.has(vm.config.id) || isAlive(readPid(runtimeDirFor(vm.config.name)));
    if (running) {
      const { r } = await this.runningVm(idOrName);
      await this.lifecycle(r, file === null ? { op: 'cdrom-eject' } : { op: 'cdrom-insert', file });
    }
    await this.library.edit(vm.config.id, { cdrom: file });
    this.queueChanged();
    return this.summaryOf(vm);
  }

  /**
   * A new display of console `console` (0 = first graphic console) of a VM this manager hosts.
   * Each call registers its own D-Bus listener (QEMU allows several per console and replays the
   * current surface to each); the caller owns it and closes it.
   */
  async openDisplay(idOrName: string, console = 0): Promise<DisplaySource> {
    const { r } = await this.runningVm(idOrName);
    if (!r.session) throw new SessionError('HOSTED_ELSEWHERE', `VM "${r.name}" is shown by another kju process right now`);
    const consoles = await r.session.display.graphicConsoles();
    if (console < 0 || console >= consoles.length) {
      throw new SessionError('NO_CONSOLE', `VM "${r.name}" has ${consoles.length} graphic console(s); there is no console ${console}`);
    }
    return r.session.display.openDisplay(consoles[console]);
  }

  /** The session of a VM this manager hosts (tests, screenshots); undefined otherwise. */
  sessionOf(id: string): VmSession | undefined {
    return this.running.get(id)?.session ?? undefined;
  }

  /** Lets go of QMP and the display of a VM so another process (a display utility) can host it. */
  async release(idOrName: string): Promise<{ vmId: string; name: string; runtimeDir: string; pid: number }> {
    const { r } = await this.runningVm(idOrName);
    this.detachSession(r);
    return { vmId: r.id, name: r.name, runtimeDir: r.runtimeDir, pid: r.pid };
  }

  /** Hosts a released VM again (its utility is gone). No-op when it stopped or someone else hosts it. */
  async reclaim(idOrName: string): Promise<void> {
    const vm = await this.library.get(idOrName);
    const r = this.running.get(vm.config.id);
    if (!r || r.session) return;
    for (let i = 0; i < 20 && (await hostAnswers(r.runtimeDir)); i++) await new Promise((res) => setTimeout(res, 100));
    if (await hostAnswers(r.runtimeDir)) return;
    const qmp = await QmpClient.connect(runtimePaths(r.runtimeDir).qmpSocket, { greetingTimeoutMs: 5_000 });
    const session = await VmSession.attach({ name: r.name, runtimeDir: r.runtimeDir, pid: r.pid, exited: r.exited, qmp });
    this.bindSession(r, session);
    r.state = (await runLifecycleOp(session.qmp, { op: 'query' })).state;
    this.queueChanged();
  }

  /** Running (or paused) VMs, by id. */
  activeIds(): string[] {
    return [...this.running.keys()];
  }

  /** Quit choice "suspend all": returns the failures, one line each. */
  async suspendAll(): Promise<string[]> {
    const ids = this.activeIds();
    const results = await Promise.all(ids.map((id) => this.suspend(id).then(() => null, (err: Error) => `${this.running.get(id)?.name ?? id}: ${err.message}`)));
    return results.filter((x): x is string => x !== null);
  }

  /** Quit choice "shut down all": ACPI to every VM at once; names the VMs that did not stop in time. */
  async shutdownAll(timeoutMs: number): Promise<{ notStopped: string[] }> {
    const vms = [...this.running.values()];
    const results = await Promise.all(vms.map((r) => this.stop(r.id, { timeoutMs }).then((x) => x.stopped, () => false)));
    return { notStopped: vms.filter((_, i) => !results[i]).map((r) => r.name) };
  }

  /** Quit choice "keep running": closes our connections; QEMU and the VMs carry on. */
  close(): void {
    this.closed = true;
    for (const r of this.running.values()) this.detachSession(r);
    this.running.clear();
  }
}

export { LibraryError };

// The running-VM table of one SessionManager: which library VMs this process owns (or has released
// to its display utility), their live state from QMP events, and why one last ended badly. Only
// bookkeeping: starting, reaching and adopting VMs happen in start-vm.ts, reach.ts, reattach.ts.
// Runs on the Node loop of the manager's process.
import type { Transport, VmRunState } from '../../common/contract.js';
import type { BundleVm } from '../library/library.js';
import type { QemuExit, QemuProcess } from '../qemu/launch.js';
import { removeRuntimeDir, type RuntimeDir } from '../qemu/runtime-dir.js';
import { runLifecycleOp } from './lifecycle.js';
import { lastScreenPath } from '../library/bundle-files.js';
import type { OwnerApi } from './owner-protocol.js';
import type { OwnerServer } from './owner-server.js';
import { ownVm } from './reach.js';
import { describeExit, type VmSession } from './vm-session.js';

/** A VM's record; only the table changes it (its methods below). */
export type RunningVm = Readonly<RunningVmRecord>;

interface RunningVmRecord {
  readonly id: string;
  readonly name: string;
  readonly bundleDir: string;
  readonly runtimeDir: RuntimeDir;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<QemuExit>;
  /** our session while we own the VM; null while it is released to a display utility */
  session: VmSession | null;
  state: VmRunState;
  /** QEMU announced an orderly end (guest power-off, quit, signal): its exit is no crash */
  shutdownSeen: boolean;
  /** we asked it to end: suspend or stop */
  ending: 'suspend' | 'stop' | null;
  /** kju.sock while we own the VM (owning managers only) */
  ownerServer: OwnerServer | null;
  /** unregisters the VM from reach.ts's owned VMs */
  disown: (() => void) | null;
  /** how the screen arrives, once a display opened here has seen a surface */
  transport?: Transport;
}

const EVENT_STATES: Partial<Record<string, VmRunState>> = { STOP: 'paused', RESUME: 'running', SUSPEND: 'paused', WAKEUP: 'running', SHUTDOWN: 'shutting-down' };

export class RunningVmTable {
  private readonly running = new Map<string, RunningVmRecord>();
  /** why a VM last ended badly (crash with log tail), until it is started again */
  private readonly crashed = new Map<string, string>();

  /** `changed`: something a VM list shows changed; `serveOwnerSocket`: owned VMs get kju.sock */
  constructor(private readonly o: { changed(): void; serveOwnerSocket: boolean }) {}

  get(id: string): RunningVm | undefined {
    return this.running.get(id);
  }

  ids(): string[] {
    return [...this.running.keys()];
  }

  values(): RunningVm[] {
    return [...this.running.values()];
  }

  crashOf(id: string): string | undefined {
    return this.crashed.get(id);
  }

  /** Records a running QEMU of the library VM `vm`; forgets it (and cleans its runtime dir) when it exits. */
  add(vm: BundleVm, qemu: QemuProcess, state: VmRunState): RunningVm {
    const r: RunningVmRecord = {
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
      ownerServer: null,
      disown: null,
    };
    this.running.set(r.id, r);
    this.crashed.delete(r.id);
    void qemu.exited.then((exit) => this.onExit(r, exit));
    this.o.changed();
    return r;
  }

  /** We asked `r`'s QEMU to end (suspend or stop): its exit is no crash. */
  markEnding(r: RunningVm, why: 'suspend' | 'stop'): void {
    (r as RunningVmRecord).ending = why;
  }

  /** The end we asked for did not happen (the guest did not power off in time). */
  clearEnding(r: RunningVm): void {
    (r as RunningVmRecord).ending = null;
  }

  /** The state QEMU answered for `r` (after a start or a re-attach). */
  setState(r: RunningVm, state: VmRunState): void {
    if (state === r.state) return;
    (r as RunningVmRecord).state = state;
    this.o.changed();
  }

  /** How `r`'s screen arrives, once a display opened here has seen a surface. */
  noteTransport(r: RunningVm, transport: Transport): void {
    if (transport === r.transport) return;
    (r as RunningVmRecord).transport = transport;
    this.o.changed();
  }

  /** We now own `r` through `session`: its events update the state; reach.ts and kju.sock reach it. */
  own(vm: RunningVm, session: VmSession): void {
    const r = vm as RunningVmRecord;
    this.release(r);
    r.session = session;
    session.lastScreenFile = lastScreenPath(r.bundleDir);
    session.on('qmp-event', (event) => {
      if (r.session !== session) return;
      if (event === 'SHUTDOWN') {
        r.shutdownSeen = true;
        void session.saveLastScreen(); // a guest that powers itself off: its last screen is still mapped
      }
      const s = EVENT_STATES[event];
      if (s && s !== r.state) {
        r.state = s;
        this.o.changed();
      } else if (event === 'RESET') this.o.changed();
    });
    const api = this.ownerApi(r, session);
    r.disown = ownVm(r.runtimeDir, api);
    if (this.o.serveOwnerSocket) {
      session.serveOwnerSocket(api).then(
        (server) => (r.session === session ? (r.ownerServer = server) : server.close()),
        () => {},
      );
    }
  }

  /** Lets go of `r`'s session and kju.sock (QEMU keeps running; `r` stays in the table). */
  release(vm: RunningVm): void {
    const r = vm as RunningVmRecord;
    r.disown?.();
    r.disown = null;
    r.ownerServer?.close();
    r.ownerServer = null;
    r.session?.detach();
    r.session = null;
  }

  /** The OwnerApi of a VM we own: the session's, with stops and lifecycle through the books. */
  private ownerApi(r: RunningVmRecord, session: VmSession): OwnerApi {
    return {
      ...session.ownerApi(),
      stop: async ({ force, timeoutMs }) => {
        r.ending ??= 'stop';
        const stopped = await session.stop(force, timeoutMs);
        if (!stopped) r.ending = null;
        return { stopped };
      },
      lifecycle: async (p) => {
        if (p.op === 'save-state') await session.saveLastScreen(); // suspend: the screen it resumes to
        const reply = await runLifecycleOp(session.qmp, p);
        if (reply.state !== r.state) {
          r.state = reply.state;
          this.o.changed();
        }
        return reply;
      },
    };
  }

  private onExit(r: RunningVmRecord, exit: QemuExit): void {
    if (this.running.get(r.id) !== r) return;
    this.running.delete(r.id);
    this.release(r);
    // A QEMU we did not hear end in order, and did not ask to end, crashed (or was killed).
    const orderly = r.ending !== null || r.shutdownSeen || (exit.code === 0 && exit.signal === null);
    if (!orderly) this.crashed.set(r.id, describeExit(r.name, exit));
    removeRuntimeDir(r.runtimeDir); // the exit promise already knows (a zombie QEMU still answers kill 0)
    this.o.changed();
  }

  /** Lets go of every VM (QEMU keeps running) and forgets them. */
  close(): void {
    for (const r of this.running.values()) this.release(r);
    this.running.clear();
  }
}

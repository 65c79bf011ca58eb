// Main-process side of the display utilities: one utility process per VM that has a window open.
// Main only brokers: it gets the VM handed over by the backend, forks the utility, and for each
// display request makes a MessageChannelMain, transfers one end to the utility and the other to
// the requesting renderer. Pixels never pass through main. A utility that dies unexpectedly is
// restarted with backoff (RestartPolicy) and every renderer stream of that VM gets DISPLAY_LOST,
// after which the renderer may open again. Runs on the Electron main process's event loop.
import { MessageChannelMain, utilityProcess, type UtilityProcess, type WebContents } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from '../../../common/contract.js';
import type { Backend } from '../../backend/backend.js';
import { AUDIO_PORT, DISPLAY_LOST, DISPLAY_PORT, type AudioPortMessage, type DisplayLostMessage, type DisplayPortMessage } from '../ipc/channels.js';
import { RestartPolicy } from './restart-policy.js';
import type { MainToUtility, UtilityToMain } from '../ipc/utility-protocol.js';

const ATTACH_TIMEOUT_MS = 20_000;
const OPEN_TIMEOUT_MS = 15_000;

type Waiter = { resolve: (m: UtilityToMain) => void; timer: NodeJS.Timeout };

class VmDisplayUtility {
  child: UtilityProcess | null = null;
  ready: Promise<Result<null>> | null = null;
  readonly viewers = new Set<WebContents>();
  readonly policy = new RestartPolicy();
  /** set when we stop it on purpose (window closed, quit, VM exited): no restart */
  stopping = false;
  restartTimer: NodeJS.Timeout | null = null;
  private readonly waiters = new Map<string, Waiter>();

  constructor(readonly vmId: string) {}

  post(m: MainToUtility, ports?: Electron.MessagePortMain[]): void {
    this.child?.postMessage(m, ports);
  }

  /** Resolves with the next message with key `key` (e.g. 'attach' or 'open:7'), or a timeout failure. */
  waitFor(key: string, ms: number, onTimeout: UtilityToMain): Promise<UtilityToMain> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(onTimeout);
      }, ms);
      this.waiters.set(key, { resolve, timer });
    });
  }

  settle(key: string, m: UtilityToMain): void {
    const w = this.waiters.get(key);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiters.delete(key);
    w.resolve(m);
  }

  failAll(m: (key: string) => UtilityToMain): void {
    for (const key of [...this.waiters.keys()]) this.settle(key, m(key));
  }
}

export interface DisplayUtilitiesOptions {
  /** app/out/display-utility.js by default (next to the main bundle) */
  utilityPath?: string;
  log?: (line: string) => void;
}

export class DisplayUtilities {
  private readonly vms = new Map<string, VmDisplayUtility>();
  private readonly utilityPath: string;
  private readonly log: (line: string) => void;

  constructor(
    private readonly backend: Backend,
    o: DisplayUtilitiesOptions = {},
  ) {
    this.utilityPath = o.utilityPath ?? join(dirname(fileURLToPath(import.meta.url)), 'display-utility.js');
    this.log = o.log ?? ((l) => console.error(`kju: ${l}`));
  }

  /**
   * Gives `viewer` a new display stream of console `console` of VM `vmId`: on success the port
   * arrives on DISPLAY_PORT with `requestId`. `zeroCopy` asks for rect-only frames on 'map' surfaces.
   */
  async open(vmId: string, console: number, requestId: number, viewer: WebContents, zeroCopy: boolean): Promise<Result<null>> {
    return this.openPort(vmId, requestId, viewer, { t: 'open', requestId, console, zeroCopy }, (r, port) => {
      const msg: DisplayPortMessage = { requestId, vmId, console, ...(r.sharedSurfaces ? { sharedSurfaces: r.sharedSurfaces } : {}) };
      viewer.postMessage(DISPLAY_PORT, msg, [port]);
    });
  }

  /** Gives `viewer` the VM's sound (relaySound in the utility): on success the port arrives on AUDIO_PORT with `requestId`. */
  async openAudio(vmId: string, requestId: number, viewer: WebContents): Promise<Result<null>> {
    return this.openPort(vmId, requestId, viewer, { t: 'open-audio', requestId }, (_r, port) => {
      const msg: AudioPortMessage = { requestId, vmId };
      viewer.postMessage(AUDIO_PORT, msg, [port]);
    });
  }

  /** One port pair: `ask` goes to the utility with one end; `deliver` hands the other to the viewer once the utility has opened it. */
  private async openPort(
    vmId: string,
    requestId: number,
    viewer: WebContents,
    ask: Extract<MainToUtility, { t: 'open' | 'open-audio' }>,
    deliver: (r: Extract<UtilityToMain, { t: 'opened' }>, port: Electron.MessagePortMain) => void,
  ): Promise<Result<null>> {
    let vm = this.vms.get(vmId);
    if (!vm) {
      vm = new VmDisplayUtility(vmId);
      this.vms.set(vmId, vm);
    }
    if (!vm.child && !vm.restartTimer) vm.policy.reset(); // the user asked again after we gave up
    vm.stopping = false;
    const ready = await this.ensureStarted(vm);
    if (!ready.ok) return ready;
    const { port1, port2 } = new MessageChannelMain();
    const replied = vm.waitFor(`open:${requestId}`, OPEN_TIMEOUT_MS, { t: 'open-failed', requestId, code: 'timeout', message: 'the display did not open in time' });
    vm.post(ask, [port1]);
    const r = await replied;
    if (r.t !== 'opened') {
      port2.close();
      return r.t === 'open-failed' ? { ok: false, code: r.code, message: r.message } : { ok: false, code: 'internal', message: 'unexpected reply from the display utility' };
    }
    if (viewer.isDestroyed()) {
      port2.close();
      return { ok: false, code: 'connection-closed', message: 'the window closed' };
    }
    if (!vm.viewers.has(viewer)) {
      vm.viewers.add(viewer);
      viewer.once('destroyed', () => vm.viewers.delete(viewer));
    }
    deliver(r, port2);
    return { ok: true, value: null };
  }

  /** The VM's window closed: detach the utility (QEMU keeps running) and give the VM back to the backend. */
  async release(vmId: string): Promise<void> {
    const vm = this.vms.get(vmId);
    if (!vm) return;
    this.vms.delete(vmId);
    await this.stop(vm);
  }

  /** Detaches every utility (on quit). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.vms.keys()].map((id) => this.release(id)));
  }

  private async stop(vm: VmDisplayUtility): Promise<void> {
    vm.stopping = true;
    if (vm.restartTimer) clearTimeout(vm.restartTimer);
    vm.restartTimer = null;
    const child = vm.child;
    if (child) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      vm.post({ t: 'detach' });
      const timer = setTimeout(() => child.kill(), 3000);
      await exited;
      clearTimeout(timer);
    }
    await this.backend.reclaimDisplay(vm.vmId);
  }

  private ensureStarted(vm: VmDisplayUtility): Promise<Result<null>> {
    vm.ready ??= this.start(vm);
    return vm.ready;
  }

  private async start(vm: VmDisplayUtility): Promise<Result<null>> {
    const target = await this.backend.releaseDisplay(vm.vmId);
    if (!target.ok) {
      vm.ready = null;
      return target;
    }
    const child = utilityProcess.fork(this.utilityPath, [], { serviceName: `kju display ${target.value.name}`, stdio: 'inherit' });
    vm.child = child;
    child.on('message', (m: UtilityToMain) => this.onUtilityMessage(vm, m));
    child.once('exit', (code) => this.onUtilityExit(vm, child, code));
    const attached = vm.waitFor('attach', ATTACH_TIMEOUT_MS, { t: 'attach-failed', message: 'the display utility did not attach in time' });
    vm.post({ t: 'attach', target: target.value });
    const r = await attached;
    if (r.t === 'attached') return { ok: true, value: null };
    vm.ready = null;
    vm.stopping = true; // an attach failure is not a crash to retry in a loop
    child.kill();
    await this.backend.reclaimDisplay(vm.vmId);
    return { ok: false, code: 'display-utility-failed', message: r.t === 'attach-failed' ? r.message : 'the display utility failed to attach' };
  }

  private onUtilityMessage(vm: VmDisplayUtility, m: UtilityToMain): void {
    switch (m.t) {
      case 'attached':
      case 'attach-failed':
        return vm.settle('attach', m);
      case 'opened':
      case 'open-failed':
        return vm.settle(`open:${m.requestId}`, m);
      case 'vm-exited':
        vm.stopping = true;
        this.lost(vm, m.reason);
        this.vms.delete(vm.vmId);
        void this.backend.reclaimDisplay(vm.vmId);
        return;
      case 'log':
        return this.log(`${vm.vmId}: ${m.line}`);
    }
  }

  private onUtilityExit(vm: VmDisplayUtility, child: UtilityProcess, code: number): void {
    if (vm.child !== child) return;
    vm.child = null;
    vm.ready = null;
    vm.failAll((key) =>
      key === 'attach'
        ? { t: 'attach-failed', message: `the display utility exited (${code})` }
        : { t: 'open-failed', requestId: Number(key.slice(5)), code: 'display-utility-failed', message: `the display utility exited (${code})` },
    );
    if (vm.stopping) return;
    const reason = `the display process of this VM stopped unexpectedly (exit ${code}); the VM itself is still running`;
    this.lost(vm, reason);
    const delay = vm.policy.crashed(Date.now());
    if (delay === null) {
      this.log(`${vm.vmId}: display utility crashed too often; not restarting until the window is reopened`);
      this.vms.delete(vm.vmId);
      void this.backend.reclaimDisplay(vm.vmId);
      return;
    }
    // Restart eagerly so that a renderer's reopen finds it attached; a reopen before that waits in ensureStarted.
    vm.restartTimer = setTimeout(() => {
      vm.restartTimer = null;
      if (!vm.stopping) void this.ensureStarted(vm);
    }, delay);
  }

  private lost(vm: VmDisplayUtility, reason: string): void {
    const msg: DisplayLostMessage = { vmId: vm.vmId, reason };
    for (const wc of vm.viewers) if (!wc.isDestroyed()) wc.send(DISPLAY_LOST, msg);
  }
}

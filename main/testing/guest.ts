// The demo guest for integration tests: build it once (cached on disk), boot it under TCG with a
// private runtime/log dir, and talk to it through QMP and its serial root shell.
// Every QEMU started here is SIGKILLed when the test process exits, even if a test forgot stop().
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type QemuProcess, launchQemu } from '../qemu/launch.js';
import { runtimeDirAt } from '../qemu/runtime-dir.js';
import type { VmDisplayDevice } from '../../common/contract.js';
import type { VmDescription } from '../qemu/vm-description.js';
import { QmpClient } from '../qmp/qmp-client.js';
import { SerialConsole } from './serial-console.js';

export { SerialCommandError, SerialConsole } from './serial-console.js';

const execFileP = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface DemoGuest {
  kernel: string;
  initrd: string;
  append: string;
  kernelVersion: string;
}

export function guestCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.KJU_CACHE || join(env.XDG_CACHE_HOME || join(process.env.HOME ?? tmpdir(), '.cache'), 'kju');
  return join(root, 'guest');
}

let building: Promise<DemoGuest> | undefined;

/** Builds the demo guest if needed (scripts/build-demo-guest.sh; once per process) and returns its files. */
export function ensureDemoGuest(): Promise<DemoGuest> {
  building ??= (async () => {
    try {
      await execFileP('bash', [join(repoRoot, 'scripts/build-demo-guest.sh')], { timeout: 10 * 60_000, maxBuffer: 16 << 20 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`building the demo guest failed: ${e.message}\n${e.stderr ?? ''}`, { cause: err });
    }
    const info = JSON.parse(readFileSync(join(guestCacheDir(), 'guest.json'), 'utf8')) as DemoGuest;
    return { kernel: info.kernel, initrd: info.initrd, append: info.append, kernelVersion: info.kernelVersion };
  })();
  building.catch(() => (building = undefined));
  return building;
}

export interface BootOptions {
  displayDevice?: VmDisplayDevice;
  /** heads of the display device (virtio-vga max_outputs) */
  displays?: number;
  name?: string;
  memoryMiB?: number;
  cpus?: number;
  tablet?: boolean;
  /** a sound card on QEMU's D-Bus audio (default none) */
  sound?: VmDescription['sound'];
  /** the vdagent clipboard channel (QEMU's qemu-vdagent on com.redhat.spice.0) */
  clipboard?: boolean;
  /** host folders exported over virtio-9p (mount tags share0, share1, ...) */
  shares?: VmDescription['shares'];
  machine?: 'q35' | 'pc';
  /** Appended to the guest's kernel command line. */
  appendExtra?: string;
  extraArgs?: string[];
  /** Wait for the serial shell's prompt before resolving (default true). */
  waitForPrompt?: boolean;
  bootTimeoutMs?: number;
}

export interface BootedGuest {
  qemu: QemuProcess;
  qmp: QmpClient;
  serial: SerialConsole;
  desc: VmDescription;
  /** Milliseconds from spawn to the serial prompt (0 when waitForPrompt is false). */
  bootMs: number;
  /** Quits QEMU (QMP quit, then SIGKILL if needed) and removes the temp dirs. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<QemuProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const q of live) q.kill('SIGKILL');
  });
}

/** Boots the demo guest under TCG. Call `stop()` in `t.after`. */
export async function bootDemoGuest(opts: BootOptions = {}): Promise<BootedGuest> {
  const guest = await ensureDemoGuest();
  const tmp = mkdtempSync(join(tmpdir(), 'kju-test-'));
  const desc: VmDescription = {
    name: opts.name ?? `kju-test-${opts.displayDevice ?? 'virtio-vga'}`,
    memoryMiB: opts.memoryMiB ?? 256,
    cpus: opts.cpus ?? 1,
    display: opts.displayDevice ?? 'virtio-vga',
    ...(opts.displays ? { displays: opts.displays } : {}),
    machine: opts.machine ?? 'q35',
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: opts.appendExtra ? `${guest.append} ${opts.appendExtra}` : guest.append,
    tablet: opts.tablet ?? true,
    ...(opts.sound ? { sound: opts.sound } : {}),
    ...(opts.clipboard ? { clipboard: true } : {}),
    ...(opts.shares ? { shares: opts.shares } : {}),
    extraArgs: opts.extraArgs,
  };
  killAllOnExit();
  const started = Date.now();
  let qemu: QemuProcess;
  try {
    qemu = await launchQemu(desc, { accel: 'tcg', runtimeDir: runtimeDirAt(join(tmp, 'run')), logDir: join(tmp, 'log') });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  live.add(qemu);
  void qemu.exited.then(() => live.delete(qemu));

  let qmp: QmpClient | undefined;
  let serial: SerialConsole | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (qemu.running && qmp && !qmp.closed) {
        await Promise.race([qmp.execute('quit').catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
      }
      const gone = await Promise.race([qemu.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5000))]);
      if (!gone) {
        qemu.kill('SIGKILL');
        await qemu.exited;
      }
      qmp?.close();
      serial?.close();
      live.delete(qemu);
      rmSync(tmp, { recursive: true, force: true });
    })());

  try {
    // Connect the serial socket first: output written while nobody is connected is lost.
    serial = await SerialConsole.connect(qemu.runtimeDir.serialSocket);
    qmp = await QmpClient.connect(qemu.runtimeDir.qmpSocket);
    let bootMs = 0;
    if (opts.waitForPrompt ?? true) {
      await serial.waitFor(/kju# /, opts.bootTimeoutMs ?? 90_000);
      bootMs = Date.now() - started;
    }
    return { qemu, qmp, serial, desc, bootMs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

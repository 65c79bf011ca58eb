// Starting QEMU for a VM (and re-attaching to one started earlier). QEMU runs detached in its own
// process group so a VM can outlive kju; its stdout/stderr go to a per-VM log file. When kju is
// root, QEMU opens its disks, firmware, kernel and sockets as root and then runs as the unprivileged
// QEMU user (`-run-with user=`, qemu-user.ts); files it needs later are handed over as fds (qmp/fdset.ts).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Accelerator } from '../../common/contract.js';
import { buildArgv } from './build-argv.js';
import { type QemuBinary, findQemu } from './find-qemu.js';
import { type AcceleratorChoice, resolveAccelerator } from './accel-check.js';
import { prepareRuntimeDir, readRuntimeVmName, sanitizeVmName, type RuntimeDir, type RuntimeVmInfo } from './runtime-dir.js';
import type { VmDescription } from './vm-description.js';
import { isAlive, readPidFile, watchPidExit, writeLaunchStamp } from './pid-alive.js';
import { startSwtpm, type SwtpmProcess } from './swtpm.js';
import { shareSecurityModel } from './share-model.js';
import { resolveQemuUser } from './qemu-user.js';
import { shareAccessProblem } from './share-access.js';
import { QemuLaunchError, readLogTail, type QemuExit } from './launch-error.js';

export { QemuLaunchError, readLogTail, type QemuExit };

export interface QemuProcess {
  readonly pid: number;
  readonly runtimeDir: RuntimeDir;
  readonly logFile: string;
  /** The arguments QEMU was started with (empty for a re-attached process). */
  readonly argv: string[];
  /** The accelerator it runs with and how it was chosen (unknown for a re-attached process). */
  readonly accelerator?: AcceleratorChoice;
  /** Settles once QEMU has exited; never rejects. */
  readonly exited: Promise<QemuExit>;
  readonly running: boolean;
  /** Sends a signal to QEMU (default SIGTERM); a no-op if it has exited. */
  kill(signal?: NodeJS.Signals): void;
  /** Lets this process's event loop exit while QEMU keeps running. */
  unref(): void;
}

export interface LaunchOptions {
  /** A found QEMU, or a path to the binary; default: findQemu(). */
  qemu?: QemuBinary | string;
  /** Default: resolveAccelerator() (KJU_ACCEL, else the host's accelerator if its check passes, else TCG). */
  accel?: Accelerator;
  /** Where QEMU's sockets and pid file go (runtime-dir.ts); created 0700 if missing. */
  runtimeDir: RuntimeDir;
  /** Default: ${XDG_STATE_HOME:-~/.local/state}/kju/logs */
  logDir?: string;
  /** How long QEMU may take to create its QMP socket. Default 30 s. */
  startupTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** the description file of a VM started from one (`kju run path/vm.json`): kept in vm.json so lists find it */
  sourceFile?: string;
  /** the bundle of a library VM: kept in vm.json so a command pointed at another library can name this one */
  bundleDir?: string;
}

// sun_path is 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH = 107;

export function defaultLogDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'kju', 'logs');
}

function checkFiles(desc: VmDescription): void {
  const files: [string, string | undefined][] = [
    ['kernel', desc.kernel],
    ['initrd', desc.initrd],
    ['cdrom', desc.cdrom],
    ...(desc.disks ?? []).map((d, i): [string, string] => [`disks.${i}.path`, d.path]),
  ];
  for (const [field, path] of files) {
    if (path !== undefined && !existsSync(path)) {
      throw new QemuLaunchError(`cannot start VM "${desc.name}": ${field} file not found: ${path}`);
    }
  }
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

function formatExit(e: QemuExit): string {
  return e.signal ? `killed by ${e.signal}` : `exit status ${e.code}`;
}

/**
 * Starts QEMU for `desc` and resolves once its QMP socket exists. Rejects (QemuLaunchError) before
 * spawning if a referenced file is missing or the VM is already running, and with QEMU's exit
 * status and log tail if it exits during startup.
 */
export async function launchQemu(desc: VmDescription, opts: LaunchOptions): Promise<QemuProcess> {
  const env = opts.env ?? process.env;
  checkFiles(desc);
  const qemuUser = resolveQemuUser(env); // kju is root: QEMU and swtpm drop to this user
  const qemuBin = typeof opts.qemu === 'string' ? undefined : (opts.qemu ?? (await findQemu(env)));
  const qemu = typeof opts.qemu === 'string' ? opts.qemu : qemuBin!.path;
  const accelerator: AcceleratorChoice = opts.accel ? { accel: opts.accel, source: 'given' } : await resolveAccelerator({ env, qemu: qemuBin });
  const runtimeDir = prepareRuntimeDir(opts.runtimeDir);
  const paths = runtimeDir;
  for (const p of [paths.qmpSocket, paths.serialSocket, ...(desc.tpmStateDir ? [paths.tpmSocket] : [])]) {
    if (Buffer.byteLength(p) > MAX_SOCKET_PATH) {
      throw new QemuLaunchError(`cannot start VM "${desc.name}": socket path too long for a unix socket (${Buffer.byteLength(p)} > ${MAX_SOCKET_PATH} bytes): ${p}`);
    }
  }
  const oldPid = readPidFile(paths.pidFile);
  if (oldPid !== undefined && isAlive(oldPid) && isSocket(paths.qmpSocket)) {
    throw new QemuLaunchError(`VM "${desc.name}" is already running (QEMU pid ${oldPid}, ${runtimeDir.dir})`);
  }
  // Stale files from an earlier run: qmp.sock reappearing is how we know QEMU is up.
  for (const p of [paths.qmpSocket, paths.serialSocket, paths.pidFile, paths.launchStamp]) rmSync(p, { force: true });
  // The description plus how it runs, for whoever lists the VM later (another kju process included).
  const runtimeInfo: RuntimeVmInfo = {
    accelerator: accelerator.accel,
    ...(accelerator.notice ? { acceleratorNotice: accelerator.notice } : {}),
    ...(opts.sourceFile ? { fromFile: resolve(opts.sourceFile) } : {}),
  };
  const bundle = opts.bundleDir ? { bundle: resolve(opts.bundleDir) } : {};
  writeFileSync(paths.vmJson, `${JSON.stringify({ ...desc, kjuRuntime: { ...runtimeInfo, ...bundle } }, null, 2)}\n`, { mode: 0o600 });

  const shareModels = (desc.shares ?? []).map((share, i) => {
    let model;
    try {
      model = shareSecurityModel(share.path);
    } catch (err) {
      throw new QemuLaunchError(`cannot start VM "${desc.name}": shares.${i}.path: ${(err as Error).message} (is the folder there and readable?)`, undefined, { cause: err });
    }
    const problem = qemuUser && shareAccessProblem(share.path, share.readOnly, qemuUser);
    if (problem) throw new QemuLaunchError(`cannot start VM "${desc.name}": ${problem}`);
    return model;
  });
  const argv = buildArgv(desc, { runtimeDir, accel: accelerator.accel, shareModels, runAs: qemuUser?.name });
  const logDir = opts.logDir ?? defaultLogDir(env);
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const logFile = join(logDir, `${sanitizeVmName(desc.name)}.log`);
  const logFd = openSync(logFile, 'a', 0o600);
  let runStart: number;
  try {
    writeSync(logFd, `--- kju ${new Date().toISOString()}: ${qemu} ${argv.join(' ')}\n`);
    runStart = statSync(logFile).size;
  } catch (err) {
    closeSync(logFd);
    throw err;
  }

  let swtpm: SwtpmProcess | undefined;
  let child;
  try {
    // swtpm first: QEMU connects to its control socket at startup. Its log is the VM's log.
    if (desc.tpmStateDir) swtpm = await startSwtpm(desc.tpmStateDir, runtimeDir, logFile, env, qemuUser);
    child = spawn(qemu, argv, { detached: true, stdio: ['ignore', logFd, logFd], env });
  } finally {
    closeSync(logFd);
  }
  let exitInfo: QemuExit | undefined;
  const exited = new Promise<QemuExit>((resolve) => {
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      // QEMU never connected (or died early): --terminate cannot fire, so swtpm is ended here.
      swtpm?.kill();
      exitInfo = { code, signal, logTail: readLogTail(logFile, runStart) };
      resolve(exitInfo);
    };
    child.once('exit', finish);
    // spawn failures (ENOENT, EACCES) arrive as 'error' without 'exit'
    child.once('error', (err) => {
      writeFileSync(logFile, `kju: cannot run ${qemu}: ${err.message}\n`, { flag: 'a' });
      finish(null, null);
    });
  });
  const pid = child.pid ?? -1;
  if (pid > 0) writeLaunchStamp(paths.launchStamp, pid);

  const proc: QemuProcess = {
    pid,
    runtimeDir,
    logFile,
    argv,
    accelerator,
    exited,
    get running() {
      return exitInfo === undefined;
    },
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (exitInfo !== undefined || pid < 0) return;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
    unref() {
      child.unref();
    },
  };

  const timeoutMs = opts.startupTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  while (!isSocket(paths.qmpSocket)) {
    if (exitInfo) {
      throw new QemuLaunchError(`QEMU for VM "${desc.name}" exited during startup (${formatExit(exitInfo)}). Last lines of ${logFile}:\n${exitInfo.logTail.join('\n')}`, exitInfo);
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      const e = await exited;
      throw new QemuLaunchError(`QEMU for VM "${desc.name}" did not create its QMP socket within ${timeoutMs} ms; killed it. Last lines of ${logFile}:\n${e.logTail.join('\n')}`, e);
    }
    await Promise.race([sleep(25), exited]);
  }
  return proc;
}

/**
 * Re-attaches to a QEMU that kju started earlier (possibly from another process), from its
 * runtime dir's pid file. Its exit is noticed by polling (we are not its parent), so the exit
 * status is unknown. Returns undefined when no live QEMU is there.
 */
export function attachQemu(runtimeDir: RuntimeDir, opts: { logFile?: string; pollMs?: number } = {}): QemuProcess | undefined {
  const pid = readPidFile(runtimeDir.pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  // vm.json missing: still attachable
  const logFile = opts.logFile ?? join(defaultLogDir(), `${sanitizeVmName(readRuntimeVmName(runtimeDir) ?? 'vm')}.log`);
  let exitInfo: QemuExit | undefined;
  const watch = watchPidExit(pid, opts.pollMs);
  const exited = watch.gone.then(() => (exitInfo = { code: null, signal: null, logTail: readLogTail(logFile) }));
  return {
    pid,
    runtimeDir,
    logFile,
    argv: [],
    exited,
    get running() {
      return exitInfo === undefined;
    },
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (exitInfo !== undefined) return;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
    unref() {
      watch.unref();
    },
  };
}

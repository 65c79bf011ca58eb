// swtpm, the TPM 2.0 emulator behind QEMU's `-tpmdev emulator`: found on PATH, started before QEMU
// on the VM's private runtime dir, and gone with QEMU (`--terminate`: it exits when QEMU's control
// connection closes, whether QEMU quit, crashed or was killed). Runs on the Node loop that launches QEMU.
// When kju is root, swtpm runs as the unprivileged QEMU user (qemu-user.ts): kju opens what swtpm
// would open by path in root's 0700 dirs (the control socket, the log) and hands it over as fds;
// the state dir is swtpm's working dir (no path through the bundle's 0700 parents) and owned by
// that user, as libvirt chowns swtpm's state for its user.
import { spawn } from 'node:child_process';
import { accessSync, chownSync, closeSync, constants, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { QemuLaunchError, readLogTail } from './launch-error.js';
import type { RuntimeDir } from './runtime-dir.js';
import type { QemuUser } from './qemu-user.js';
import { closeFd, listenUnix } from '../../native/index.js';

export class SwtpmMissingError extends KjuError {
  override name = 'SwtpmMissingError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('no-swtpm', message, options);
  }
}

const INSTALL_HINT = 'install the swtpm package (Debian/Ubuntu: apt install swtpm swtpm-tools; Fedora: dnf install swtpm; macOS: brew install swtpm)';

/** swtpm's path: KJU_SWTPM, else the first executable `swtpm` on PATH. Throws SwtpmMissingError naming the package. */
export function findSwtpm(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KJU_SWTPM) return env.KJU_SWTPM;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'swtpm');
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  throw new SwtpmMissingError(`a TPM needs swtpm, which is not on PATH: ${INSTALL_HINT}, or turn the TPM off (--no-tpm)`);
}

/**
 * The swtpm command line for a TPM 2.0 whose state is in its working dir, controlled over the
 * listening socket at fd 3 (the runtime dir's swtpm.sock, bound by kju), logging to fd 1.
 */
export function swtpmArgs(user?: QemuUser): string[] {
  return ['socket', '--tpm2', '--tpmstate', 'dir=.,mode=0600', '--ctrl', 'type=unixio,fd=3', '--log', 'fd=1,level=1', '--terminate', ...(user ? ['--runas', user.name] : [])];
}

/** Gives the TPM state dir and its files to `user` (swtpm writes them after dropping root). */
function chownStateDir(stateDir: string, user: QemuUser): void {
  chownSync(stateDir, user.uid, user.gid);
  for (const e of readdirSync(stateDir, { withFileTypes: true })) {
    if (e.isFile()) chownSync(`${stateDir}/${e.name}`, user.uid, user.gid);
  }
}

export interface SwtpmProcess {
  readonly pid: number;
  /** Kills swtpm (used when QEMU did not come up, so it never connected and `--terminate` cannot fire). */
  kill(): void;
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/**
 * Starts swtpm detached (it lives as long as the VM, not as long as this process) and resolves once
 * its control socket exists. Throws SwtpmMissingError, or KjuError launch-failed with swtpm's log tail.
 */
export async function startSwtpm(stateDir: string, rt: RuntimeDir, logFile: string, env: NodeJS.ProcessEnv = process.env, user?: QemuUser, timeoutMs = 10_000): Promise<SwtpmProcess> {
  const bin = findSwtpm(env);
  for (const p of [rt.tpmSocket, rt.swtpmPidFile]) rmSync(p, { force: true });
  let from = 0;
  try {
    from = statSync(logFile).size;
  } catch {
    // no log yet
  }
  if (user) chownStateDir(stateDir, user);
  const out = openSync(logFile, 'a', 0o600);
  let ctrl: number | undefined;
  let child;
  try {
    ctrl = listenUnix(rt.tpmSocket, 1);
    child = spawn(bin, swtpmArgs(user), { cwd: stateDir, detached: true, stdio: ['ignore', out, out, ctrl], env });
  } finally {
    closeSync(out);
    if (ctrl !== undefined) closeFd(ctrl);
  }
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit status ${code}`));
  child.once('error', (err) => (exited = err.message));
  child.unref();
  const pid = child.pid ?? -1;
  if (pid > 0) writeFileSync(rt.swtpmPidFile, `${pid}\n`, { mode: 0o600 });
  const proc: SwtpmProcess = {
    pid,
    kill() {
      if (exited === undefined && pid > 0) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!isSocket(rt.tpmSocket)) {
    if (exited !== undefined || Date.now() > deadline) {
      proc.kill();
      const why = exited ?? `no control socket within ${timeoutMs} ms`;
      throw new QemuLaunchError(`swtpm (${bin}) did not start (${why}). Last lines of ${logFile}:\n${readLogTail(logFile, from).join('\n')}`);
    }
    await sleep(20);
  }
  return proc;
}

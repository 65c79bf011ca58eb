// swtpm, the TPM 2.0 emulator behind QEMU's `-tpmdev emulator`: found on PATH, started before QEMU
// on the VM's private runtime dir, and gone with QEMU (`--terminate`: it exits when QEMU's control
// connection closes, whether QEMU quit, crashed or was killed). Runs on the Node loop that launches QEMU.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, rmSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { QemuLaunchError, readLogTail } from './launch-error.js';
import type { RuntimeDir } from './runtime-dir.js';

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

/** The swtpm command line for a TPM 2.0 whose state is in `stateDir`, controlled over the runtime dir's socket. */
export function swtpmArgs(stateDir: string, rt: RuntimeDir, logFile: string): string[] {
  return [
    'socket', '--tpm2',
    '--tpmstate', `dir=${stateDir},mode=0600`,
    '--ctrl', `type=unixio,path=${rt.tpmSocket},mode=0600`,
    '--pid', `file=${rt.swtpmPidFile}`,
    '--log', `file=${logFile},level=1`,
    '--terminate',
  ];
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
export async function startSwtpm(stateDir: string, rt: RuntimeDir, logFile: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): Promise<SwtpmProcess> {
  const bin = findSwtpm(env);
  for (const p of [rt.tpmSocket, rt.swtpmPidFile]) rmSync(p, { force: true });
  let from = 0;
  try {
    from = statSync(logFile).size;
  } catch {
    // no log yet
  }
  const out = openSync(logFile, 'a', 0o600);
  let child;
  try {
    child = spawn(bin, swtpmArgs(stateDir, rt, logFile), { detached: true, stdio: ['ignore', out, out], env });
  } finally {
    closeSync(out);
  }
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit status ${code}`));
  child.once('error', (err) => (exited = err.message));
  child.unref();
  const pid = child.pid ?? -1;
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

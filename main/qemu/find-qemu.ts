// Locating qemu-system-x86_64 and deciding what it can do, and choosing the accelerator.
import { execFile } from 'node:child_process';
import { accessSync, constants, closeSync, openSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { Accelerator } from '../../common/contract.js';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

const execFileP = promisify(execFile);

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
}

export interface QemuBinary {
  path: string;
  version: QemuVersion;
  /** The full first line of `--version`. */
  versionText: string;
  /** false below 9.2: the display still works, but pixels are copied (no shared-memory ScanoutMap). */
  sharedMemoryDisplay: boolean;
  /** User-facing notes (e.g. the copy-path warning). */
  warnings: string[];
}

/** No QEMU binary to run; the hint says how to install one. */
export class QemuNotFoundError extends KjuError {
  override name = 'QemuNotFoundError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('qemu-not-found', message, { hint: INSTALL_HINT, ...options });
  }
}
/** A QEMU kju cannot use (too old, no D-Bus display); `hint` says what to install, when installing helps. */
export class QemuUnsupportedError extends KjuError {
  override name = 'QemuUnsupportedError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('qemu-unsupported', message, options);
  }
}

const BINARY = 'qemu-system-x86_64';
export const INSTALL_HINT =
  process.platform === 'darwin'
    ? 'install it with `brew install qemu`'
    : 'on Debian 12 install qemu-system-x86 from bookworm-backports (`apt install -t bookworm-backports qemu-system-x86`); on other systems install QEMU ≥ 9.2';
/** How to install a QEMU kju can use on this platform (kju doctor's fix line). */
export { INSTALL_HINT as QEMU_INSTALL_HINT };

/** Parses the first line of `qemu-system-x86_64 --version`. */
export function parseQemuVersion(text: string): QemuVersion | undefined {
  const m = /QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3] ?? 0) };
}

function atLeast(v: QemuVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** Candidate paths in order: $KJU_QEMU, $PATH, then Homebrew's prefixes on macOS. */
export function qemuCandidates(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string[] {
  if (env.KJU_QEMU) return [env.KJU_QEMU];
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  if (platform === 'darwin') dirs.push('/opt/homebrew/bin', '/usr/local/bin');
  return dirs.map((d) => join(d, BINARY));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds QEMU, runs `--version` and `-display help`. Refuses QEMU < 7.0 and binaries without the
 * D-Bus display; warns below 9.2 (copy path only).
 */
export async function findQemu(env: NodeJS.ProcessEnv = process.env): Promise<QemuBinary> {
  const candidates = qemuCandidates(env);
  const path = candidates.find(isExecutable);
  if (!path) {
    const where = env.KJU_QEMU ? `KJU_QEMU=${env.KJU_QEMU} is not an executable file` : `${BINARY} is not on PATH`;
    throw new QemuNotFoundError(`QEMU not found: ${where}`);
  }
  let versionText: string;
  try {
    versionText = (await execFileP(path, ['--version'], { timeout: 10_000 })).stdout.split('\n')[0] ?? '';
  } catch (err) {
    throw new QemuNotFoundError(`${path} --version failed: ${(err as Error).message}`, { cause: err });
  }
  const version = parseQemuVersion(versionText);
  if (!version) throw new QemuUnsupportedError(`cannot read the QEMU version from "${versionText}" (${path})`);
  const shown = `${version.major}.${version.minor}.${version.micro}`;
  if (!atLeast(version, 7, 0)) {
    throw new QemuUnsupportedError(`QEMU ${shown} at ${path} is too old: kju needs QEMU ≥ 7.0 (≥ 9.2 for the shared-memory display)`, { hint: INSTALL_HINT });
  }
  const warnings: string[] = [];
  const sharedMemoryDisplay = atLeast(version, 9, 2);
  if (!sharedMemoryDisplay) {
    warnings.push(`QEMU ${shown} is older than 9.2: the screen is copied instead of shared (slower); ${INSTALL_HINT}`);
  }
  let displays: string;
  try {
    displays = (await execFileP(path, ['-display', 'help'], { timeout: 10_000 })).stdout;
  } catch (err) {
    throw new QemuUnsupportedError(`${path} -display help failed: ${(err as Error).message}`, { cause: err });
  }
  if (!/^dbus$/m.test(displays)) {
    throw new QemuUnsupportedError(`QEMU at ${path} was built without the D-Bus display (-display dbus), which kju needs`, {
      hint: process.platform === 'linux' ? 'on Debian install qemu-system-modules-opengl (it ships ui-dbus.so)' : INSTALL_HINT,
    });
  }
  return { path, version, versionText, sharedMemoryDisplay, warnings };
}

/** KVM if /dev/kvm opens read-write, HVF on macOS, else TCG. `KJU_ACCEL=tcg|kvm|hvf` forces one. */
export function chooseAccelerator(env: NodeJS.ProcessEnv = process.env, platform = process.platform): Accelerator {
  const forced = env.KJU_ACCEL;
  if (forced === 'tcg' || forced === 'kvm' || forced === 'hvf') return forced;
  if (platform === 'darwin') return 'hvf';
  if (platform === 'linux') {
    try {
      closeSync(openSync('/dev/kvm', 'r+'));
      return 'kvm';
    } catch {
      return 'tcg';
    }
  }
  return 'tcg';
}

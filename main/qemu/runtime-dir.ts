// Per-VM runtime directory holding QEMU's sockets and pid file, and the owner socket (kju.sock).
// Sockets there give full control of the VM (QMP, serial shell), so the directory and its parent
// must be ours and mode 0700. A VM's RuntimeDir is computed once (here) and passed around.
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Accelerator } from '../../common/contract.js';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

export class RuntimeDirError extends KjuError {
  override name = 'RuntimeDirError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('runtime-dir-unusable', message, options);
  }
}

/** A file-name-safe form of a VM name: [A-Za-z0-9._-], never empty, never "." or "..". */
export function sanitizeVmName(name: string): string {
  let s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '');
  if (!s) s = 'vm';
  return s.slice(0, 64);
}

/** `${XDG_RUNTIME_DIR or /tmp/kju-<uid>}/kju` */
export function runtimeBase(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg) return join(xdg, 'kju');
  const uid = process.getuid?.() ?? 0;
  return join(tmpdir(), `kju-${uid}`, 'kju');
}

/** One VM's runtime directory and the files kju and QEMU keep in it. */
export interface RuntimeDir {
  readonly dir: string;
  readonly qmpSocket: string;
  readonly serialSocket: string;
  readonly pidFile: string;
  /** "<pid> <start time>" of the QEMU kju launched: a kill checks the pid is still that process */
  readonly launchStamp: string;
  /** what the holder of the VM's lock (library/vm-lock.ts) is doing, for another process's message */
  readonly lockNote: string;
  /** the VmDescription QEMU was started from (its `name` finds a file VM by name) */
  readonly vmJson: string;
  /** kju.sock: where the kju process that owns the VM takes requests (session/owner-server.ts) */
  readonly ownerSocket: string;
  /** swtpm's control socket (QEMU's `-chardev` for `-tpmdev emulator`) and its pid file, for VMs with a TPM */
  readonly tpmSocket: string;
  readonly swtpmPidFile: string;
}

/** The RuntimeDir whose directory is `dir` (an existing one found by a scan, or a test's temp dir). */
export function runtimeDirAt(dir: string): RuntimeDir {
  return {
    dir,
    qmpSocket: join(dir, 'qmp.sock'),
    serialSocket: join(dir, 'serial.sock'),
    pidFile: join(dir, 'qemu.pid'),
    launchStamp: join(dir, 'qemu.launch'),
    lockNote: join(dir, 'lock-op.json'),
    vmJson: join(dir, 'vm.json'),
    ownerSocket: join(dir, 'kju.sock'),
    tpmSocket: join(dir, 'swtpm.sock'),
    swtpmPidFile: join(dir, 'swtpm.pid'),
  };
}

// Readable prefix + 48-bit hash: "My VM", "My-VM", "Тест" and "Работа" all get their own dir, and
// `<base>/<12>-<12>/display-share-N.sock` adds 47 bytes to the base: a base as long as macOS's
// TMPDIR-based one (~60 bytes) still fits sun_path's 107.
const PREFIX_CHARS = 12;
function keyedDir(name: string, identity: string, base: string): RuntimeDir {
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  const prefix =
    sanitizeVmName(name)
      .slice(0, PREFIX_CHARS)
      .replace(/[-.]+$/, '') || 'vm';
  return runtimeDirAt(join(base, `${prefix}-${hash}`));
}

/**
 * A library VM's runtime dir, keyed by its library (the folder holding its bundle) and its id: two
 * VMs never share one, whatever their names, and a VM keeps its dir for as long as it runs.
 */
export function libraryVmRuntimeDir(vm: { dir: string; config: { id: string; name: string } }, base = runtimeBase()): RuntimeDir {
  return keyedDir(vm.config.name, `library\0${dirname(resolve(vm.dir))}\0${vm.config.id}`, base);
}

/** A VM described by a JSON file (`kju run path/vm.json`): keyed by the file's absolute path. */
export function fileVmRuntimeDir(file: string, name: string, base = runtimeBase()): RuntimeDir {
  return keyedDir(name, `file\0${resolve(file)}`, base);
}

/** Every runtime dir under `base` (existing or left over), whatever made it. */
export function listRuntimeDirs(base = runtimeBase()): RuntimeDir[] {
  try {
    return readdirSync(base, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => runtimeDirAt(join(base, d.name)));
  } catch {
    return [];
  }
}

/** How a running VM was launched, kept in its runtime dir's vm.json (`kjuRuntime`) by launchQemu. */
export interface RuntimeVmInfo {
  accelerator: Accelerator;
  /** the accelerator check's notice when it fell back to TCG */
  acceleratorNotice?: string;
  /** the absolute path of the description file of a VM started from one (`kju run path/vm.json`) */
  fromFile?: string;
}

/** The launch facts of the VM running in `rt`; undefined when there are none (an older kju started it). */
export function readRuntimeVmInfo(rt: RuntimeDir): RuntimeVmInfo | undefined {
  try {
    const info = (JSON.parse(readFileSync(rt.vmJson, 'utf8')) as { kjuRuntime?: Partial<RuntimeVmInfo> }).kjuRuntime;
    if (!info || !['kvm', 'hvf', 'tcg'].includes(info.accelerator as string)) return undefined;
    return {
      accelerator: info.accelerator!,
      ...(typeof info.acceleratorNotice === 'string' ? { acceleratorNotice: info.acceleratorNotice } : {}),
      ...(typeof info.fromFile === 'string' ? { fromFile: info.fromFile } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The bundle of the library VM running in `rt` (vm.json's `kjuRuntime.bundle`); undefined for a file VM or an older kju's. */
export function readRuntimeVmBundle(rt: RuntimeDir): string | undefined {
  try {
    const bundle = (JSON.parse(readFileSync(rt.vmJson, 'utf8')) as { kjuRuntime?: { bundle?: unknown } }).kjuRuntime?.bundle;
    return typeof bundle === 'string' ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the VM running in `rt` was launched sharing its clipboard (vm.json's `clipboard`: QEMU has the vdagent channel). */
export function readRuntimeVmClipboard(rt: RuntimeDir): boolean {
  try {
    return (JSON.parse(readFileSync(rt.vmJson, 'utf8')) as { clipboard?: unknown }).clipboard === true;
  } catch {
    return false;
  }
}

/** The VM name in a runtime dir's vm.json, or undefined when there is none (or it is unreadable). */
export function readRuntimeVmName(rt: RuntimeDir): string | undefined {
  try {
    const name = (JSON.parse(readFileSync(rt.vmJson, 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Creates (or checks) a directory as ours with mode 0700; fixes a wrong mode on a dir we own. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new RuntimeDirError(`${dir} is not a directory (a symlink or file is in the way); remove it`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new RuntimeDirError(`${dir} belongs to uid ${st.uid}, not to you (uid ${uid}); remove it or set XDG_RUNTIME_DIR`);
  }
  if ((st.mode & 0o777) !== 0o700) {
    try {
      chmodSync(dir, 0o700);
    } catch (err) {
      throw new RuntimeDirError(`${dir} has mode ${(st.mode & 0o777).toString(8)} and cannot be made 0700: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Creates the runtime dir and the levels above it we own, all 0700. */
export function prepareRuntimeDir(rt: RuntimeDir): RuntimeDir {
  const env = process.env;
  const base = dirname(rt.dir);
  // /tmp/kju-<uid> is in a shared directory: it must be ours too. XDG_RUNTIME_DIR itself is the system's.
  if (!env.XDG_RUNTIME_DIR && base === runtimeBase(env)) ensurePrivateDir(join(base, '..'));
  ensurePrivateDir(base);
  ensurePrivateDir(rt.dir);
  return rt;
}

/** Removes what a dead QEMU and its owner left in its runtime dir (only files kju puts there). */
export function removeRuntimeDir(rt: RuntimeDir): void {
  for (const f of [rt.qmpSocket, rt.serialSocket, rt.pidFile, rt.launchStamp, rt.lockNote, rt.vmJson, rt.ownerSocket, rt.tpmSocket, rt.swtpmPidFile]) rmSync(f, { force: true });
  try {
    rmdirSync(rt.dir);
  } catch {
    // something else is in there: leave the directory
  }
}

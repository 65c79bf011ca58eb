// Per-VM runtime directory holding QEMU's sockets and pid file. Sockets there give full control of
// the VM (QMP, serial shell), so the directory and its parent must be ours and mode 0700.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

export class RuntimeDirError extends KjuError {
  override name = 'RuntimeDirError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('runtime-dir-unusable', message, options);
  }
}

/** A file-name-safe form of a VM name: [A-Za-z0-9._-], never empty, never "." or "..". */
export function sanitizeVmName(name: string): string {
  let s = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
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

/** Where a VM's sockets and pid file live: `<runtime base>/<sanitized name>/`. */
export function runtimeDirFor(vmName: string, base = runtimeBase()): string {
  return join(base, sanitizeVmName(vmName));
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

/** Creates `<base>/<sanitized name>/` and the levels above it we own, all 0700. */
export function prepareRuntimeDir(vmName: string, base = runtimeBase()): string {
  const env = process.env;
  // /tmp/kju-<uid> is in a shared directory: it must be ours too. XDG_RUNTIME_DIR itself is the system's.
  if (!env.XDG_RUNTIME_DIR && base === runtimeBase(env)) ensurePrivateDir(join(base, '..'));
  ensurePrivateDir(base);
  const dir = runtimeDirFor(vmName, base);
  ensurePrivateDir(dir);
  return dir;
}

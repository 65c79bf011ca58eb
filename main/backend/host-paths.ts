// Which host files a front end (a browser through `kju serve`, or the Electron window) may hand to
// QEMU as a disk, ISO, kernel or initrd (regular files) or as a shared folder (a directory), of this
// user, after resolving symlinks,
// under the roots the user allowed (the library, the home folder, `kju serve --allow DIR`). The CLI
// is the user's own shell and is not confined. Node event loop.
import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, resolve, sep } from 'node:path';
import { KjuError } from '../../common/errors.js';

const ALLOW_HINT = 'Use a file in your home folder or the VM library, or start kju serve with --allow DIR for the folder that holds it.';

function notAllowed(what: string, path: string, why: string): KjuError {
  return new KjuError('path-not-allowed', `${what} ${path} is not allowed: ${why}`, { hint: ALLOW_HINT });
}

export class HostPathPolicy {
  /** `roots` as given (absolute); each is resolved with realpath when a path is checked, so a moved symlink cannot widen it. */
  constructor(readonly roots: readonly string[]) {}

  /** The default roots of a front end: the library and the home folder, plus `extra` (serve's --allow). */
  static forFrontEnds(libraryRoot: string, extra: readonly string[] = []): HostPathPolicy {
    return new HostPathPolicy([libraryRoot, homedir(), ...extra].map((r) => resolve(r)));
  }

  /**
   * The real path of `path` when a front end may use it; throws a KjuError 'path-not-allowed'
   * (outside the roots, not a regular file, another user's) or 'missing-file'. `what` names the
   * argument in the message ("the ISO", "the disk"). `kind` 'folder' asks for a directory instead
   * of a regular file (a shared folder).
   */
  async check(path: string, what: string, kind: 'file' | 'folder' = 'file'): Promise<string> {
    if (!isAbsolute(path)) throw notAllowed(what, path, 'give the full path (it starts with /)');
    let real: string;
    try {
      real = await realpath(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new KjuError('missing-file', `${what} ${path} does not exist`, { cause: err });
      throw notAllowed(what, path, `it cannot be read (${code ?? String(err)})`);
    }
    const st = await stat(real);
    if (kind === 'folder') {
      if (!st.isDirectory()) throw notAllowed(what, path, 'it is not a folder');
    } else if (!st.isFile()) throw notAllowed(what, path, st.isDirectory() ? 'it is a folder' : 'it is a device, socket or pipe, not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw notAllowed(what, path, 'it belongs to another user');
    for (const root of this.roots) {
      const realRoot = await realpath(root).catch(() => null);
      if (realRoot && (real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep))) return real;
    }
    const shown = real === path ? '' : ` (${real})`;
    throw notAllowed(what, `${path}${shown}`, `it is outside the folders kju may use (${this.roots.join(', ')})`);
  }
}

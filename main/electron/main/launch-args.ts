// `.kju` bundles named on a command line (Linux file association, a second launch) — macOS sends
// them with app 'open-file' instead. Pure.
import { isAbsolute, resolve } from 'node:path';

/** Bundle paths in `argv` (absolute, resolved against `cwd`), skipping flags and the executable/script. */
export function bundlePathsFromArgv(argv: readonly string[], cwd: string): string[] {
  return argv
    .slice(1)
    .filter((a) => !a.startsWith('-') && /\.kju\/?$/i.test(a))
    .map((a) => (isAbsolute(a) ? a : resolve(cwd, a)).replace(/\/+$/, ''));
}

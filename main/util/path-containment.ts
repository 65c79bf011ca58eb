// Whether one path lies inside another, by path text and by real path: one answer for the disk
// check (a bundle's chain), the outside-paths check and shared folders (the library). Pure but for
// realpath; Node loop.
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** The real path of `p`, or its resolved path where it does not exist (yet). */
export function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** Whether `p` lies below `dir` (not `dir` itself); both absolute, compared as written. */
export function isInside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Whether `inner` is `outer` or lies below it. */
export function isWithin(outer: string, inner: string): boolean {
  return relative(outer, inner) === '' || isInside(outer, inner);
}

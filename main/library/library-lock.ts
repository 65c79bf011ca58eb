// The library lock: an O_EXCL lock file in the library holding the owner's pid and start time.
// Node has no flock; a holder killed with -9 leaves the file, which the next taker sees as stale
// (owner not alive) and breaks. Held only for the short check-and-rename steps, never for copies.
import { link, open, readFile, rename, unlink, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LibraryError } from './library-error.js';
import { isOwnerAlive, ownerStamp } from './owner-stamp.js';

export const LIBRARY_LOCK_FILE = '.kju-library.lock';

/** A lock file with no content yet is being written by its taker; older than this, it is debris. */
const EMPTY_LOCK_GRACE_MS = 5_000;

/** Runs `fn` holding the library lock; waits up to `timeoutMs` for another holder, then BUSY. Node loop. */
export async function withLibraryLock<T>(root: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const lock = join(root, LIBRARY_LOCK_FILE);
  const stamp = ownerStamp();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const holder = await tryTake(lock, stamp);
    if (holder === null) break;
    if (Date.now() > deadline) {
      throw new LibraryError('busy', `another kju (pid ${holder.split('-')[0]}) is changing the library ${root}; try again when it is done`, lock);
    }
    await sleep(10 + Math.random() * 30);
  }
  try {
    return await fn();
  } finally {
    // Only our own lock: if ours was broken as stale (it never is while we live), leave theirs.
    if ((await readFile(lock, 'utf8').catch(() => '')) === stamp) await unlink(lock).catch(() => {});
  }
}

/** null when taken; else the live holder's stamp (a stale one is broken and retried at once). */
async function tryTake(lock: string, stamp: string): Promise<string | null> {
  try {
    const file = await open(lock, 'wx', 0o600);
    try {
      await file.writeFile(stamp);
    } finally {
      await file.close();
    }
    return null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = await readFile(lock, 'utf8').catch(() => undefined);
  if (holder === undefined) return ''; // released meanwhile: retry
  if (holder === '') {
    const age = Date.now() - ((await stat(lock).catch(() => null))?.mtimeMs ?? Date.now());
    if (age < EMPTY_LOCK_GRACE_MS) return holder;
  } else if (isOwnerAlive(holder)) return holder;
  await breakStale(lock, holder);
  return '';
}

/** Moves the stale file aside and removes it; if another taker replaced it meanwhile, puts theirs back. */
async function breakStale(lock: string, seen: string): Promise<void> {
  const aside = `${lock}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lock, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await readFile(aside, 'utf8').catch(() => seen);
  // link, not rename: it fails instead of replacing a lock a third taker made meanwhile
  if (moved !== seen) await link(aside, lock).catch(() => {});
  await unlink(aside).catch(() => {});
}

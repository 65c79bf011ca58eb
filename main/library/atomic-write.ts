// Crash-safe file replacement: the target is always either the old or the new content, never a
// torn mix. Temp file in the same directory (rename is only atomic within one file system),
// fsync of the file before the rename and of the directory after it.
import { randomBytes } from 'node:crypto';
import { link, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isOwnerAlive, ownerStamp } from './owner-stamp.js';
import { killPoint } from '../util/kill-point.js';

export interface AtomicWriteOptions {
  /** keep the replaced version as `<file>.bak` (default true) */
  backup?: boolean;
  mode?: number;
}

/**
 * Replaces `path` with `data`. `data` may be a function (a serializer): it runs before anything
 * touches the disk, so a serializer that throws leaves the old file and its backup untouched.
 * Runs on the Node loop; resolves once the new content and the rename are on disk.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | (() => string | Uint8Array), options: AtomicWriteOptions = {}): Promise<void> {
  const bytes = typeof data === 'function' ? data() : data;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}${tempSuffix()}`);
  const file = await open(tmp, 'wx', options.mode ?? 0o644);
  try {
    try {
      await file.writeFile(bytes);
      await file.sync();
      killPoint('atomic-write:synced');
    } finally {
      await file.close();
    }
    if (options.backup ?? true) await keepBackup(path);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
}

// The writer's stamp (pid + start time) in the temp name tells a kill -9's leftover from a write in progress.
const TEMP_NAME = /\.tmp-(\d+-\d+)-[0-9a-f]{8}$/;
function tempSuffix(): string {
  return `.tmp-${ownerStamp()}-${randomBytes(4).toString('hex')}`;
}

/**
 * Removes the temp files in `dir` that a writer killed mid-write left (its process is gone); a
 * live writer's are kept. Never throws: the library listing calls it for every bundle.
 */
export async function removeStaleTemps(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    const m = TEMP_NAME.exec(n);
    if (m && !isOwnerAlive(m[1])) await unlink(join(dir, n)).catch(() => {});
  }
}

export function backupPathOf(path: string): string {
  return `${path}.bak`;
}

/** Hard-links the current version as `.bak` (no data copied; atomic via a temp name). */
async function keepBackup(path: string): Promise<void> {
  const bak = backupPathOf(path);
  const bakTmp = `${bak}${tempSuffix()}`;
  try {
    await link(path, bakTmp);
  } catch (err) {
    if (errno(err) === 'ENOENT') return; // first write: nothing to keep
    throw err;
  }
  await rename(bakTmp, bak);
}

async function syncDir(dir: string): Promise<void> {
  // Directories cannot be opened for fsync on Windows; there rename is already durable enough.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

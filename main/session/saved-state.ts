// A VM suspended to disk: its machine state in `<bundle>/states/suspend.state` and a record,
// `states/suspended.json` (written atomically, last), that says the state is complete and which
// disk files it belongs with. The record is what makes `list` say 'suspended' and `start` resume.
// Synchronous reads (a stat or two) so the library's run-state probe can use them.
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleVm } from '../library/bundle-files.js';
import { resolveInBundle } from '../library/bundle-files.js';
import { writeFileAtomic } from '../library/atomic-write.js';

export { STATES_DIR, STATE_FILE, SUSPENDED_RECORD, statePaths, isSuspended } from '../library/bundle-files.js';
import { STATE_FILE, statePaths } from '../library/bundle-files.js';

export interface DiskStamp {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface SuspendedRecord {
  kju: 1;
  suspendedAt: string;
  /** file name inside states/ */
  stateFile: string;
  bytes: number;
  /** sha256 of the state file (hex), checked before resuming (absent in records of older kju) */
  sha256?: string;
  /** the disks as QEMU left them; any change means the saved RAM no longer matches them */
  disks: DiskStamp[];
}

export type SavedStateErrorCode = 'broken-record' | 'missing-state' | 'disks-changed' | 'state-corrupt' | 'incomplete-state';

export class SavedStateError extends KjuError {
  override name = 'SavedStateError';
  declare readonly code: SavedStateErrorCode;
  constructor(code: SavedStateErrorCode, message: string, options?: KjuErrorOptions) {
    super(code, message, options);
  }
}

/** The record, or null when the VM is not suspended. Throws BROKEN_RECORD for a record it cannot read. */
export function readSuspended(bundleDir: string): SuspendedRecord | null {
  const { record } = statePaths(bundleDir);
  let text: string;
  try {
    text = readFileSync(record, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let r: SuspendedRecord;
  try {
    r = JSON.parse(text) as SuspendedRecord;
    if (r.kju !== 1 || typeof r.stateFile !== 'string' || !Array.isArray(r.disks)) throw new Error('unexpected content');
    // states only from states/, by kju's own name: never a path a (copied, edited) record names
    if (r.stateFile !== STATE_FILE) throw new Error(`its state file is "${r.stateFile}", not ${STATE_FILE}`);
    if (r.sha256 !== undefined && (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256))) throw new Error('its checksum is not a sha256');
  } catch (err) {
    throw new SavedStateError('broken-record', `${record} is unreadable (${(err as Error).message}); start the VM with --fresh to discard the saved state`);
  }
  return r;
}

export function diskStamps(vm: BundleVm): DiskStamp[] {
  return vm.config.disks.map((d) => {
    const path = resolveInBundle(vm.dir, d.file);
    const s = statSync(path);
    return { path, size: s.size, mtimeMs: s.mtimeMs };
  });
}

/** sha256 (hex) of a file's bytes, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function fsyncPath(path: string, flags = 'r'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes the finished `.partial` state durable and moves it into place, then writes the record with
 * its checksum: from here on the VM is resumable, so the caller quits QEMU only after this.
 */
export async function recordSuspended(vm: BundleVm, bytes: number): Promise<SuspendedRecord> {
  const p = statePaths(vm.dir);
  fsyncPath(p.partial);
  const sha256 = await fileSha256(p.partial);
  renameSync(p.partial, p.state);
  fsyncPath(p.dir);
  const record: SuspendedRecord = { kju: 1, suspendedAt: new Date().toISOString(), stateFile: STATE_FILE, bytes, sha256, disks: diskStamps(vm) };
  await writeFileAtomic(p.record, `${JSON.stringify(record, null, 2)}\n`, { backup: false, mode: 0o600 });
  return record;
}

/**
 * The state file to resume from, after checking it exists and the disks are as they were left.
 * Throws MISSING_STATE or DISKS_CHANGED (resuming would hand the guest disks that do not match
 * its memory: file system corruption).
 */
export async function checkResumable(vm: BundleVm, record: SuspendedRecord): Promise<string> {
  const state = join(statePaths(vm.dir).dir, STATE_FILE);
  if (!existsSync(state)) {
    throw new SavedStateError('missing-state', `VM "${vm.config.name}" is marked suspended but ${state} is gone; start it with --fresh to boot it from its disks`);
  }
  if (record.sha256 !== undefined && (await fileSha256(state)) !== record.sha256) {
    throw new SavedStateError(
      'state-corrupt',
      `VM "${vm.config.name}" was suspended, but its saved state ${state} does not match the checksum taken at suspend (it changed or is damaged); start it with --fresh to boot it from its disks`,
    );
  }
  const now = diskStamps(vm);
  const changed = record.disks.filter((d) => {
    const cur = now.find((n) => n.path === d.path);
    return !cur || cur.size !== d.size || cur.mtimeMs !== d.mtimeMs;
  });
  if (changed.length || now.length !== record.disks.length) {
    const which = changed.map((d) => d.path).join(', ') || 'the list of disks';
    throw new SavedStateError(
      'disks-changed',
      `VM "${vm.config.name}" was suspended, but ${which} changed since; resuming would corrupt the guest's file systems. Restore the disk, or start it with --fresh to discard the saved state`,
    );
  }
  return state;
}

/** Forgets the suspension: the record first (so a crash in between leaves a plain stopped VM), then the files. */
export function clearSuspended(bundleDir: string): void {
  const p = statePaths(bundleDir);
  rmSync(p.record, { force: true });
  rmSync(p.state, { force: true });
  rmSync(p.partial, { force: true });
}

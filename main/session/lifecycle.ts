// Lifecycle operations on one running QEMU over its QMP connection: pause/continue, reset, the ACPI
// power button, saving the whole machine state to a file (suspend to disk) and loading it back, and
// live disk snapshots. Whoever holds the QMP connection runs these (the owning kju process, or a
// CLI command that attached because nobody owns the VM); others reach them through kju.sock's
// `lifecycle` method. Everything runs on the Node event loop of that process.
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VmRunState } from '../../common/contract.js';
import { withFileFdset } from '../qmp/fdset.js';
import type { QmpExecutor, QmpFdExecutor, QmpMigrationChannel, QmpMigrationInfo } from '../qmp/qmp-types.js';
import { ejectCdrom, insertCdrom } from './media.js';

export type LifecycleOp = 'query' | 'pause' | 'cont' | 'reset' | 'powerdown' | 'save-state' | 'snapshot-create' | 'snapshot-revert' | 'snapshot-delete' | 'cdrom-insert' | 'cdrom-eject';
export const LIFECYCLE_OPS = [
  'query',
  'pause',
  'cont',
  'reset',
  'powerdown',
  'save-state',
  'snapshot-create',
  'snapshot-revert',
  'snapshot-delete',
  'cdrom-insert',
  'cdrom-eject',
] as const satisfies readonly LifecycleOp[];

export interface LifecycleParams {
  op: LifecycleOp;
  /** save-state: absolute path of the state file to write; cdrom-insert: the ISO */
  file?: string;
  /** snapshot-*: the snapshot's name */
  tag?: string;
}

export interface LifecycleReply {
  /** QEMU's run status after the operation ("running", "paused", "postmigrate", ...) */
  status: string;
  state: VmRunState;
  /** save-state: bytes written */
  bytes?: number;
}

export class LifecycleError extends KjuError {
  override name = 'LifecycleError';
  declare readonly code: 'bad-op' | 'migration-failed' | 'snapshot-failed' | 'timeout';
  constructor(code: 'bad-op' | 'migration-failed' | 'snapshot-failed' | 'timeout', message: string, options?: KjuErrorOptions) {
    super(code, message, options);
  }
}

/** QEMU's run status → kju's state. Guest-side sleep (S3) and an I/O error pause count as paused. */
export function stateFromQemuStatus(status: string): VmRunState {
  switch (status) {
    case 'running':
      return 'running';
    case 'shutdown':
      return 'shutting-down';
    case 'internal-error':
    case 'guest-panicked':
      return 'crashed';
    case 'prelaunch':
    case 'inmigrate':
    case 'restore-vm':
      return 'starting';
    default:
      return 'paused';
  }
}

export async function queryStatus(qmp: QmpExecutor): Promise<LifecycleReply> {
  const s = await qmp.execute('query-status');
  return { status: s.status, state: stateFromQemuStatus(s.status) };
}

/** Polls query-migrate until it completes; throws MIGRATION_FAILED with QEMU's reason. */
async function waitForMigration(qmp: QmpExecutor, what: string, timeoutMs: number): Promise<QmpMigrationInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await qmp.execute('query-migrate');
    if (info.status === 'completed') return info;
    if (info.status === 'failed' || info.status === 'cancelled') {
      throw new LifecycleError('migration-failed', `${what} failed: ${info['error-desc'] ?? info.status}`);
    }
    if (Date.now() > deadline) {
      await qmp.execute('migrate_cancel').catch(() => {});
      throw new LifecycleError('timeout', `${what} did not finish within ${timeoutMs / 1000} s; cancelled`);
    }
    await sleep(50);
  }
}

// Structured channels (QEMU ≥ 8.2) rather than a "file:..." URI: a comma in a path cannot break them.
// The file is kju's, handed over as an fd set (qmp/fdset.ts): QEMU may run as a user that cannot open it.
const fileChannel = (filename: string): QmpMigrationChannel[] => [{ 'channel-type': 'main', addr: { transport: 'file', filename, offset: 0 } }];

/**
 * Stops the guest and writes its whole state (RAM and devices; not the disks, which stay in their
 * files and must not change until the state is loaded) to `file`. The VM is left paused; the
 * caller quits QEMU once it has recorded the suspension. On failure the guest runs again if it did.
 */
export async function saveStateToFile(qmp: QmpFdExecutor, file: string, timeoutMs = 300_000): Promise<{ bytes: number }> {
  const { status } = await queryStatus(qmp);
  const wasRunning = status === 'running';
  if (wasRunning) await qmp.execute('stop');
  try {
    // The default 128 MiB/s cap exists to spare a network link; a local file can take all it gets.
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 1024 * 1024 * 1024 });
    // QEMU opens the set's file while `migrate` runs; the set can go as soon as it returns
    await withFileFdset(qmp, file, 'write', (path) => qmp.execute('migrate', { channels: fileChannel(path) }));
    const info = await waitForMigration(qmp, `saving the VM state to ${file}`, timeoutMs);
    return { bytes: info.ram?.transferred ?? 0 };
  } catch (err) {
    if (wasRunning) await qmp.execute('cont').catch(() => {});
    throw err;
  }
}

/**
 * For a QEMU started with `-incoming defer`: loads the state from `file` and continues the guest.
 * Resolves once the guest runs.
 */
export async function loadStateFromFile(qmp: QmpFdExecutor, file: string, timeoutMs = 300_000): Promise<void> {
  await withFileFdset(qmp, file, 'read', (path) => qmp.execute('migrate-incoming', { channels: fileChannel(path) }));
  await waitForMigration(qmp, `loading the VM state from ${file}`, timeoutMs);
  // The saved machine was paused (that is how it was saved), so QEMU leaves it paused.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { status } = await queryStatus(qmp);
    if (status === 'running') return;
    if (status !== 'inmigrate') {
      await qmp.execute('cont');
      return;
    }
    if (Date.now() > deadline) throw new LifecycleError('timeout', `QEMU stayed in 'inmigrate' after loading ${file}`);
    await sleep(50);
  }
}

/** Writable qcow2 nodes (the VM's disks; not a read-only CD-ROM, not a raw UEFI vars store). */
async function snapshotNodes(qmp: QmpExecutor): Promise<string[]> {
  const blocks = await qmp.execute('query-block');
  const nodes: string[] = [];
  const raw: string[] = [];
  for (const b of blocks) {
    const ins = b.inserted;
    if (!ins || ins.ro || !ins['node-name']) continue;
    if (ins.drv === 'qcow2') nodes.push(ins['node-name']);
    else if (!/pflash/.test(b.device)) raw.push(`${ins.file} (${ins.drv})`);
  }
  if (raw.length) {
    throw new LifecycleError(
      'snapshot-failed',
      `snapshots need qcow2 disks, and ${raw.join(', ')} is not; convert it with "qemu-img convert -O qcow2 <old> <new>.qcow2" and point the VM at the new file`,
    );
  }
  if (!nodes.length) throw new LifecycleError('snapshot-failed', 'this VM has no writable qcow2 disk to hold a snapshot');
  return nodes;
}

let jobCounter = 0;

/** Runs one snapshot-save/load/delete job to its end (QEMU ≥ 6.0) and dismisses it. */
async function runSnapshotJob(qmp: QmpExecutor, command: 'snapshot-save' | 'snapshot-load' | 'snapshot-delete', tag: string, timeoutMs: number): Promise<void> {
  const devices = await snapshotNodes(qmp);
  const jobId = `kju-${command}-${process.pid}-${++jobCounter}`;
  // save and load carry the RAM in the first disk's node; delete removes it wherever it is
  if (command === 'snapshot-delete') await qmp.execute(command, { 'job-id': jobId, tag, devices });
  else await qmp.execute(command, { 'job-id': jobId, tag, devices, vmstate: devices[0] });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await qmp.execute('query-jobs')).find((j) => j.id === jobId);
    if (!job) throw new LifecycleError('snapshot-failed', `${command} job ${jobId} disappeared`);
    if (job.status === 'concluded' || job.status === 'null') {
      await qmp.execute('job-dismiss', { id: jobId }).catch(() => {});
      if (job.error) throw new LifecycleError('snapshot-failed', `${command} "${tag}" failed: ${job.error}`);
      return;
    }
    if (Date.now() > deadline) throw new LifecycleError('timeout', `${command} "${tag}" did not finish within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/** Cancels a migration (a state save) still running, and waits until QEMU has ended it. */
async function cancelMigration(qmp: QmpExecutor): Promise<void> {
  const active = (st: string | undefined) => st === 'setup' || st === 'active' || st === 'device' || st === 'pre-switchover' || st === 'cancelling';
  if (!active((await qmp.execute('query-migrate')).status)) return;
  await qmp.execute('migrate_cancel').catch(() => {});
  const deadline = Date.now() + 10_000;
  while (active((await qmp.execute('query-migrate')).status) && Date.now() < deadline) await sleep(50);
}

/** Runs one operation; the reply carries the run status afterwards. */
export async function runLifecycleOp(qmp: QmpFdExecutor, p: LifecycleParams): Promise<LifecycleReply> {
  const needTag = () => {
    if (typeof p.tag !== 'string' || !p.tag) throw new LifecycleError('bad-op', `${p.op} needs a snapshot name`);
    return p.tag;
  };
  let bytes: number | undefined;
  switch (p.op) {
    case 'query':
      break;
    case 'pause':
      await qmp.execute('stop');
      break;
    case 'cont':
      await cancelMigration(qmp); // a save whose kju was killed: the guest carries on instead
      await qmp.execute('cont');
      break;
    case 'reset':
      await qmp.execute('system_reset');
      break;
    case 'powerdown':
      await qmp.execute('system_powerdown');
      break;
    case 'save-state':
      if (typeof p.file !== 'string' || !p.file.startsWith('/')) throw new LifecycleError('bad-op', 'save-state needs an absolute file path');
      bytes = (await saveStateToFile(qmp, p.file)).bytes;
      break;
    case 'snapshot-create':
      await runSnapshotJob(qmp, 'snapshot-save', needTag(), 300_000);
      break;
    case 'snapshot-revert':
      await runSnapshotJob(qmp, 'snapshot-load', needTag(), 300_000);
      break;
    case 'snapshot-delete':
      await runSnapshotJob(qmp, 'snapshot-delete', needTag(), 60_000);
      break;
    case 'cdrom-insert':
      if (typeof p.file !== 'string' || !p.file.startsWith('/')) throw new LifecycleError('bad-op', 'cdrom-insert needs an absolute file path');
      await insertCdrom(qmp, p.file);
      break;
    case 'cdrom-eject':
      await ejectCdrom(qmp);
      break;
    default:
      throw new LifecycleError('bad-op', `unknown lifecycle operation ${String((p as { op: unknown }).op)}`);
  }
  const reply = await queryStatus(qmp);
  return bytes === undefined ? reply : { ...reply, bytes };
}

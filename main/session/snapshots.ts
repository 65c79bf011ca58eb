// Snapshots of a VM's qcow2 disks. Stopped VM: `qemu-img snapshot` on every disk (disk contents
// only). Running VM: QMP snapshot jobs through whoever holds its QMP (lifecycle.ts), which also
// save the RAM. Listing reads the images' headers with `qemu-img info -U` in both cases.
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { execFile } from 'node:child_process';
import type { BundleVm } from '../library/bundle-files.js';
import { resolveInBundle } from '../library/bundle-files.js';
import { qemuImgPath } from '../library/qemu-img.js';

export interface SnapshotInfo {
  name: string;
  /** when it was taken, ISO 8601 */
  date: string;
  /** bytes of saved RAM/device state; 0 for a disk-only (offline) snapshot */
  vmStateBytes: number;
  /** guest run time at the snapshot, seconds */
  vmClockSec: number;
}

export type SnapshotErrorCode = 'not-qcow2' | 'no-disk' | 'not-found' | 'exists' | 'bad-name' | 'suspended' | 'snapshot-failed';

export class SnapshotError extends KjuError {
  override name = 'SnapshotError';
  declare readonly code: SnapshotErrorCode;
  constructor(code: SnapshotErrorCode, message: string, options?: KjuErrorOptions) {
    super(code, message, options);
  }
}

/** Names go to qemu-img and QMP as one argument each; keep them printable and unambiguous. */
export function checkSnapshotName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._:+-]{0,63}$/.test(name) || /^\d+$/.test(name)) {
    throw new SnapshotError('bad-name', `"${name}" cannot be a snapshot name: use up to 64 letters, digits, spaces or . _ : + -, starting with a letter or digit, not only digits`);
  }
}

/** The VM's disk files; throws NOT_QCOW2 (naming the fix) or NO_DISK. */
export function snapshotDisks(vm: BundleVm): string[] {
  const { config, dir } = vm;
  if (!config.disks.length) throw new SnapshotError('no-disk', `VM "${config.name}" has no disk to snapshot`);
  const raw = config.disks.filter((d) => d.format !== 'qcow2').map((d) => resolveInBundle(dir, d.file));
  if (raw.length) {
    throw new SnapshotError(
      'not-qcow2',
      `snapshots need qcow2 disks, and ${raw.join(', ')} is ${config.disks.find((d) => d.format !== 'qcow2')!.format}; convert it with "qemu-img convert -f raw -O qcow2 ${raw[0]} disk.qcow2" (VM stopped) and point the VM at the new file`,
    );
  }
  return config.disks.map((d) => resolveInBundle(dir, d.file));
}

function qemuImg(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(qemuImgPath(), args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = stderr.trim().split('\n').pop() || err.message;
      reject(new SnapshotError('snapshot-failed', `qemu-img ${args[0]} ${args[1] ?? ''} failed: ${why}`));
    });
  });
}

interface QemuImgSnapshot {
  name: string;
  'vm-state-size': number;
  'date-sec': number;
  'vm-clock-sec': number;
}

async function diskSnapshots(path: string): Promise<SnapshotInfo[]> {
  const info = JSON.parse(await qemuImg(['info', '-U', '--output=json', path])) as { snapshots?: QemuImgSnapshot[] };
  return (info.snapshots ?? []).map((s) => ({
    name: s.name,
    date: new Date(s['date-sec'] * 1000).toISOString(),
    vmStateBytes: s['vm-state-size'],
    vmClockSec: s['vm-clock-sec'],
  }));
}

/** Snapshots present on every disk of the VM (a partial one is not a snapshot of the VM), oldest first. */
export async function listSnapshots(vm: BundleVm): Promise<SnapshotInfo[]> {
  const disks = snapshotDisks(vm);
  const perDisk = await Promise.all(disks.map(diskSnapshots));
  const [first, ...rest] = perDisk;
  return first.filter((s) => rest.every((other) => other.some((o) => o.name === s.name)));
}

/** For a stopped VM. Throws EXISTS/NOT_FOUND before touching any disk. */
export async function snapshotOffline(vm: BundleVm, op: 'create' | 'revert' | 'delete', name: string): Promise<void> {
  checkSnapshotName(name);
  const disks = snapshotDisks(vm);
  const existing = await listSnapshots(vm);
  const has = existing.some((s) => s.name === name);
  if (op === 'create' && has) throw new SnapshotError('exists', `VM "${vm.config.name}" already has a snapshot named "${name}"; delete it first or choose another name`);
  if (op !== 'create' && !has) throw new SnapshotError('not-found', `VM "${vm.config.name}" has no snapshot named "${name}"; "kju snapshot list ${vm.config.name}" shows them`);
  const flag = { create: '-c', revert: '-a', delete: '-d' }[op];
  const done: string[] = [];
  try {
    for (const disk of disks) {
      await qemuImg(['snapshot', flag, name, disk]);
      done.push(disk);
    }
  } catch (err) {
    // A snapshot on some disks only would be a trap: take it back off those.
    if (op === 'create') for (const disk of done) await qemuImg(['snapshot', '-d', name, disk]).catch(() => {});
    throw err;
  }
}

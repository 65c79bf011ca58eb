// qemu-img, spawned without a shell: creating disks, overlays for linked clones, copies with
// progress, and reading image metadata and backing chains.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LibraryError } from './library-error.js';
import { diskFullError } from './disk-full.js';

/** The executable: KJU_QEMU_IMG, else `qemu-img` on PATH. */
export function qemuImgPath(): string {
  return process.env.KJU_QEMU_IMG || 'qemu-img';
}

/** "64M", "20G", "512K", "1T" or a byte count; the forms qemu-img accepts that people type. */
export const DISK_SIZE_PATTERN = /^[1-9][0-9]*(\.[0-9]+)?[KMGT]?$/i;

export interface ImageInfo {
  format: string;
  virtualSize: number;
  /** as written in the image header: may be relative to the image's directory */
  backingFilename?: string;
  /** names of the image's internal (qcow2) snapshots */
  snapshots: string[];
}

/** One image of a backing chain, top first: what QEMU would read besides the image itself. */
export interface ChainImage {
  filename: string;
  format: string;
  /** absolute path (or `json:` pseudo-path) of the image this one reads unwritten blocks from */
  backing?: string;
  /** qcow2 external data file: the guest's data lives in this file, not in the image */
  dataFile?: string;
  /** vmdk extents: the files holding the data of a descriptor-style image (absolute) */
  extents?: string[];
}

const SETPRIV = '/usr/bin/setpriv';
const COULD_NOT_RUN = 'could not run qemu-img';

/** Whether `err` says qemu-img itself could not run (not installed, not executable), as opposed to
 *  qemu-img refusing an image. */
export function qemuImgDidNotRun(err: unknown): boolean {
  return err instanceof LibraryError && err.code === 'qemu-img-failed' && err.message.startsWith(COULD_NOT_RUN);
}

/**
 * qemu-img must not outlive kju (a kill -9 during a copy left it running for minutes): on Linux
 * util-linux `setpriv --pdeathsig KILL` makes the kernel kill it when kju dies, no native code
 * needed. Elsewhere it runs directly. Tiny window: kju dying between fork and setpriv's prctl.
 */
export function qemuImgCommand(args: string[]): [string, string[]] {
  const exe = qemuImgPath();
  if (process.platform === 'linux' && existsSync(SETPRIV)) return [SETPRIV, ['--pdeathsig', 'KILL', '--', exe, ...args]];
  return [exe, args];
}

/** Runs on the Node loop. `onStdout` sees output chunks as they arrive. Rejects with QEMU_IMG_FAILED or DISK_FULL. */
function runQemuImg(args: string[], onStdout?: (chunk: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const exe = qemuImgPath();
    const [command, argv] = qemuImgCommand(args);
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      onStdout?.(c);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'ENOENT' ? ` (${exe} not found: install qemu-utils / qemu, or set KJU_QEMU_IMG)` : '';
      reject(new LibraryError('qemu-img-failed', `${COULD_NOT_RUN}${hint}: ${err.message}`, undefined, { cause: err }));
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      const why = stderr.trim().split('\n').pop() || `exit ${code ?? signal}`;
      if (/No space left on device/i.test(stderr)) return reject(diskFullError(`qemu-img ${args[0]} stopped (${why})`));
      if (command === SETPRIV && code === 127) {
        return reject(new LibraryError('qemu-img-failed', `${COULD_NOT_RUN} (${exe} not found: install qemu-utils / qemu, or set KJU_QEMU_IMG): ${why}`));
      }
      reject(new LibraryError('qemu-img-failed', `qemu-img ${args[0]} failed: ${why}`));
    });
  });
}

export async function createQcow2(path: string, size: string): Promise<void> {
  if (!DISK_SIZE_PATTERN.test(size)) {
    throw new LibraryError('invalid-argument', `disk size "${size}" is not a size like 64M, 20G or 1T`);
  }
  await runQemuImg(['create', '-q', '-f', 'qcow2', path, size]);
}

/** A qcow2 whose unwritten blocks read from `backing` (absolute path, so the overlay can move). */
export async function createOverlay(path: string, backing: string, backingFormat: string): Promise<void> {
  await runQemuImg(['create', '-q', '-f', 'qcow2', '-b', backing, '-F', backingFormat, path]);
}

/** Percent figures in `qemu-img convert -p` output: "    (12.34/100%)\r". */
export function parseProgress(chunk: string): number[] {
  return [...chunk.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)].map((m) => Number(m[1]));
}

/**
 * Full copy of an image (flattening any backing chain) with `qemu-img convert -p`.
 * `onProgress` gets 0..100 on the Node loop, at most once per distinct value.
 */
export async function convertImage(src: string, srcFormat: string, dst: string, dstFormat: string, onProgress?: (percent: number) => void): Promise<void> {
  let last = -1;
  let pending = '';
  await runQemuImg(['convert', '-p', '-f', srcFormat, '-O', dstFormat, src, dst], (chunk) => {
    // A figure can be split across two chunks: only parse up to the last complete one.
    pending += chunk;
    const cut = pending.lastIndexOf(')');
    if (cut < 0) return;
    for (const p of parseProgress(pending.slice(0, cut + 1))) {
      if (p !== last) onProgress?.((last = p));
    }
    pending = pending.slice(cut + 1);
  });
  if (last !== 100) onProgress?.(100);
}

/** `-U`: reads metadata even while a running VM holds the image's write lock. */
export async function imageInfo(path: string): Promise<ImageInfo> {
  const out = await runQemuImg(['info', '-U', '--output=json', path]);
  const j = JSON.parse(out) as { format: string; 'virtual-size': number; 'backing-filename'?: string; snapshots?: Array<{ name: string }> };
  return { format: j.format, virtualSize: j['virtual-size'], backingFilename: j['backing-filename'], snapshots: (j.snapshots ?? []).map((s) => s.name) };
}

/**
 * Every image QEMU would open for `path`, top first (`--backing-chain`), with backing files and
 * qcow2 external data files as absolute paths. A missing backing file is QEMU_IMG_FAILED.
 */
export async function imageChain(path: string): Promise<ChainImage[]> {
  const out = await runQemuImg(['info', '-U', '--backing-chain', '--output=json', path]);
  type Raw = {
    filename: string;
    format: string;
    'full-backing-filename'?: string;
    'backing-filename'?: string;
    'format-specific'?: { data?: { 'data-file'?: string; extents?: Array<{ filename?: string }> } };
  };
  const parsed = JSON.parse(out) as Raw | Raw[];
  return (Array.isArray(parsed) ? parsed : [parsed]).map((j) => {
    const image: ChainImage = { filename: j.filename, format: j.format };
    const backing = j['full-backing-filename'] ?? j['backing-filename'];
    if (backing) image.backing = backing;
    const dataFile = j['format-specific']?.data?.['data-file'];
    if (dataFile) image.dataFile = resolve(dirname(j.filename), dataFile);
    const extents = (j['format-specific']?.data?.extents ?? []).map((e) => e.filename).filter((f): f is string => !!f && f !== j.filename);
    if (extents.length) image.extents = extents.map((f) => (f.startsWith('json:') ? f : resolve(dirname(j.filename), f)));
    return image;
  });
}

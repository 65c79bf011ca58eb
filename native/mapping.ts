// Mapping, a view of (fd, offset, length) bytes of a file (QEMU's memfd), shared or copied, plus memfdCreate
// and fileSize. Synchronous on the thread that opened it; released when that thread exits.
import { binding, type MappingHandle } from './binding.js';

/** A memfd (CLOEXEC) of `size` bytes (zero-filled); the caller owns it. Linux only (else 'ENOSYS').
 *  For tests and the bench: QEMU makes its own. */
export function memfdCreate(name: string, size: number): number {
  return binding().memfdCreate(name, size);
}

/** fstat(fd).st_size in bytes. */
export function fileSize(fd: number): number {
  return binding().fileSize(fd);
}

export type Rect = { x: number; y: number; w: number; h: number };

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function rectsToArray(rects: Uint32Array | Rect[]): Uint32Array {
  if (rects instanceof Uint32Array) return rects;
  const out = new Uint32Array(rects.length * 4);
  rects.forEach((r, i) => {
    for (const [k, v] of [
      ['x', r.x],
      ['y', r.y],
      ['w', r.w],
      ['h', r.h],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`rect ${i}: ${k} = ${v} is not a u32`);
    }
    out.set([r.x, r.y, r.w, r.h], i * 4);
  });
  return out;
}

/**
 * A mapping of (fd, offset, length) bytes of a file (QEMU's memfd). fd is not taken or kept: the
 * kernel mapping holds the file, so the caller may close fd right after open(). Lives on the
 * thread that opened it; when that thread exits, the mapping is released (the view reads zeros).
 * Keep the Mapping reachable while anyone reads `view`: if it is garbage-collected it releases.
 */
export class Mapping {
  /** bytes */
  readonly length: number;
  /** 'shared': `view` aliases the file pages (zero copy). 'copy': `view` is a separate V8-allocated buffer that copyRects fills. */
  readonly mode: 'shared' | 'copy';
  /** why copy mode was used ('requested', 'platform', 'SharedArrayBuffer unavailable', or the mmap failure); undefined when shared */
  readonly reason: string | undefined;
  /** `length` bytes backed by a SharedArrayBuffer in both modes (postable to other threads of this
   *  process); a plain ArrayBuffer in copy mode only where SharedArrayBuffer does not exist. */
  readonly view: Uint8Array;
  #handle: MappingHandle;

  private constructor(handle: MappingHandle, length: number, view: Uint8Array) {
    this.#handle = handle;
    this.length = length;
    this.mode = handle.shared ? 'shared' : 'copy';
    this.reason = handle.reason;
    this.view = view;
  }

  /**
   * Maps synchronously on the calling thread. Checks with fstat that the file is at least
   * offset+length bytes, else throws NativeError 'ESHORTFILE'. writable needs an fd opened
   * read-write. Shared mode is tried unless view: 'copy'; if it cannot be done, copy mode is used
   * and `reason` says why.
   */
  static open(fd: number, offset: number, length: number, opts: { writable?: boolean; view?: 'shared' | 'copy' } = {}): Mapping {
    for (const [k, v] of [
      ['fd', fd],
      ['offset', offset],
      ['length', length],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`Mapping.open: ${k} must be a non-negative integer, got ${v}`);
    }
    if (length === 0) throw new RangeError('Mapping.open: length must be > 0');
    const b = binding();
    const hasSab = typeof SharedArrayBuffer === 'function';
    let target: Uint8Array | undefined;
    let copyReason: string | undefined = 'requested';
    if (opts.view !== 'copy') {
      if (!hasSab) copyReason = 'SharedArrayBuffer unavailable';
      else if (!b.sharedViewSupported) copyReason = 'platform';
      else {
        // The file goes over the first page-aligned address inside; the spare page absorbs the misalignment.
        const page = b.pageSize;
        target = new Uint8Array(new SharedArrayBuffer(roundUp(length + (offset % page), page) + page));
        copyReason = undefined;
      }
    }
    const handle = new b.MappingHandle(fd, offset, length, opts.writable === true, target, copyReason);
    let view: Uint8Array;
    if (handle.shared && target) view = new Uint8Array(target.buffer, handle.viewOffset, length);
    else view = new Uint8Array(hasSab ? new SharedArrayBuffer(length) : new ArrayBuffer(length));
    return new Mapping(handle, length, view);
  }

  /**
   * Copies rows of rects from the file into `dst` (default: this.view) at the same byte offsets:
   * byte (y*stride + x*4) onward, w*4 bytes per row, h rows. stride is bytes per row, 4 bytes per
   * pixel. Every rect is checked against length/stride (and dst's size) before anything is copied;
   * an out-of-bounds rect throws RangeError. In shared mode with the default dst there is nothing to
   * copy. Runs synchronously; pixels may tear if the writer is active (there is no fence).
   */
  copyRects(stride: number, rects: Uint32Array | Rect[], dst: Uint8Array = this.view): void {
    if (!Number.isSafeInteger(stride) || stride <= 0) throw new RangeError(`copyRects: bad stride ${stride}`);
    this.#handle.copyRects(stride, rectsToArray(rects), dst);
  }

  /** Restores anonymous memory over the SAB interior (shared) or munmaps (copy) and drops the SAB
   *  reference. Idempotent. After release, `view` must not be read (it reads zeros). */
  release(): void {
    this.#handle.release();
  }
}

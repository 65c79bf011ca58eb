import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { Mapping, NativeError, closeFd, fileSize, memfdCreate } from './index.js';
import { fileBytes, mapsOf } from './test-fixtures/proc.js';

let serial = 0;
function memfd(size: number): { fd: number; name: string } {
  const name = `kju-map-test-${process.pid}-${serial++}`;
  return { fd: memfdCreate(name, size), name };
}

function fillFile(fd: number, bytes: Uint8Array): void {
  const rw = openSync(`/proc/self/fd/${fd}`, 'r+');
  try {
    writeSync(rw, bytes, 0, bytes.length, 0);
  } finally {
    closeSync(rw);
  }
}

describe('Mapping.open size check', () => {
  it('rejects a file shorter than offset+length with ESHORTFILE', () => {
    const { fd } = memfd(4096);
    try {
      assert.equal(fileSize(fd), 4096);
      for (const [offset, length] of [
        [0, 8192],
        [100, 4000],
        [4096, 1],
      ] as const) {
        assert.throws(
          () => Mapping.open(fd, offset, length),
          (e: unknown) => e instanceof NativeError && e.errnoName === 'ESHORTFILE' && e.syscall === 'fstat' && /only 4096/.test(e.message),
        );
      }
      // exactly long enough is fine
      Mapping.open(fd, 96, 4000).release();
    } finally {
      closeFd(fd);
    }
  });

  it('rejects a file that shrank below the mapping before open', () => {
    const { fd } = memfd(65536);
    try {
      ftruncateSync(fd, 1000);
      assert.throws(() => Mapping.open(fd, 0, 65536, { view: 'copy' }), { errnoName: 'ESHORTFILE' });
    } finally {
      closeFd(fd);
    }
  });

  it('reports mmap errors with errnoName names (writable over a read-only fd)', () => {
    const { fd } = memfd(4096);
    const ro = openSync(`/proc/self/fd/${fd}`, 'r');
    try {
      assert.throws(() => Mapping.open(ro, 0, 4096, { writable: true }), { name: 'NativeError', errnoName: 'EACCES' });
    } finally {
      closeSync(ro);
      closeFd(fd);
    }
  });
});

describe('Mapping shared view', () => {
  it('aliases the file pages (writes show up in the file, file writes in the view), at any offset', () => {
    for (const offset of [0, 4096, 123]) {
      const { fd } = memfd(3 * 4096);
      try {
        const m = Mapping.open(fd, offset, 8000, { writable: true });
        assert.equal(m.mode, 'shared');
        assert.equal(m.reason, undefined);
        assert.equal(m.view.length, 8000);
        assert.ok(m.view.buffer instanceof SharedArrayBuffer);
        m.view[0] = 0xa5;
        m.view[7999] = 0x5a;
        const f = fileBytes(fd);
        assert.equal(f[offset], 0xa5);
        assert.equal(f[offset + 7999], 0x5a);
        fillFile(fd, new Uint8Array(3 * 4096).fill(0x11));
        assert.equal(m.view[500], 0x11);
        m.release();
      } finally {
        closeFd(fd);
      }
    }
  });

  it('keeps working after the caller closes its fd (the mapping does not need it)', () => {
    const { fd, name } = memfd(4096);
    fillFile(fd, new Uint8Array(4096).fill(7));
    const m = Mapping.open(fd, 0, 4096);
    closeFd(fd);
    assert.equal(m.view[4095], 7);
    assert.equal(mapsOf(name).length, 1);
    m.release();
    assert.deepEqual(mapsOf(name), []);
  });

  it('release() restores anonymous memory: view reads zeros, the file keeps its data, maps no longer lists it', () => {
    const { fd, name } = memfd(64 * 1024);
    try {
      const m = Mapping.open(fd, 4096, 40000, { writable: true });
      assert.equal(m.mode, 'shared');
      for (let i = 0; i < m.length; i++) m.view[i] = (i * 31 + 7) & 0xff;
      assert.equal(mapsOf(name).length, 1, 'mapped while open');
      m.release();
      assert.deepEqual(mapsOf(name), [], '/proc/self/maps still lists the memfd');
      assert.ok(
        m.view.every((b) => b === 0),
        'view must read zeros after release',
      );
      // the SAB interior is ordinary memory again: writable without touching the file
      m.view[10] = 99;
      const f = fileBytes(fd);
      for (let i = 0; i < 40000; i++) assert.equal(f[4096 + i], (i * 31 + 7) & 0xff);
      m.release(); // idempotent
      assert.throws(() => m.copyRects(400, [{ x: 0, y: 0, w: 1, h: 1 }]), { errnoName: 'ERELEASED' });
    } finally {
      closeFd(fd);
    }
  });
});

describe('Mapping finalizer', () => {
  it('a Mapping dropped without release() is restored when garbage-collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { fd, name } = memfd(1 << 20);
    try {
      (() => {
        const m = Mapping.open(fd, 0, 1 << 20, { writable: true });
        m.view.fill(3);
      })();
      assert.equal(mapsOf(name).length, 1);
      for (let i = 0; i < 20 && mapsOf(name).length > 0; i++) {
        gc();
        await new Promise((r) => setImmediate(r)); // Node-API finalizers run from the loop
      }
      assert.deepEqual(mapsOf(name), []);
      assert.equal(fileBytes(fd)[12345], 3);
    } finally {
      closeFd(fd);
    }
  });
});

describe('Mapping.copyRects', () => {
  const W = 64,
    H = 32,
    stride = W * 4 + 16; // padded rows
  const size = stride * H;
  const pattern = new Uint8Array(size).map((_, i) => ((i * 13) % 251) + 1); // never zero

  function expectOnly(dst: Uint8Array, rects: { x: number; y: number; w: number; h: number }[]): void {
    const want = new Uint8Array(size);
    for (const r of rects)
      for (let y = r.y; y < r.y + r.h; y++) {
        const at = y * stride + r.x * 4;
        want.set(pattern.subarray(at, at + r.w * 4), at);
      }
    assert.deepEqual(Buffer.from(dst.subarray(0, size)), Buffer.from(want));
  }

  it('copies exactly the rect rows (copy mode, into view)', () => {
    const { fd } = memfd(size);
    try {
      fillFile(fd, pattern);
      const m = Mapping.open(fd, 0, size, { view: 'copy' });
      assert.equal(m.mode, 'copy');
      assert.equal(m.reason, 'requested');
      assert.ok(m.view.buffer instanceof SharedArrayBuffer);
      assert.ok(m.view.every((b) => b === 0));
      const rects = [
        { x: 0, y: 0, w: 1, h: 1 },
        { x: 10, y: 5, w: 7, h: 3 },
        { x: W - 2, y: H - 4, w: 2, h: 4 }, // touches the last byte of the last row
        { x: 3, y: 3, w: 0, h: 9 }, // empty: ignored
      ];
      m.copyRects(stride, rects);
      expectOnly(m.view, rects);
      m.release();
    } finally {
      closeFd(fd);
    }
  });

  it('accepts a flat Uint32Array and an explicit dst (shared mode)', () => {
    const { fd } = memfd(size);
    try {
      fillFile(fd, pattern);
      const m = Mapping.open(fd, 0, size);
      assert.equal(m.mode, 'shared');
      const dst = new Uint8Array(size);
      m.copyRects(stride, new Uint32Array([1, 2, 3, 4, 20, 0, 40, 1]), dst);
      expectOnly(dst, [
        { x: 1, y: 2, w: 3, h: 4 },
        { x: 20, y: 0, w: 40, h: 1 },
      ]);
      m.release();
    } finally {
      closeFd(fd);
    }
  });

  it('rejects out-of-bounds rects with RangeError and copies nothing', () => {
    const { fd } = memfd(size);
    try {
      fillFile(fd, pattern);
      const m = Mapping.open(fd, 0, size, { view: 'copy' });
      const ok = { x: 0, y: 0, w: 4, h: 4 };
      const bad = [
        { x: W - 3, y: 0, w: 4 + 4, h: 1 }, // row wider than stride
        { x: 0, y: H - 1, w: 1, h: 2 }, // below the last row
        { x: 0, y: 0xffffffff, w: 1, h: 0xffffffff }, // overflow bait
        { x: 0xffffffff, y: 0, w: 1, h: 1 },
      ];
      for (const b of bad) {
        assert.throws(() => m.copyRects(stride, [ok, b]), RangeError, JSON.stringify(b));
        assert.ok(
          m.view.every((v) => v === 0),
          `nothing copied for ${JSON.stringify(b)}`,
        );
      }
      assert.throws(() => m.copyRects(stride, [{ x: -1, y: 0, w: 1, h: 1 }]), RangeError);
      assert.throws(() => m.copyRects(stride, new Uint32Array([1, 2, 3])), RangeError);
      assert.throws(() => m.copyRects(stride, [ok], new Uint8Array(10)), RangeError, 'dst too small');
      assert.throws(() => m.copyRects(0, [ok]), RangeError);
      assert.throws(() => m.copyRects(2 ** 52, [{ x: 0, y: 300, w: 1, h: 1 }]), RangeError, 'stride overflow bait');
      m.release();
    } finally {
      closeFd(fd);
    }
  });
});

// QEMU without memfd (Homebrew's on macOS) hands Unix.Map an unlinked temporary file instead: the
// same calls must map it, shared and copied.
describe('Mapping of a regular file (no memfd: an unlinked temporary file)', () => {
  function unlinkedFile(size: number): number {
    const dir = mkdtempSync(join(tmpdir(), 'kju-map-file-'));
    const path = join(dir, 'surface');
    const fd = openSync(path, 'w+', 0o600);
    rmSync(dir, { recursive: true });
    ftruncateSync(fd, size);
    return fd;
  }

  it('maps it shared at an offset: file writes show up in the view and view writes in the file', () => {
    const fd = unlinkedFile(3 * 4096);
    try {
      writeSync(fd, Buffer.from('left by QEMU'), 0, 12, 4096 + 100);
      const m = Mapping.open(fd, 4096 + 100, 4096, { writable: true });
      try {
        assert.equal(m.mode, 'shared', m.reason);
        assert.equal(Buffer.from(m.view.subarray(0, 12)).toString(), 'left by QEMU');
        writeSync(fd, Buffer.from('next frame'), 0, 10, 4096 + 100);
        assert.equal(Buffer.from(m.view.subarray(0, 10)).toString(), 'next frame');
        m.view.set(Buffer.from('kju'), 20);
        const back = Buffer.alloc(3);
        readSync(fd, back, 0, 3, 4096 + 120);
        assert.equal(back.toString(), 'kju');
      } finally {
        m.release();
      }
    } finally {
      closeSync(fd);
    }
  });

  it('copies its rects in copy mode and refuses a length past its end', () => {
    const fd = unlinkedFile(4096);
    try {
      const pixels = Buffer.alloc(4096, 0);
      for (let i = 0; i < 16 * 4; i++) pixels[i] = i + 1; // row 0, pixels 0..15
      writeSync(fd, pixels, 0, 4096, 0);
      const m = Mapping.open(fd, 0, 4096, { view: 'copy' });
      try {
        assert.equal(m.mode, 'copy');
        m.copyRects(256, [{ x: 0, y: 0, w: 8, h: 1 }]);
        assert.deepEqual([...m.view.subarray(0, 32)], [...pixels.subarray(0, 32)]);
        assert.ok(
          m.view.subarray(32, 64).every((b) => b === 0),
          'only the rect was copied',
        );
      } finally {
        m.release();
      }
      assert.throws(
        () => Mapping.open(fd, 0, 8192),
        (e: unknown) => e instanceof NativeError && e.errnoName === 'ESHORTFILE',
      );
    } finally {
      closeSync(fd);
    }
  });
});

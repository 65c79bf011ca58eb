import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { NativeError, userXattrSupported } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-xattr-'));
const ramfs = join(dir, 'ramfs');
mkdirSync(ramfs);
const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'ramfs', 'kju-test', ramfs]).status === 0;
after(() => {
  if (mounted) spawnSync('umount', [ramfs]);
  rmSync(dir, { recursive: true, force: true });
});

describe('userXattrSupported', () => {
  it('is true on a file system with user xattrs (the temp dir: ext4 or tmpfs >= 6.6), and writes nothing', () => {
    const folder = join(dir, 'plain');
    mkdirSync(folder);
    const before = statSync(folder);
    assert.equal(userXattrSupported(folder), true);

    assert.deepEqual(readdirSync(folder), []);
    assert.equal(statSync(folder).ctimeMs, before.ctimeMs, 'an xattr write would change ctime');
  });

  it('is false on ramfs, which keeps no user xattrs', { skip: mounted ? false : 'mounting ramfs needs root' }, () => {
    assert.equal(userXattrSupported(ramfs), false);

    assert.deepEqual(readdirSync(ramfs), []);
  });

  it('works on a folder the probe cannot write (read-only bind mount)', { skip: mounted ? false : 'needs root' }, () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    assert.equal(spawnSync('mount', ['--bind', '-o', 'ro', join(dir, 'plain'), ro]).status, 0);
    try {
      assert.equal(userXattrSupported(ro), true);
    } finally {
      spawnSync('umount', [ro]);
    }
  });

  it('throws a NativeError naming the path for a missing folder', () => {
    assert.throws(
      () => userXattrSupported(join(dir, 'missing')),
      (e: unknown) => e instanceof NativeError && /ENOENT.*missing/.test(e.message),
    );
  });
});

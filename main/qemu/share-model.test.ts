import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { shareSecurityModel } from './share-model.js';

test('a share gets mapped-xattr where its file system keeps user xattrs, mapped-file where it does not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kju-share-model-'));
  try {
    assert.equal(shareSecurityModel(dir), 'mapped-xattr', 'the temp dir (ext4, or tmpfs >= 6.6) keeps user xattrs');
    assert.equal(
      shareSecurityModel(dir, () => false),
      'mapped-file',
    );
    assert.throws(() => shareSecurityModel(join(dir, 'missing')), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isInside, isWithin, realOrResolved } from './path-containment.js';

test('isInside is strictly below; isWithin also the folder itself; ".." names are not parents', () => {
  assert.equal(isInside('/a/b', '/a/b/c'), true);
  assert.equal(isInside('/a/b', '/a/b'), false);
  assert.equal(isInside('/a/b', '/a/bc'), false);
  assert.equal(isInside('/a/b', '/a'), false);
  assert.equal(isInside('/a/b', '/a/b/../c'), false);
  assert.equal(isInside('/a/b', '/a/b/..x'), true, 'a file named "..x" is inside');
  assert.equal(isWithin('/a/b', '/a/b'), true);
  assert.equal(isWithin('/a/b', '/a/b/..x'), true);
  assert.equal(isWithin('/a/b', '/a/c'), false);
});

test('realOrResolved follows symlinks and keeps a missing path as resolved', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kju-contain-'));
  try {
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    assert.equal(realOrResolved(join(dir, 'link')), realOrResolved(join(dir, 'real')));
    assert.equal(realOrResolved(join(dir, 'none', '..', 'gone')), join(dir, 'gone'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

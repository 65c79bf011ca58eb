import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RuntimeDirError, ensurePrivateDir, prepareRuntimeDir, runtimeBase, sanitizeVmName } from './runtime-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-rtdir-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('sanitizeVmName', () => {
  assert.equal(sanitizeVmName('Debian 12 (test)'), 'Debian-12-test');
  assert.equal(sanitizeVmName('../../etc'), 'etc');
  assert.equal(sanitizeVmName('Ünïcode ✓'), 'Unicode');
  assert.equal(sanitizeVmName('///'), 'vm');
  assert.equal(sanitizeVmName('a'.repeat(100)).length, 64);
});

test('runtimeBase: XDG_RUNTIME_DIR, else /tmp/kju-<uid>', () => {
  assert.equal(runtimeBase({ XDG_RUNTIME_DIR: '/run/user/5' }), '/run/user/5/kju');
  assert.equal(runtimeBase({}), join(tmpdir(), `kju-${process.getuid!()}`, 'kju'));
});

test('prepareRuntimeDir creates base and VM dir 0700, and fixes a loose mode', () => {
  const base = join(dir, 'base');
  const vmDir = prepareRuntimeDir('My VM', base);
  assert.equal(vmDir, join(base, 'My-VM'));
  assert.equal(statSync(base).mode & 0o777, 0o700);
  assert.equal(statSync(vmDir).mode & 0o777, 0o700);
  chmodSync(vmDir, 0o755);
  prepareRuntimeDir('My VM', base);
  assert.equal(statSync(vmDir).mode & 0o777, 0o700);
});

test('a symlink or a file in the way is refused', () => {
  writeFileSync(join(dir, 'file'), '');
  assert.throws(() => ensurePrivateDir(join(dir, 'file')), (e: unknown) => e instanceof Error);
  symlinkSync(dir, join(dir, 'link'));
  assert.throws(() => ensurePrivateDir(join(dir, 'link')), (e: unknown) => e instanceof RuntimeDirError && /symlink/.test(e.message));
});

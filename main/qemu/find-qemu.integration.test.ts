// Integration (runs the installed qemu-system-x86_64): findQemu on this machine's PATH.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findQemu } from './find-qemu.js';

test('the installed QEMU is found and supports the D-Bus display', async () => {
  const q = await findQemu({ PATH: process.env.PATH });
  assert.ok(q.version.major >= 7);
  assert.match(q.versionText, /QEMU emulator version/);
  assert.equal(q.sharedMemoryDisplay, q.version.major > 9 || (q.version.major === 9 && q.version.minor >= 2));
});

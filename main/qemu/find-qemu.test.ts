import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { QemuNotFoundError, QemuUnsupportedError, chooseAccelerator, findQemu, parseQemuVersion, qemuCandidates } from './find-qemu.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-findqemu-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A fake qemu-system-x86_64 printing `version` and, for -display help, `displays`. */
function fakeQemu(name: string, version: string, displays = 'none\ngtk\ndbus\n'): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    `#!/bin/sh\nif [ "$1" = --version ]; then printf '%s\\n' 'QEMU emulator version ${version}' 'Copyright'; exit 0; fi\nprintf 'Available display backend types:\\n${displays.replaceAll('\n', '\\n')}'\n`,
  );
  chmodSync(p, 0o755);
  return p;
}

test('parseQemuVersion', () => {
  assert.deepEqual(parseQemuVersion('QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)'), { major: 10, minor: 0, micro: 2 });
  assert.deepEqual(parseQemuVersion('QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u16)'), { major: 7, minor: 2, micro: 15 });
  assert.deepEqual(parseQemuVersion('QEMU emulator version 9.2'), { major: 9, minor: 2, micro: 0 });
  assert.equal(parseQemuVersion('something else'), undefined);
});

test('candidates: KJU_QEMU wins; PATH; Homebrew on macOS', () => {
  assert.deepEqual(qemuCandidates({ KJU_QEMU: '/x/q', PATH: '/usr/bin' }, 'linux'), ['/x/q']);
  assert.deepEqual(qemuCandidates({ PATH: '/a:/b' }, 'linux'), ['/a/qemu-system-x86_64', '/b/qemu-system-x86_64']);
  assert.deepEqual(qemuCandidates({ PATH: '/a' }, 'darwin'), ['/a/qemu-system-x86_64', '/opt/homebrew/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64']);
});

test('QEMU 9.1 works with a copy-path warning', async () => {
  const q = await findQemu({ KJU_QEMU: fakeQemu('q91', '9.1.0') });
  assert.equal(q.sharedMemoryDisplay, false);
  assert.match(q.warnings.join('\n'), /older than 9\.2.*copied/);
});

test('QEMU 6.2 is refused with what to install', async () => {
  await assert.rejects(findQemu({ KJU_QEMU: fakeQemu('q62', '6.2.0') }), (e: unknown) => {
    assert.ok(e instanceof QemuUnsupportedError);
    assert.match(e.message, /6\.2\.0 .* too old.*≥ 7\.0/);
    assert.match(e.hint ?? '', /install/);
    return true;
  });
});

test('a QEMU without -display dbus is refused', async () => {
  await assert.rejects(findQemu({ KJU_QEMU: fakeQemu('nodbus', '10.0.0', 'none\ngtk\n') }), (e: unknown) => e instanceof QemuUnsupportedError && /D-Bus display/.test(e.message));
});

test('a missing binary is QemuNotFoundError', async () => {
  await assert.rejects(findQemu({ KJU_QEMU: join(dir, 'nope') }), (e: unknown) => e instanceof QemuNotFoundError && /KJU_QEMU=.*nope/.test(e.message));
  await assert.rejects(findQemu({ PATH: dir }), (e: unknown) => e instanceof QemuNotFoundError && /not on PATH/.test(e.message));
});

test('chooseAccelerator: KJU_ACCEL forces; macOS uses HVF', () => {
  assert.equal(chooseAccelerator({ KJU_ACCEL: 'tcg' }, 'linux'), 'tcg');
  assert.equal(chooseAccelerator({ KJU_ACCEL: 'tcg' }, 'darwin'), 'tcg');
  assert.equal(chooseAccelerator({}, 'darwin'), 'hvf');
  assert.equal(chooseAccelerator({}, 'win32'), 'tcg');
  assert.ok(['kvm', 'tcg'].includes(chooseAccelerator({}, 'linux')));
});

// kju doctor as a user runs it, without QEMU: a PATH holding only a `node` symlink.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { QEMU_INSTALL_HINT } from '../../qemu/find-qemu.js';
import { dropsPrivileges } from '../../qemu/qemu-user.js';
import type { Diagnostic } from '../../backend/diagnostics.js';
import { kjuScratch } from '../../testing/kju-scratch.js';

const s = kjuScratch('kju-doctor', { withoutQemu: true, timeoutMs: 60_000 });
s.env.XDG_CACHE_HOME = join(s.dir, 'cache');
delete s.env.KJU_ACCEL;
delete s.env.XDG_STATE_HOME;
test.after(() => s.remove());
const doctor = (args: string[]) => s.kju('doctor', ...args);

test('without QEMU on PATH: FAIL with the install line, exit status 1', () => {
  const r = doctor([]);
  console.log(r.stdout);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.split('\n');
  const qemu = lines.findIndex((l) => l.startsWith('FAIL  QEMU'));
  assert.ok(qemu >= 0, r.stdout);
  assert.match(lines[qemu]!, /qemu-system-x86_64 is not on PATH/);
  assert.equal(lines[qemu + 1]!.trim(), `fix: ${QEMU_INSTALL_HINT}`);
  if (process.platform === 'linux') assert.match(lines[qemu + 1]!, /apt install -t bookworm-backports qemu-system-x86/);
});

test('--json: the same lines as data, ok false', () => {
  const r = doctor(['--json']);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; checks: Diagnostic[] };
  assert.equal(out.ok, false);
  assert.deepEqual(
    out.checks.map((c) => c.id),
    ['qemu', 'display', 'accelerator', 'uefi', 'swtpm', ...(dropsPrivileges() ? ['qemu-user'] : []), 'libvirt', 'electron', 'library', 'runtime-dir'],
  );
  const qemu = out.checks[0]!;
  assert.equal(qemu.status, 'FAIL');
  assert.equal(qemu.fix, QEMU_INSTALL_HINT);
  for (const c of out.checks) assert.ok(['OK', 'WARN', 'FAIL'].includes(c.status) && c.summary.length > 0, JSON.stringify(c));
});

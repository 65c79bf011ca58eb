// kju doctor as a user runs it, without QEMU: a PATH holding only a `node` symlink.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { QEMU_INSTALL_HINT } from '../../qemu/find-qemu.js';
import { dropsPrivileges } from '../../qemu/qemu-user.js';
import type { Diagnostic } from '../../backend/diagnostics.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kju-doctor-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function doctor(args: string[]) {
  const bin = join(tmp, 'bin');
  mkdirSync(bin, { recursive: true });
  try {
    symlinkSync(process.execPath, join(bin, 'node'));
  } catch {
    // made by the first call
  }
  const env: NodeJS.ProcessEnv = {
    PATH: bin,
    HOME: tmp,
    XDG_CACHE_HOME: join(tmp, 'cache'),
    XDG_RUNTIME_DIR: join(tmp, 'run'),
    KJU_LIBRARY: join(tmp, 'library'),
  };
  return spawnSync('node', ['--import', 'tsx', join(root, 'main/cli/kju.ts'), 'doctor', ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
}

test('without QEMU on PATH: FAIL with the install line, exit status 1', () => {
  const r = doctor([]);
  console.log(r.stdout);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.split('\n');
  const qemu = lines.findIndex((l) => l.startsWith('FAIL  QEMU'));
  assert.ok(qemu >= 0, r.stdout);
  assert.match(lines[qemu]!, /qemu-system-x86_64 is not on PATH/);
  assert.equal(lines[qemu + 1]!.trim(), `fix: ${QEMU_INSTALL_HINT}`);
  if (process.platform === 'linux') assert.match(lines[qemu + 1]!, /apt install -t bookworm-backports qemu-system-x86/);
});

test('--json: the same lines as data, ok false', () => {
  const r = doctor(['--json']);
  assert.equal(r.status, 1, r.stderr);
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

// Integration (real QEMU; the accelerator check runs its probe): kju doctor on this machine, with
// no KJU_ACCEL and a fresh cache dir. The QEMU and display lines must be OK; the rest is printed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Diagnostic } from '../../backend/diagnostics.js';
import { accelCheckCacheFile, readAccelCheck } from '../../qemu/accel-check.js';
import { kjuScratch } from '../../testing/kju-scratch.js';

test('integration: kju doctor with QEMU: QEMU and the shared-memory display OK, the accelerator checked and cached', (t) => {
  const s = kjuScratch('kju-doctor-it', { timeoutMs: 60_000 });
  t.after(() => s.remove());
  const env = s.env;
  env.XDG_CACHE_HOME = join(s.dir, 'cache');
  delete env.KJU_ACCEL;
  delete env.KJU_CACHE;
  const kju = (args: string[]) => s.kju('doctor', ...args);

  const text = kju([]);
  console.log(text.stdout);
  assert.equal(text.stderr, '');
  assert.match(text.stdout, /^OK {4}QEMU {9}QEMU \d+\.\d+\.\d+ at \//m);
  assert.match(text.stdout, /^OK {4}display {6}D-Bus display with Unix\.Map/m);

  const r = kju(['--json']);
  const out = JSON.parse(r.stdout) as { ok: boolean; checks: Diagnostic[] };
  const line = (id: Diagnostic['id']) => out.checks.find((c) => c.id === id)!;
  assert.equal(line('qemu').status, 'OK');
  assert.equal(line('display').status, 'OK');
  assert.equal(r.code, out.ok ? 0 : 1);
  assert.equal(out.ok, !out.checks.some((c) => c.status === 'FAIL'));
  // an accelerator that fails its check is a WARN (kju runs on TCG), never a FAIL
  assert.notEqual(line('accelerator').status, 'FAIL');
  const cached = readAccelCheck(accelCheckCacheFile(env));
  if (cached) {
    assert.equal(line('accelerator').status, cached.works ? 'OK' : 'WARN');
    assert.ok(line('accelerator').summary.includes(cached.reason));
  } else {
    assert.match(line('accelerator').summary, /no hardware accelerator|HVF|KVM/);
  }
});

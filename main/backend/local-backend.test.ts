import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VmSummary } from '../../common/contract.js';
import { QemuNotFoundError } from '../qemu/find-qemu.js';
import type { SessionManager } from '../session/session-manager.js';
import { LocalBackend } from './local-backend.js';

const vm: VmSummary = { id: 'a', name: 'A', state: 'stopped', display: 'std', memoryMiB: 512, cpus: 1 };

/** Just enough of a SessionManager for call(): start and stop do what the test says, and are counted. */
function fakeSessions(start: () => Promise<unknown>) {
  const calls: string[] = [];
  const sessions = {
    list: async () => [vm],
    start: async (id: string) => (calls.push(`start ${id}`), start()),
    stop: async (id: string, o: { force?: boolean }) => (calls.push(`stop ${id} ${Boolean(o.force)}`), { summary: { ...vm, state: 'stopped' } }),
    library: { host: { cpus: 4, memoryMiB: 8192 } },
  };
  return { calls, sessions: sessions as unknown as SessionManager };
}

test('call checks the arguments before any handler runs', async () => {
  const { calls, sessions } = fakeSessions(async () => ({ summary: vm }));
  const backend = new LocalBackend(sessions);
  const call = backend.call as (m: string, a: unknown) => Promise<{ ok: boolean; code?: string }>;
  assert.equal((await call('startVm', { id: 7 })).code, 'bad-args');
  assert.equal((await call('stopVm', { id: 'a', force: 'yes' })).code, 'bad-args');
  assert.equal((await call('rmRf', {})).code, 'unknown-method');
  assert.deepEqual(calls, []);
  assert.deepEqual(await backend.call('stopVm', { id: 'a', force: true }), { ok: true, value: { ...vm, state: 'stopped' } });
  assert.deepEqual(await backend.call('hostLimits', {}), { ok: true, value: { cpus: 4, memoryMiB: 8192 } });
  assert.deepEqual(calls, ['stop a true']);
});

test('a kju error from a handler keeps its code, message and hint; any other throw is internal', async () => {
  const noQemu = new LocalBackend(fakeSessions(() => Promise.reject(new QemuNotFoundError('QEMU not found: qemu-system-x86_64 is not on PATH'))).sessions);
  const r = await noQemu.call('startVm', { id: 'a' });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'qemu-not-found');
  assert.equal(!r.ok && r.message, 'QEMU not found: qemu-system-x86_64 is not on PATH');
  assert.match((!r.ok && r.hint) || '', /install/);

  const buggy = new LocalBackend(fakeSessions(() => Promise.reject(new TypeError('x is undefined'))).sessions);
  const origWrite = process.stderr.write;
  let logged = '';
  process.stderr.write = ((chunk: string) => ((logged += chunk), true)) as typeof process.stderr.write;
  try {
    assert.deepEqual(await buggy.call('startVm', { id: 'a' }), { ok: false, code: 'internal', message: 'startVm failed: x is undefined' });
  } finally {
    process.stderr.write = origWrite;
  }
  assert.match(logged, /TypeError: x is undefined\n\s+at /);
});

test('diagnostics: the doctor lines through call(), each id once in kju doctor order; arguments refused', async () => {
  const backend = new LocalBackend(fakeSessions(async () => ({ summary: vm })).sessions);
  const saved = process.env.KJU_ACCEL;
  process.env.KJU_ACCEL = 'tcg'; // forced: no accelerator probe from a unit test
  try {
    const r = await backend.call('diagnostics', {});
    assert.equal(r.ok, true);
    const lines = r.ok ? r.value : [];
    assert.deepEqual(lines.map((l) => l.id), ['qemu', 'display', 'accelerator', 'uefi', 'swtpm', 'electron', 'library', 'runtime-dir']);
    for (const l of lines) assert.ok(['OK', 'WARN', 'FAIL'].includes(l.status) && l.summary.length > 0, JSON.stringify(l));
    const accel = lines.find((l) => l.id === 'accelerator')!;
    assert.equal(accel.status, 'OK');
    assert.match(accel.summary, /TCG, forced by KJU_ACCEL=tcg/);
  } finally {
    if (saved === undefined) delete process.env.KJU_ACCEL;
    else process.env.KJU_ACCEL = saved;
  }
  const call = backend.call as (m: string, a: unknown) => Promise<{ ok: boolean; code?: string }>;
  assert.equal((await call('diagnostics', { recheck: true })).code, 'bad-args');
});

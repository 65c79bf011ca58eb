import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VmSummary } from '../../common/contract.js';
import { QemuNotFoundError } from '../qemu/find-qemu.js';
import type { SessionManager } from '../session/session-manager.js';
import { LocalBackend } from './local-backend.js';

const vm: VmSummary = { id: 'a', name: 'A', state: 'stopped', displayDevice: 'std', memoryMiB: 512, cpus: 1 };

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

test('editVm hands the display device to the library as config.json\'s `display`; presets carry it as displayDevice', async () => {
  const edits: unknown[] = [];
  const sessions = {
    list: async () => [vm],
    listenerCount: () => 0,
    library: { get: async () => ({ dir: '/nowhere', config: { id: 'a', name: 'A' } }), edit: async (_id: string, c: unknown) => void edits.push(c) },
  } as unknown as SessionManager;
  const backend = new LocalBackend(sessions);
  assert.deepEqual(await backend.call('editVm', { id: 'a', changes: { displayDevice: 'qxl', cpus: 2 } }), { ok: true, value: vm });
  assert.deepEqual(edits, [{ cpus: 2, display: 'qxl' }]);
  const presets = await backend.call('presets', {});
  assert.ok(presets.ok);
  assert.deepEqual(presets.value.map((p) => [p.id, p.displayDevice]), [['linux', 'virtio-vga'], ['windows', 'std'], ['dos', 'std'], ['bsd', 'virtio-vga'], ['other', 'std']]);
});

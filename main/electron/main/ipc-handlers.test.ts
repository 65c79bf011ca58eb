import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKEND_METHODS, type VmSummary } from '../../../common/contract.js';
import { BACKEND_CHANNELS } from '../ipc/channels.js';
import { forwardingHandlers, isTrustedSender, registerBackendHandlers, type BackendHandlerTable } from './ipc-handlers.js';

type FakeEvent = { senderFrame: { url: string } | null };
const vm: VmSummary = { id: 'a', name: 'A', state: 'running', displayDevice: 'std', memoryMiB: 512, cpus: 1 };

function fakeIpc() {
  const handlers = new Map<string, (event: FakeEvent, ...args: unknown[]) => Promise<unknown>>();
  return {
    handlers,
    handle: (c: string, l: (event: FakeEvent, ...args: unknown[]) => Promise<unknown>) => void handlers.set(c, l),
    removeHandler: (c: string) => void handlers.delete(c),
  };
}

const forwarded: { method: string; args: unknown }[] = [];
const table: BackendHandlerTable<FakeEvent> = {
  ...forwardingHandlers<FakeEvent>(async (method, args) => {
    forwarded.push({ method, args });
    return { ok: false, code: 'internal', message: method };
  }),
  listVms: async () => ({ ok: true, value: [vm] }),
  startVm: async (_e, { id }) => (id === 'boom' ? Promise.reject(new Error('kaput')) : { ok: true, value: { ...vm, id } }),
  stopVm: async (_e, { id }) => ({ ok: false, code: 'not-running', message: `${id} is not running` }),
};
const ours: FakeEvent = { senderFrame: { url: 'app://kju/index.html#/vm/a' } };

test('registers exactly one channel per BACKEND_METHODS entry, the same set the preload allows', () => {
  const ipc = fakeIpc();
  const remove = registerBackendHandlers(ipc, table, isTrustedSender);
  assert.deepEqual([...ipc.handlers.keys()].sort(), BACKEND_METHODS.map((m) => `kju:${m}`).sort());
  assert.deepEqual([...ipc.handlers.keys()].sort(), [...BACKEND_CHANNELS].sort());
  remove();
  assert.equal(ipc.handlers.size, 0);
});

test('calls from other origins, or a frame that is gone, are refused as data', async () => {
  const ipc = fakeIpc();
  registerBackendHandlers(ipc, table, isTrustedSender);
  for (const ev of [{ senderFrame: { url: 'https://evil.example/' } }, { senderFrame: { url: 'app://kjux/index.html' } }, { senderFrame: null }]) {
    const r = (await ipc.handlers.get('kju:listVms')!(ev, {})) as { ok: boolean; code: string };
    assert.equal(r.ok, false);
    assert.equal(r.code, 'forbidden');
  }
});

test('arguments are checked like kju serve does; failures and throws come back as data', async () => {
  const ipc = fakeIpc();
  registerBackendHandlers(ipc, table, isTrustedSender);
  const call = (m: string, args: unknown) => ipc.handlers.get(`kju:${m}`)!(ours, args);
  assert.deepEqual(await call('listVms', {}), { ok: true, value: [vm] });
  assert.deepEqual(await call('listVms', undefined), { ok: true, value: [vm] });
  assert.equal(((await call('startVm', { id: 7 })) as { code: string }).code, 'bad-args');
  assert.equal(((await call('startVm', { id: 'x', extra: 1 })) as { code: string }).code, 'bad-args');
  assert.equal(((await call('stopVm', { id: 'x', force: 'yes' })) as { code: string }).code, 'bad-args');
  assert.deepEqual(await call('stopVm', { id: 'x', force: true }), { ok: false, code: 'not-running', message: 'x is not running' });
  assert.deepEqual(await call('startVm', { id: 'boom' }), { ok: false, code: 'internal', message: 'startVm failed: kaput' });
});

test('the library and lifecycle methods get the same strict checks before reaching the backend', async () => {
  const ipc = fakeIpc();
  registerBackendHandlers(ipc, table, isTrustedSender);
  const call = (m: string, args: unknown) => ipc.handlers.get(`kju:${m}`)!(ours, args) as Promise<{ ok: boolean; code?: string }>;
  forwarded.length = 0;
  const good: [string, unknown][] = [
    ['presets', {}],
    ['hostLimits', undefined],
    ['createVm', { name: 'A', preset: 'linux', memoryMiB: 512, cpus: 1, disk: { kind: 'new', size: '64M' }, opId: 'op1' }],
    ['createVm', { name: 'B', preset: 'dos', memoryMiB: 64, cpus: 1, disk: { kind: 'existing', path: '/x.img', mode: 'link' }, iso: '/i.iso' }],
    ['editVm', { id: 'a', changes: { memoryMiB: 1024, cdrom: null } }],
    ['cloneVm', { id: 'a', name: 'A2', linked: true }],
    ['deleteVm', { id: 'a', permanent: false }],
    ['snapshot', { id: 'a', op: 'revert', name: 's1' }],
    ['setCdrom', { id: 'a', path: null }],
    ['powerButton', { id: 'a' }],
  ];
  for (const [m, args] of good) assert.equal((await call(m, args)).code, 'internal', m);
  assert.deepEqual(
    forwarded.map((f) => f.method),
    good.map(([m]) => m),
  );
  const bad: [string, unknown][] = [
    ['presets', { x: 1 }],
    ['createVm', { name: 'A', preset: 'beos', memoryMiB: 512, cpus: 1, disk: { kind: 'none' } }],
    ['createVm', { name: 'A', preset: 'linux', memoryMiB: 512.5, cpus: 1, disk: { kind: 'none' } }],
    ['createVm', { name: 'A', preset: 'linux', memoryMiB: 512, cpus: 1, disk: { kind: 'new' } }],
    ['createVm', { name: 'A', preset: 'linux', memoryMiB: 512, cpus: 1, disk: { kind: 'existing', path: '/x', mode: 'steal' } }],
    ['editVm', { id: 'a', changes: { machine: 'pc' } }],
    ['editVm', { id: 'a' }],
    ['cloneVm', { id: 'a', name: '', linked: true }],
    ['snapshot', { id: 'a', op: 'rename', name: 's1' }],
    ['setCdrom', { id: 'a' }],
    ['pauseVm', { id: 'a', force: true }],
  ];
  for (const [m, args] of bad) assert.equal((await call(m, args)).code, 'bad-args', `${m} ${JSON.stringify(args)}`);
  assert.equal(forwarded.length, good.length);
});

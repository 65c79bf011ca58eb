import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VmSummary } from '../../../common/contract.js';
import { activeVms, applyQuitChoice, QUIT_BUTTONS, QUIT_CANCEL_INDEX, QUIT_CHOICES, quitMessage } from './quit-flow.js';

const vm = (id: string, state: VmSummary['state']): VmSummary => ({ id, name: id.toUpperCase(), state, displayDevice: 'std', memoryMiB: 256, cpus: 1 });
const vms = [vm('a', 'running'), vm('b', 'stopped'), vm('c', 'paused'), vm('d', 'crashed')];

test('only running, paused and starting VMs hold up quitting', () => {
  assert.deepEqual(
    activeVms(vms).map((v) => v.id),
    ['a', 'c'],
  );
  assert.equal(QUIT_CHOICES.length, QUIT_BUTTONS.length);
  assert.equal(QUIT_CHOICES[QUIT_CANCEL_INDEX], 'cancel');
  assert.match(quitMessage(activeVms(vms)).message, /2 virtual machines/);
  assert.match(quitMessage([vms[0]]).message, /^A is still running/);
});

test('suspend and shut down run on every VM and report failures by name', async () => {
  const calls: string[] = [];
  const ops = {
    suspendVm: async (id: string) => (
      calls.push(`s:${id}`),
      id === 'c' ? { ok: false as const, code: 'disk-full' as const, message: 'no disk space' } : { ok: true as const, value: vm(id, 'suspended') }
    ),
    shutdownVm: async (id: string, t: number) => (calls.push(`d:${id}:${t}`), id === 'a' ? Promise.reject(new Error('QMP gone')) : { ok: true as const, value: vm(id, 'stopped') }),
  };
  const active = activeVms(vms);
  assert.deepEqual(await applyQuitChoice('suspend', active, ops), ['C: no disk space']);
  assert.deepEqual(await applyQuitChoice('shutdown', active, ops), ['A: QMP gone']);
  assert.deepEqual(await applyQuitChoice('keep', active, ops), []);
  assert.deepEqual(calls, ['s:a', 's:c', 'd:a:30000', 'd:c:30000']);
});

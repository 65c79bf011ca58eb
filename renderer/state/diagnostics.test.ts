import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic, KjuBridge, VmSummary } from '../../common/contract.js';
import { acceleratorNotices, useDiagnostics } from './diagnostics.js';

const NOTICE = 'KVM is present but does not run guests here (nested virtualization?); using software emulation, which is slower';
const vm = (id: string, state: VmSummary['state'], acceleratorNotice?: string): VmSummary => ({ id, name: id, state, displayDevice: 'std', memoryMiB: 256, cpus: 1, acceleratorNotice });
const line = (status: Diagnostic['status'], summary: string): Diagnostic => ({ id: 'accelerator', status, summary });

test('the library banner: a VM’s notice once however many VMs carry it, else the diagnostics’ accelerator warning', () => {
  assert.deepEqual(acceleratorNotices([vm('a', 'running', NOTICE), vm('b', 'paused', NOTICE), vm('c', 'running')], undefined), [NOTICE]);
  assert.deepEqual(acceleratorNotices([vm('a', 'stopped', NOTICE)], undefined), [], 'a stopped VM’s notice is stale');
  assert.deepEqual(acceleratorNotices([], [line('WARN', 'KVM hangs here')]), ['KVM hangs here']);
  assert.deepEqual(acceleratorNotices([], [line('OK', 'KVM runs guests here')]), []);
  assert.deepEqual(acceleratorNotices([vm('a', 'running', NOTICE)], [line('WARN', 'other words')]), [NOTICE]);
});

test('show() asks the backend and keeps its lines or its failure', async () => {
  const lines: Diagnostic[] = [{ id: 'qemu', status: 'OK', summary: 'QEMU 10.0.0' }, line('WARN', 'KVM hangs here')];
  const asked: string[] = [];
  let reply: unknown = { ok: true, value: lines };
  const bridge = { call: async (m: string) => (asked.push(m), reply) } as unknown as KjuBridge;
  await useDiagnostics.getState().show(bridge);
  assert.deepEqual(asked, ['diagnostics']);
  assert.equal(useDiagnostics.getState().open, true);
  assert.deepEqual(useDiagnostics.getState().lines, lines);
  reply = { ok: false, code: 'internal', message: 'diagnostics failed: boom' };
  await useDiagnostics.getState().show(bridge);
  assert.match(useDiagnostics.getState().error ?? '', /boom/);
  useDiagnostics.getState().close();
  assert.equal(useDiagnostics.getState().open, false);
});

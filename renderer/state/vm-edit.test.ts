import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VmSummary } from '../../common/contract.js';
import { afterChange, changesOf, checkDraft, draftOf, errorsFromFailure } from './vm-edit.js';

const vm: VmSummary = { id: 'k', name: 'K', state: 'stopped', displayDevice: 'std', memoryMiB: 256, cpus: 1, kernel: '/boot/vmlinuz', append: 'quiet' };

test('edit draft: kernel, initrd, command line and clipboard are settings like the rest; emptied ones are removed', () => {
  const d = draftOf(vm);
  assert.deepEqual(changesOf(vm, d), {}, 'nothing changed, nothing sent');
  assert.deepEqual(changesOf(vm, { ...d, clipboard: true, initrd: '/boot/initrd.img', append: '' }), { clipboard: true, initrd: '/boot/initrd.img', append: null });
  assert.deepEqual(changesOf(vm, { ...d, kernel: '' }), { kernel: null });
  assert.match(checkDraft({ ...d, kernel: 'vmlinuz' }, null).kernel!, /starting with \//);
  assert.match(checkDraft({ ...d, kernel: '', append: 'x' }, null).kernel!, /kernel/, 'a command line needs a kernel');
  assert.deepEqual(checkDraft(d, null), {});
});

test('edit errors: beside the field the backend names, else at the top; a change to the field clears them', () => {
  const e = errorsFromFailure({ message: 'the kernel /k does not exist', field: 'kernel' });
  assert.deepEqual(e, { kernel: 'the kernel /k does not exist' });
  assert.deepEqual(errorsFromFailure({ message: 'VM "K" is running', hint: 'shut it down' }), { top: 'VM "K" is running\nshut it down' });
  assert.deepEqual(afterChange({ ...e, memoryMiB: 'too much', top: 'x' }, 'kernel'), { memoryMiB: 'too much' });
});

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { deriveListState, needsProbe, NOT_RESPONDING, type ListFacts } from './list-state.js';

const base: ListFacts = { listed: 'stopped', suspended: false, resumerAlive: false };

test('a stopped VM stays stopped without asking QEMU; with a suspend record it is suspended', () => {
  assert.equal(needsProbe(base), false);
  assert.deepEqual(deriveListState(base), { state: 'stopped' });
  const suspended = { ...base, suspended: true };
  assert.equal(needsProbe(suspended), false);
  assert.deepEqual(deriveListState(suspended), { state: 'suspended' });
});

test("a VM in our table: our state while we hold it, QEMU's while released, ours with a problem when QEMU hangs", () => {
  const held = { ...base, listed: 'running' as const, owned: { state: 'paused' as const, held: true } };
  assert.equal(needsProbe(held), true);
  assert.deepEqual(deriveListState(held, 'running'), { state: 'paused' });
  const released = { ...held, owned: { state: 'paused' as const, held: false } };
  assert.deepEqual(deriveListState(released, 'running'), { state: 'running' });
  assert.deepEqual(deriveListState(released, 'not-responding'), { state: 'paused', problem: NOT_RESPONDING });
});

test('a crash seen here wins over the pid file, and needs no query', () => {
  const f = { ...base, listed: 'running' as const, crash: 'QEMU was killed' };
  assert.equal(needsProbe(f), false);
  assert.deepEqual(deriveListState(f), { state: 'crashed', problem: 'QEMU was killed' });
});

test('a running VM owned elsewhere shows what QEMU answers; a hung one stays running with a problem', () => {
  const f = { ...base, listed: 'running' as const };
  assert.equal(needsProbe(f), true);
  assert.deepEqual(deriveListState(f, 'paused'), { state: 'paused' });
  assert.deepEqual(deriveListState(f, 'not-responding'), { state: 'running', problem: NOT_RESPONDING });
});

test('interrupted suspends and resumes show as suspended (start finishes them)', () => {
  const f = { ...base, listed: 'running' as const, suspended: true };
  assert.deepEqual(deriveListState(f, 'paused'), { state: 'suspended' });
  assert.deepEqual(deriveListState(f, 'starting'), { state: 'suspended' });
  // a resume in progress: its starter still lives
  assert.deepEqual(deriveListState({ ...f, resumerAlive: true }, 'starting'), { state: 'starting' });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import type { BundleVm } from '../library/bundle-files.js';
import { checkResumable, readSuspended, recordSuspended, SavedStateError, statePaths } from './saved-state.js';

const root = mkdtempSync(join(tmpdir(), 'kju-saved-'));
after(() => rmSync(root, { recursive: true, force: true }));

function bundle(name: string): BundleVm {
  const dir = join(root, `${name}.kju`);
  mkdirSync(statePaths(dir).dir, { recursive: true });
  return { dir, config: { name, disks: [] } } as unknown as BundleVm;
}

test('the record carries the state file’s sha256; a changed state is refused at resume (state-corrupt)', async () => {
  const vm = bundle('a');
  const p = statePaths(vm.dir);
  writeFileSync(p.partial, 'machine state bytes');
  const record = await recordSuspended(vm, 19);
  assert.match(record.sha256 ?? '', /^[0-9a-f]{64}$/);
  assert.deepEqual(readSuspended(vm.dir), record);
  assert.equal(await checkResumable(vm, record), p.state);
  writeFileSync(p.state, 'machine state bytez');
  await assert.rejects(checkResumable(vm, record), (e: unknown) => e instanceof SavedStateError && e.code === 'state-corrupt');
});

test('a record naming a state outside states/ (or another name) is broken: never loaded', async () => {
  const vm = bundle('b');
  const p = statePaths(vm.dir);
  writeFileSync(p.partial, 'x');
  await recordSuspended(vm, 1);
  const good = JSON.parse(readFileSync(p.record, 'utf8')) as Record<string, unknown>;
  for (const stateFile of ['../../../etc/passwd', '/etc/passwd', 'other.state']) {
    writeFileSync(p.record, JSON.stringify({ ...good, stateFile }));
    assert.throws(
      () => readSuspended(vm.dir),
      (e: unknown) => e instanceof SavedStateError && e.code === 'broken-record',
      stateFile,
    );
  }
  writeFileSync(p.record, JSON.stringify({ ...good, sha256: 'not-a-hash' }));
  assert.throws(() => readSuspended(vm.dir), /sha256/);
});

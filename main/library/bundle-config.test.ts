import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vmNameProblem } from '../../common/vm-name.js';
import { Library } from './library.js';
import { createVm } from './vm-create.js';

test('VM names that hide what they say are refused, with the reason', () => {
  const refused: Array<[string, RegExp]> = [
    ['\u202egnp.exe', /invisible formatting character U\+202E .*bidi override/],
    ['a\u200bb', /invisible formatting character U\+200B/],
    ['a\u2066b', /U\+2066/],
    ['a\ud800b', /lone UTF-16 surrogate/],
    ['a\u0085b', /control character U\+0085/],
    ['tab\tname', /control character U\+0009/],
    ['con', /reserved device name on Windows/],
    ['NUL', /reserved device name on Windows/],
    ['com1.txt', /reserved device name on Windows/],
    ['Lpt9', /reserved device name on Windows/],
    ['e\u0301', /not in Unicode normal form NFC/],
    ['name.', /ends with a dot/],
  ];
  for (const [name, reason] of refused) assert.match(vmNameProblem(name) ?? '(accepted)', reason, JSON.stringify(name));
  for (const name of ['Тест', 'Работа', '日本語', 'é', 'A B', 'A-B', 'console', 'com0', 'Debian 12 (bookworm)']) {
    assert.equal(vmNameProblem(name), undefined, name);
  }
});

test('create stores names as NFC, so both Unicode forms of one name are one name', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-names-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const lib = new Library(join(tmp, 'library'), { host: { cpus: 4, memoryMiB: 8192 } });
  const small = { preset: 'other' as const, diskSize: null, memoryMiB: 64, cpus: 1 };
  const vm = await createVm(lib, { ...small, name: 'Caf\u0065\u0301' });
  assert.equal(vm.config.name, 'Caf\u00e9');
  assert.deepEqual(
    (await readdir(lib.root)).filter((n) => !n.startsWith('.')),
    ['Caf\u00e9.kju'],
  );
  await assert.rejects(createVm(lib, { ...small, name: 'CAF\u00c9' }), (err: Error & { code: string }) => err.code === 'name-taken');
  assert.equal((await lib.get('cafe\u0301')).config.id, vm.config.id, 'lookup by the other form finds it');
  await assert.rejects(createVm(lib, { ...small, name: '\u202egnp.exe' }), (err: Error & { code: string; message: string }) => {
    assert.equal(err.code, 'invalid-name');
    assert.match(err.message, /"\\u202egnp\.exe" cannot be a VM name: .*U\+202E/);
    return true;
  });
});

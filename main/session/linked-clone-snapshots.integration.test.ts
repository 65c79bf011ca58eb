// A linked clone freezes the source's disk as a read-only base: internal snapshots would stay in
// that base, out of the source's reach. The clone is refused instead, through the built CLI
// (bin/kju.mjs) and the backend the app and serve call, and the source keeps its snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { kjuScratch, repoRoot } from '../testing/kju-scratch.js';

const built = existsSync(join(repoRoot, 'app/out/kju.js'));

test('a linked clone of a VM with an internal snapshot is refused and the snapshot stays listed', { skip: !built && 'app/out not built (node scripts/build.mjs)' }, (t) => {
  const s = kjuScratch('kju-linked-snap', { bundle: true });
  t.after(() => s.remove());
  s.ok('create', 'src', '--memory', '64', '--cpus', '1', '--disk-size', '1M');
  s.ok('snapshot', 'create', 'src', 'before-upgrade');
  const r = s.kju('clone', 'src', 'twin', '--linked');
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const message = r.stderr.trim();
  assert.equal(message.split('\n').length, 1, message);
  assert.match(message, /"before-upgrade"/);
  assert.match(message, /kju snapshot delete src/);
  assert.match(message, /full clone/);
  assert.match(s.ok('snapshot', 'list', 'src'), /before-upgrade/);
  assert.deepEqual(
    readdirSync(join(s.library, 'src.kju')).filter((f) => f.includes('.base-')),
    [],
    'no base was frozen',
  );
  assert.ok(!existsSync(join(s.library, 'twin.kju')));
  // the fixes the message names both work
  s.ok('clone', 'src', 'full');
  assert.match(s.ok('snapshot', 'list', 'src'), /before-upgrade/);
  s.ok('snapshot', 'delete', 'src', 'before-upgrade');
  s.ok('clone', 'src', 'twin', '--linked');
});

test('the backend (what the app and serve call) refuses the same linked clone', async (t) => {
  const s = kjuScratch('kju-linked-snap-app');
  t.after(() => s.remove());
  const { Library } = await import('../library/library.js');
  const { createVm } = await import('../library/vm-create.js');
  const { SessionManager } = await import('./session-manager.js');
  const { LocalBackend } = await import('../backend/local-backend.js');
  const lib = new Library(s.library, { host: { cpus: 4, memoryMiB: 8192 } });
  const vm = await createVm(lib, { name: 'src', preset: 'linux', memoryMiB: 64, cpus: 1, diskSize: '1M' });
  const backend = new LocalBackend(SessionManager.create({ library: lib, passive: true }));
  assert.deepEqual(await backend.call('snapshot', { id: vm.config.id, op: 'create', name: 's1' }), { ok: true, value: { live: false } });
  const r = await backend.call('cloneVm', { id: vm.config.id, name: 'twin', linked: true });
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.message : '', /would hide its snapshots "s1"/);
  const list = await backend.call('listSnapshots', { id: vm.config.id });
  assert.deepEqual(list.ok && list.value.map((x) => x.name), ['s1']);
});

// A new user's first run on a machine without QEMU: `kju start` and `kju run` both say how to
// install it, as a kju error (exit 1, no stack trace), not as an internal error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INSTALL_HINT } from '../../qemu/find-qemu.js';
import { kjuScratch } from '../../testing/kju-scratch.js';

test('kju start and kju run without QEMU on PATH print the install hint, exit 1, no stack trace', (t) => {
  const s = kjuScratch('kju-noqemu', { withoutQemu: true });
  t.after(() => s.remove());
  const { kju } = s;
  const created = kju('create', 'Demo', '--no-disk', '--memory', '128', '--cpus', '1');
  assert.equal(created.code, 0, created.stderr);

  const outputs: string[] = [];
  for (const command of ['start', 'run']) {
    const r = kju(command, 'Demo');
    const what = `kju ${command}: ${r.stderr}`;
    assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}; ${what}`);
    assert.match(r.stderr, /^kju: QEMU not found: qemu-system-x86_64 is not on PATH$/m, what);
    assert.ok(r.stderr.split('\n').includes(INSTALL_HINT), `the install hint on its own line; ${what}`);
    assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace; ${what}`);
    assert.doesNotMatch(r.stderr, /internal error/, what);
    outputs.push(r.stderr.slice(r.stderr.indexOf('kju: QEMU not found')));
  }
  assert.equal(outputs[0], outputs[1], 'kju start and kju run say the same');
});

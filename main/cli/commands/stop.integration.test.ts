// Integration (real QEMU under TCG, the demo guest, the CLI from sources): `kju stop` of a paused
// VM resumes it so the guest can see the ACPI power button (the guest runs again: its shell answers
// after the stop; it is not left paused), and a guest that does not power off in time is a failure (exit 1, still
// running, the message names --force), not "not running".
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureDemoGuest } from '../../testing/guest.js';
import { kjuScratch } from '../../testing/kju-scratch.js';
import { SerialConsole } from '../../testing/serial-console.js';
import { libraryVmRuntimeDir } from '../../qemu/runtime-dir.js';

const s = kjuScratch('kju-stop-it');
let serial: SerialConsole | undefined;

const state = (name: string) => (JSON.parse(s.ok('list', '--json')) as { name: string; state: string }[]).find((v) => v.name === name)?.state;

before(async () => {
  const guest = await ensureDemoGuest();
  // the demo guest has no power-button handler (no acpid): it never obeys the button
  s.ok('create', 'P', '--no-disk', '--memory', '128', '--cpus', '1', '--nic', 'none', '--kernel', guest.kernel, '--initrd', guest.initrd, '--append', guest.append);
});
after(() => {
  serial?.close();
  s.kju('stop', 'P', '--force');
  s.remove();
});

test('kju stop of a paused VM resumes it for the power button; a timeout exits 1 and names --force', async () => {
  s.ok('start', 'P');
  const vm = (JSON.parse(s.ok('list', '--json')) as { name: string; id: string; bundle: string }[]).find((v) => v.name === 'P')!;
  const rt = libraryVmRuntimeDir({ dir: vm.bundle, config: { id: vm.id, name: 'P' } }, join(s.runtime, 'kju'));
  serial = await SerialConsole.connect(rt.serialSocket);
  serial.write('\n');
  await serial.waitFor(/kju# /, 120_000);

  s.ok('pause', 'P');
  assert.equal(state('P'), 'paused');
  const t0 = Date.now();
  const r = s.kju('stop', 'P', '--timeout', '3');
  assert.equal(r.code, 1, `a timeout is a failure: ${r.stderr}`);
  assert.match(r.stderr, /did not power off within 3 s/);
  assert.match(r.stderr, /kju stop P --force/);
  assert.doesNotMatch(r.stderr, /not running/);
  assert.ok(Date.now() - t0 < 30_000, 'waited about --timeout, not the 30 s default');
  assert.equal(state('P'), 'running', 'resumed for the button, not left paused');
  assert.equal(await serial.run('echo alive', { timeoutMs: 20_000 }), 'alive', 'the guest shell answers: a paused guest could not');

  s.ok('stop', 'P', '--force');
  assert.equal(state('P'), 'stopped');
});

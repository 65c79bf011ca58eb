import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runtimeDirAt } from '../qemu/runtime-dir.js';
import { fileVmId, isFileVmId, runningFileVms } from './file-vms.js';

function fakeRuntimeDir(base: string, dirName: string, vmJson: object, pid: number): void {
  const rt = runtimeDirAt(join(base, dirName));
  mkdirSync(rt.dir, { recursive: true });
  writeFileSync(rt.vmJson, JSON.stringify(vmJson));
  writeFileSync(rt.pidFile, `${pid}\n`);
}

test('runningFileVms lists live VMs started from a file, skips library VMs and dead ones', async () => {
  const base = mkdtempSync(join(tmpdir(), 'kju-file-vms-'));
  try {
    const desc = { name: 'From File', memoryMiB: 256, cpus: 2, display: 'std', disks: [] };
    // this test process stands in for a live QEMU
    fakeRuntimeDir(base, 'from-file-1', { ...desc, kjuRuntime: { accelerator: 'tcg', acceleratorNotice: 'slow', fromFile: '/x/vm.json' } }, process.pid);
    fakeRuntimeDir(base, 'library-vm', { ...desc, name: 'Lib', kjuRuntime: { accelerator: 'kvm' } }, process.pid);
    fakeRuntimeDir(base, 'dead-file', { ...desc, name: 'Dead', kjuRuntime: { accelerator: 'tcg', fromFile: '/y/vm.json' } }, 2 ** 22 + 12345);
    const probed: string[] = [];
    const vms = await runningFileVms({ base, notResponding: () => 'nr', probe: async (rt) => (probed.push(rt.dir), 'paused') });
    assert.deepEqual(
      vms.map((v) => v.summary),
      [{ id: 'file:/x/vm.json', name: 'From File', state: 'paused', displayDevice: 'std', memoryMiB: 256, cpus: 2, accelerator: 'tcg', acceleratorNotice: 'slow', fromFile: '/x/vm.json' }],
    );
    assert.equal(vms[0].runtimeDir.dir, join(base, 'from-file-1'));
    assert.deepEqual(probed, [join(base, 'from-file-1')]);

    const silent = await runningFileVms({ base, notResponding: () => 'not responding', probe: async () => 'not-responding' });
    assert.equal(silent[0].summary.state, 'running');
    assert.equal(silent[0].summary.problem, 'not responding');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('file VM ids carry the path and are told apart from library ids', () => {
  assert.equal(fileVmId('/a/b.json'), 'file:/a/b.json');
  assert.ok(isFileVmId('file:/a/b.json'));
  assert.ok(!isFileVmId('0b6f3a1e-5c1d-4c7e-9a0e-2f4f0c1d2e3f'));
});

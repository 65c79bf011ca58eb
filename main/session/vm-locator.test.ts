// locateVm: a description file gets its path-keyed runtime dir, a library VM its id-keyed one, and a
// running file VM is found by the name in its runtime dir's vm.json (no library entry needed).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Library } from '../library/library.js';
import { createVm } from '../library/vm-create.js';
import { fileVmRuntimeDir, libraryVmRuntimeDir, prepareRuntimeDir } from '../qemu/runtime-dir.js';
import { locateVm, VmNotFoundError } from './vm-locator.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-locate-'));
const saved = { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR, KJU_LIBRARY: process.env.KJU_LIBRARY };
process.env.XDG_RUNTIME_DIR = join(dir, 'run');
process.env.KJU_LIBRARY = join(dir, 'library');
test.after(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

test('a description file, a library VM, and a running file VM by name', async () => {
  const file = join(dir, 'demo.json');
  const desc = { name: 'File Demo', memoryMiB: 64, cpus: 1 };
  writeFileSync(file, JSON.stringify(desc));
  const byFile = await locateVm(file);
  assert.equal(byFile.source.kind, 'file');
  assert.deepEqual(byFile.runtimeDir, fileVmRuntimeDir(file, 'File Demo'));

  const vm = await createVm(Library.open(), { name: 'File-Demo', preset: 'linux', diskSize: null, memoryMiB: 128, cpus: 1 });
  const byName = await locateVm('file-demo');
  assert.equal(byName.source.kind, 'library');
  assert.deepEqual(byName.runtimeDir, libraryVmRuntimeDir(vm));
  assert.notEqual(byName.runtimeDir.dir, byFile.runtimeDir.dir, '"File Demo" and "File-Demo" do not share a runtime dir');

  await assert.rejects(locateVm('File Demo'), (e: unknown) => e instanceof VmNotFoundError && /no running VM is called 'File Demo'/.test(e.message));
  const rt = prepareRuntimeDir(byFile.runtimeDir); // as `kju run demo.json` leaves it while QEMU runs
  writeFileSync(rt.vmJson, JSON.stringify(desc));
  writeFileSync(rt.pidFile, `${process.pid}\n`);
  const running = await locateVm('File Demo');
  assert.equal(running.source.kind, 'runtime');
  assert.equal(running.name, 'File Demo');
  assert.deepEqual(running.runtimeDir, rt);
  rmSync(rt.pidFile);
  await assert.rejects(locateVm('File Demo'), VmNotFoundError, 'a dead one is not found');
});

test('a running VM of another library is not reached by name: the error names that library', async () => {
  const other = join(dir, 'other-library');
  const rt = prepareRuntimeDir(libraryVmRuntimeDir({ dir: join(other, 'Elsewhere.kju'), config: { id: 'other-id', name: 'Elsewhere' } }));
  // as this kju's launch leaves a library VM's runtime dir while QEMU runs
  writeFileSync(rt.vmJson, JSON.stringify({ name: 'Elsewhere', memoryMiB: 64, cpus: 1, kjuRuntime: { accelerator: 'tcg', bundle: join(other, 'Elsewhere.kju') } }));
  writeFileSync(rt.pidFile, `${process.pid}\n`);
  try {
    await assert.rejects(locateVm('Elsewhere'), (e: unknown) => {
      assert.ok(e instanceof VmNotFoundError, String(e));
      assert.match(e.message, new RegExp(`a running VM 'Elsewhere' belongs to the library ${other}`));
      assert.match(e.hint ?? '', new RegExp(`KJU_LIBRARY=${other} kju`));
      return true;
    });
  } finally {
    rmSync(rt.dir, { recursive: true, force: true });
  }
});

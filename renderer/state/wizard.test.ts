import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendArgs, BackendMethod, KjuBridge, OperationProgress, PresetInfo, Result, VmSummary } from '../../common/contract.js';
import { useWizard } from './wizard.js';
import { actionsFor, useLibrary } from './library.js';

const presets: PresetInfo[] = [
  { id: 'linux', label: 'Linux', memoryMiB: 2048, cpus: 2, displayDevice: 'virtio-vga', soundDevice: 'intel-hda', diskSize: '20G', firmware: 'bios', machine: 'q35' },
  { id: 'dos', label: 'DOS / FreeDOS', memoryMiB: 64, cpus: 1, displayDevice: 'std', soundDevice: 'sb16', diskSize: '512M', firmware: 'bios', machine: 'pc' },
];
const vm: VmSummary = { id: 'v1', name: 'New', state: 'stopped', displayDevice: 'std', memoryMiB: 64, cpus: 1 };

function fakeBridge(reply: (method: BackendMethod, args: unknown, progress: (p: OperationProgress) => void) => Result<unknown>) {
  const calls: { method: BackendMethod; args: unknown }[] = [];
  const listeners = new Set<(p: OperationProgress) => void>();
  const bridge: KjuBridge = {
    kind: 'browser',
    call: (async <M extends BackendMethod>(method: M, args: BackendArgs<M>) => {
      calls.push({ method, args });
      if (method === 'presets') return { ok: true, value: presets };
      if (method === 'hostLimits') return { ok: true, value: { cpus: 2, memoryMiB: 1024 } };
      return reply(method, args, (p) => listeners.forEach((l) => l(p)));
    }) as KjuBridge['call'],
    openDisplay: async () => ({ ok: false, code: 'no-console', message: 'x' }),
    onVmsChanged: () => () => {},
    onProgress: (cb) => (listeners.add(cb), () => void listeners.delete(cb)),
  };
  return { bridge, calls, listeners };
}

test('wizard: steps check only their fields; memory above the host is refused inline and nothing is sent', async () => {
  const { bridge, calls } = fakeBridge(() => ({ ok: true, value: vm }));
  const w = useWizard.getState();
  await w.show(bridge, ['Demo']);
  assert.equal(useWizard.getState().form?.memoryMiB, '1024', 'capped at the host');
  assert.equal(await useWizard.getState().next(bridge), false, 'an empty name stops at step 1');
  assert.match(useWizard.getState().errors.name!, /name/);
  useWizard.getState().setField('name', 'demo');
  assert.match(useWizard.getState().errors.name!, /already exists/, 're-checked while typing');
  useWizard.getState().setField('name', 'New');
  assert.equal(useWizard.getState().errors.name, undefined);
  assert.ok(await useWizard.getState().next(bridge));
  useWizard.getState().choosePreset('dos');
  assert.equal(useWizard.getState().form?.name, 'New', 'the name survives a preset change');
  assert.equal(useWizard.getState().form?.memoryMiB, '64');
  assert.ok(await useWizard.getState().next(bridge));
  useWizard.getState().setField('memoryMiB', '999999');
  assert.equal(await useWizard.getState().next(bridge), false);
  assert.match(useWizard.getState().errors.memoryMiB!, /1024 MiB/);
  assert.equal(useWizard.getState().step, 'hardware');
  // Jumping to the summary and pressing Create still refuses, back on the step with the problem.
  useWizard.getState().goTo('summary');
  assert.equal(await useWizard.getState().create(bridge), null);
  assert.equal(useWizard.getState().step, 'hardware');
  assert.ok(!calls.some((c) => c.method === 'createVm'));
});

test('wizard: create sends the form with an opId and follows its progress; a refusal keeps the wizard open with the message', async () => {
  const seen: number[] = [];
  let fail = true;
  const { bridge, calls, listeners } = fakeBridge((method, args, progress) => {
    const opId = (args as { opId: string }).opId;
    progress({ opId, percent: 40 });
    seen.push(useWizard.getState().percent ?? -1);
    progress({ opId: 'someone-else', percent: 99 });
    seen.push(useWizard.getState().percent ?? -1);
    return fail ? { ok: false, code: 'host-limit', message: 'no room' } : { ok: true, value: vm };
  });
  await useWizard.getState().show(bridge, []);
  useWizard.getState().setField('name', 'New');
  assert.equal(await useWizard.getState().create(bridge), null);
  assert.equal(useWizard.getState().failure, 'no room');
  assert.ok(useWizard.getState().open);
  fail = false;
  assert.deepEqual(await useWizard.getState().create(bridge), vm);
  assert.deepEqual(seen, [40, 40, 40, 40]);
  assert.equal(useWizard.getState().open, false);
  assert.equal(listeners.size, 0, 'progress listener removed');
  const sent = calls.filter((c) => c.method === 'createVm').map((c) => c.args as { name: string; memoryMiB: number; disk: unknown; opId: string });
  assert.equal(sent[1].name, 'New');
  assert.equal(sent[1].memoryMiB, 1024);
  assert.deepEqual(sent[1].disk, { kind: 'new', size: '20G' });
  assert.match(sent[1].opId, /^create-/);
});

test('wizard: a bidi or zero-width name stops at the name step; a missing ISO or a refused disk stops at its step, asked of the backend', async () => {
  const missing = new Set(['/home/u/gone.iso']);
  const { bridge, calls } = fakeBridge((method, args) => {
    if (method !== 'checkHostPath') return { ok: true, value: vm };
    const { path } = args as { path: string };
    if (missing.has(path)) return { ok: false, code: 'missing-file', message: `the ISO ${path} does not exist` };
    if (path.startsWith('/etc/'))
      return { ok: false, code: 'path-not-allowed', message: `the disk image ${path} is not allowed: it is outside the folders kju may use`, hint: 'Use a file in your home folder.' };
    return { ok: true, value: { path } };
  });
  await useWizard.getState().show(bridge, []);
  useWizard.getState().setField('name', 'invoice\u202eexe.pdf');
  assert.equal(await useWizard.getState().next(bridge), false);
  assert.match(useWizard.getState().errors.name!, /invisible formatting character U\+202E/);
  useWizard.getState().setField('name', 'a\u200bb');
  assert.match(useWizard.getState().errors.name!, /U\+200B/, 're-checked while typing');
  useWizard.getState().setField('name', 'Fine');
  assert.ok(await useWizard.getState().next(bridge));
  assert.ok(await useWizard.getState().next(bridge));
  assert.ok(await useWizard.getState().next(bridge));
  assert.equal(useWizard.getState().step, 'disk');
  useWizard.getState().setField('disk', 'existing');
  useWizard.getState().setField('diskPath', '/etc/shadow');
  assert.equal(await useWizard.getState().next(bridge), false);
  assert.match(useWizard.getState().errors.diskPath!, /^The disk image \/etc\/shadow is not allowed[^\n]*\nUse a file in your home folder\.$/);
  useWizard.getState().setField('diskPath', '/home/u/disk.qcow2');
  assert.equal(useWizard.getState().errors.diskPath, undefined, 'the error clears as the field changes');
  assert.ok(await useWizard.getState().next(bridge));
  useWizard.getState().setField('iso', '/home/u/gone.iso');
  assert.equal(await useWizard.getState().next(bridge), false);
  assert.equal(useWizard.getState().step, 'iso');
  assert.match(useWizard.getState().errors.iso!, /^The ISO \/home\/u\/gone\.iso does not exist$/);
  missing.clear();
  assert.ok(await useWizard.getState().next(bridge));
  assert.equal(useWizard.getState().step, 'summary');
  assert.deepEqual(
    calls.filter((c) => c.method === 'checkHostPath').map((c) => c.args),
    [
      { path: '/etc/shadow', kind: 'disk' },
      { path: '/home/u/disk.qcow2', kind: 'disk' },
      { path: '/home/u/gone.iso', kind: 'iso' },
      { path: '/home/u/gone.iso', kind: 'iso' },
    ],
  );
  assert.ok(!calls.some((c) => c.method === 'createVm'));
});

test('library actions: failures are kept per VM with the backend message; summaries replace the row', async () => {
  const { bridge } = fakeBridge((method) => (method === 'editVm' ? { ok: false, code: 'in-use', message: 'VM "New" is running; shut it down' } : { ok: true, value: { ...vm, state: 'paused' } }));
  useLibrary.setState({ vms: [vm] });
  assert.equal(await useLibrary.getState().act(bridge, 'v1', 'editVm', { id: 'v1', changes: { cpus: 2 } }), false);
  assert.match(useLibrary.getState().rowErrors.v1, /running; shut it down/);
  assert.ok(await useLibrary.getState().act(bridge, 'v1', 'pauseVm', { id: 'v1' }));
  assert.equal(useLibrary.getState().vms[0].state, 'paused');
  assert.equal(useLibrary.getState().rowErrors.v1, undefined);
  assert.deepEqual(useLibrary.getState().busy, {});
});

test('actions offered per state', () => {
  assert.ok(actionsFor('stopped').start && actionsFor('stopped').clone && actionsFor('stopped').remove && !actionsFor('stopped').pause);
  assert.ok(actionsFor('running').pause && actionsFor('running').suspend && !actionsFor('running').edit && !actionsFor('running').remove);
  assert.ok(actionsFor('paused').resume && !actionsFor('paused').pause);
  assert.ok(actionsFor('suspended').resume && !actionsFor('suspended').start && !actionsFor('suspended').snapshots);
  assert.ok(actionsFor('crashed').start && actionsFor('crashed').edit);
});

test("reset asks first, with the VM window's question; no means no call", async () => {
  const { resetAfterAsking, resetQuestion } = await import('./reset.js');
  const { bridge, calls } = fakeBridge(() => ({ ok: true, value: { ...vm, state: 'running' } }));
  const asked: string[] = [];
  assert.equal(await resetAfterAsking(bridge, vm, (q) => (asked.push(q), false)), false);
  assert.equal(calls.length, 0);
  assert.equal(await resetAfterAsking(bridge, vm, (q) => (asked.push(q), true)), true);
  assert.deepEqual(
    calls.map((c) => c.method),
    ['resetVm'],
  );
  assert.deepEqual(asked, [resetQuestion('New'), resetQuestion('New')]);
  assert.match(asked[0], /^Reset New\? .*unsaved work in the guest is lost/);
});

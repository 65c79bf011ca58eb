import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKEND_METHODS } from '../../common/contract.js';
import { checkCall, checkViewerMessage, isBackendMethod } from './arg-checks.js';

const surface = { width: 640, height: 480 };
const kind = (m: unknown) => checkViewerMessage(m, surface).kind;

test('valid viewer messages check to exactly what was sent', () => {
  const inputs = [
    { t: 'key', down: true, qnum: 0x1c },
    { t: 'key', down: false, qnum: 0x1ff },
    { t: 'button', down: true, button: 8 },
    { t: 'abs', x: 639, y: 479 },
    { t: 'rel', dx: -5, dy: 32767 },
    { t: 'releaseAll' },
    { t: 'uiInfo', width: 1920, height: 1080 },
  ];
  for (const input of inputs) assert.deepEqual(checkViewerMessage({ t: 'input', input }, surface), { kind: 'ok', value: { t: 'input', input } });
  assert.deepEqual(checkViewerMessage({ t: 'pull' }, surface), { kind: 'ok', value: { t: 'pull' } });
  assert.deepEqual(checkViewerMessage({ t: 'refresh' }, surface), { kind: 'ok', value: { t: 'refresh' } });
});

test('malformed or out-of-range viewer messages are fatal', () => {
  const bad: unknown[] = [
    null,
    [],
    42,
    'pull',
    {},
    { t: 'pull', extra: 1 },
    { t: 'frobnicate' },
    { t: 'input' },
    { t: 'input', input: null },
    { t: 'input', input: { t: 'key', down: true, qnum: 512 } },
    { t: 'input', input: { t: 'key', down: true, qnum: -1 } },
    { t: 'input', input: { t: 'key', down: true, qnum: 1.5 } },
    { t: 'input', input: { t: 'key', down: 'yes', qnum: 1 } },
    { t: 'input', input: { t: 'key', down: true, qnum: '28' } },
    { t: 'input', input: { t: 'key', down: true } },
    { t: 'input', input: { t: 'key', down: true, qnum: 1, x: 2 } },
    { t: 'input', input: { t: 'button', down: true, button: 9 } },
    { t: 'input', input: { t: 'button', down: true, button: -1 } },
    { t: 'input', input: { t: 'abs', x: -1, y: 0 } },
    { t: 'input', input: { t: 'abs', x: 1e9, y: 0 } },
    { t: 'input', input: { t: 'abs', x: 1, y: null } },
    { t: 'input', input: { t: 'rel', dx: 40000, dy: 0 } },
    { t: 'input', input: { t: 'releaseAll', all: true } },
    { t: 'input', input: { t: 'uiInfo', width: 0, height: 10 } },
    { t: 'input', input: { t: 'uiInfo', width: 99999, height: 10 } },
    { t: 'input', input: { t: 'warp' } },
    { t: 'input', input: { t: 'key', down: true, qnum: 1 }, more: 1 },
    // values a structured clone carries and JSON would have hidden
    { t: 'pull', extra: undefined },
    { t: 'input', input: { t: 'key', down: true, qnum: 1n } },
    { t: 'input', input: new Map([['t', 'key']]) },
  ];
  for (const m of bad) assert.equal(kind(m), 'fatal', String(JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))));
});

test('abs positions outside the current surface are dropped, not fatal (they race with resizes)', () => {
  assert.equal(kind({ t: 'input', input: { t: 'abs', x: 640, y: 0 } }), 'drop');
  assert.equal(kind({ t: 'input', input: { t: 'abs', x: 0, y: 480 } }), 'drop');
  assert.equal(checkViewerMessage({ t: 'input', input: { t: 'abs', x: 0, y: 0 } }, null).kind, 'drop');
});

test('calls: the contract methods with good args pass; unknown methods and bad args are failures with their codes', () => {
  assert.deepEqual(checkCall('listVms', {}), { ok: true, call: { method: 'listVms', args: {} } });
  assert.deepEqual(checkCall('listVms', undefined), { ok: true, call: { method: 'listVms', args: {} } });
  assert.deepEqual(checkCall('stopVm', { id: 'x', force: true }), { ok: true, call: { method: 'stopVm', args: { id: 'x', force: true } } });
  const unknown = checkCall('rmRf', {});
  assert.equal(!unknown.ok && unknown.code, 'unknown-method');
  for (const args of [{ id: 5 }, {}, { id: '' }, { id: 'x', force: 'yes' }, [], 'x', null]) {
    const r = checkCall('stopVm', args);
    assert.equal(!r.ok && r.code, 'bad-args', JSON.stringify(args));
  }
  for (const m of ['toString', '__proto__', 'constructor', 7, undefined]) assert.equal(!checkCall(m, {}).ok && (checkCall(m, {}) as { code: string }).code, 'unknown-method', String(m));
  for (const m of BACKEND_METHODS) assert.ok(isBackendMethod(m), m);
});

test('the display device travels as displayDevice: a known device passes, an unknown one or the old key `display` is bad-args', () => {
  const create = { name: 'A', preset: 'linux', memoryMiB: 512, cpus: 1, disk: { kind: 'none' } };
  assert.equal(checkCall('createVm', { ...create, displayDevice: 'std' }).ok, true);
  assert.equal(checkCall('editVm', { id: 'a', changes: { displayDevice: 'qxl' } }).ok, true);
  for (const [method, args] of [
    ['createVm', { ...create, displayDevice: 'vmware' }],
    ['createVm', { ...create, display: 'std' }],
    ['editVm', { id: 'a', changes: { displayDevice: 'vmware' } }],
    ['editVm', { id: 'a', changes: { display: 'std' } }],
  ] as const) {
    const r = checkCall(method, args);
    assert.equal(!r.ok && r.code, 'bad-args', JSON.stringify(args));
  }
});

test('the sound device travels as soundDevice: a known card or none passes, an unknown one is bad-args', () => {
  const create = { name: 'A', preset: 'linux', memoryMiB: 512, cpus: 1, disk: { kind: 'none' } };
  assert.equal(checkCall('createVm', { ...create, soundDevice: 'sb16' }).ok, true);
  assert.equal(checkCall('editVm', { id: 'a', changes: { soundDevice: 'none' } }).ok, true);
  for (const [method, args] of [
    ['createVm', { ...create, soundDevice: 'gus' }],
    ['editVm', { id: 'a', changes: { soundDevice: 7 } }],
    ['editVm', { id: 'a', changes: { sound: 'ac97' } }],
  ] as const) {
    const r = checkCall(method, args);
    assert.equal(!r.ok && r.code, 'bad-args', JSON.stringify(args));
  }
});

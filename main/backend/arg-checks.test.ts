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
  assert.equal(checkCall('editVm', { id: 'a', changes: { clipboard: false } }).ok, true);
  assert.equal(checkCall('createVm', { ...create, clipboard: true }).ok, true);
  for (const [method, args] of [
    ['createVm', { ...create, displayDevice: 'vmware' }],
    ['createVm', { ...create, display: 'std' }],
    ['editVm', { id: 'a', changes: { displayDevice: 'vmware' } }],
    ['editVm', { id: 'a', changes: { display: 'std' } }],
    ['editVm', { id: 'a', changes: { clipboard: 'yes' } }],
    ['createVm', { ...create, clipboard: 1 }],
  ] as const) {
    const r = checkCall(method, args);
    assert.equal(!r.ok && r.code, 'bad-args', JSON.stringify(args));
  }
});

test('displays (heads) is a whole number 1..4 on create and edit', () => {
  const create = { name: 'A', preset: 'linux', memoryMiB: 512, cpus: 1, disk: { kind: 'none' } };
  assert.equal(checkCall('createVm', { ...create, displays: 2 }).ok, true);
  assert.equal(checkCall('editVm', { id: 'a', changes: { displays: 4 } }).ok, true);
  for (const [method, args] of [
    ['createVm', { ...create, displays: 0 }],
    ['createVm', { ...create, displays: 5 }],
    ['editVm', { id: 'a', changes: { displays: 1.5 } }],
    ['editVm', { id: 'a', changes: { displays: '2' } }],
  ] as const) {
    const r = checkCall(method, args);
    assert.equal(!r.ok && r.code, 'bad-args', JSON.stringify(args));
  }
});

test('shares, forwards and USB devices: well-formed values pass, anything else is bad-args', () => {
  const create = { name: 'A', preset: 'linux', memoryMiB: 512, cpus: 1, disk: { kind: 'none' } };
  const share = { path: '/home/u/Shared', readOnly: true };
  const fwd = { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 };
  const good: [string, unknown][] = [
    ['createVm', { ...create, shares: [share], forwards: [fwd, { ...fwd, proto: 'udp', hostAddr: '0.0.0.0' }] }],
    ['editVm', { id: 'a', changes: { shares: [], forwards: [] } }],
    ['listForwards', { id: 'a' }],
    ['addForward', { id: 'a', forward: fwd }],
    ['removeForward', { id: 'a', forward: { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080 } }],
    ['listHostUsb', {}],
    ['attachedUsb', { id: 'a' }],
    ['attachUsb', { id: 'a', device: '046d:c52b' }],
    ['detachUsb', { id: 'a', device: '3-1.4' }],
  ];
  for (const [m, args] of good) assert.equal(checkCall(m, args).ok, true, `${m} ${JSON.stringify(args)}`);
  const bad: [string, unknown][] = [
    ['createVm', { ...create, shares: [{ path: '', readOnly: false }] }],
    ['createVm', { ...create, shares: [{ path: '/x' }] }],
    ['createVm', { ...create, shares: share }],
    ['editVm', { id: 'a', changes: { shares: [{ ...share, tag: 'x' }] } }],
    ['editVm', { id: 'a', changes: { shares: Array.from({ length: 65 }, () => share) } }],
    ['editVm', { id: 'a', changes: { forwards: [{ ...fwd, hostPort: 0 }] } }],
    ['addForward', { id: 'a', forward: { ...fwd, hostPort: 65536 } }],
    ['addForward', { id: 'a', forward: { ...fwd, guestPort: 1.5 } }],
    ['addForward', { id: 'a', forward: { ...fwd, proto: 'sctp' } }],
    ['addForward', { id: 'a', forward: { ...fwd, hostAddr: 'localhost' } }],
    ['addForward', { id: 'a', forward: { ...fwd, hostAddr: '256.0.0.1' } }],
    ['addForward', { id: 'a', forward: { ...fwd, hostAddr: '127.0.0.1,guestfwd=x' } }],
    ['removeForward', { id: 'a', forward: fwd }],
    ['listHostUsb', { id: 'a' }],
    ['attachUsb', { id: 'a', device: 'usb-host,hostbus=1' }],
    ['attachUsb', { id: 'a', device: '46d:c52b' }],
    ['detachUsb', { id: 'a' }],
  ];
  for (const [m, args] of bad) {
    const r = checkCall(m, args);
    assert.equal(!r.ok && r.code, 'bad-args', `${m} ${JSON.stringify(args)}`);
  }
});

test('tpm and secureBoot travel as booleans in createVm and editVm; anything else is bad-args', () => {
  const create = { name: 'A', preset: 'linux', memoryMiB: 512, cpus: 1, disk: { kind: 'none' } };
  assert.equal(checkCall('editVm', { id: 'a', changes: { tpm: true, secureBoot: false } }).ok, true);
  assert.equal(checkCall('createVm', { ...create, tpm: false, secureBoot: true }).ok, true);
  for (const [method, args] of [
    ['editVm', { id: 'a', changes: { tpm: 'yes' } }],
    ['editVm', { id: 'a', changes: { secureBoot: 1 } }],
    ['createVm', { ...create, tpm: 'on' }],
  ] as const) {
    const r = checkCall(method, args);
    assert.equal(r.ok, false, `${method} ${JSON.stringify(args)}`);
    if (!r.ok) assert.equal(r.code, 'bad-args');
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayOverlay, type OverlayInputs } from './display-overlay.js';

const running: OverlayInputs = { vm: { name: 'Deb', state: 'running' }, phase: 'open', hasSurface: false, disabled: false };
const kind = (i: Partial<OverlayInputs>) => displayOverlay({ ...running, ...i })?.kind ?? null;

test('a VM on its way up: starting QEMU, connecting, waiting for the first surface, then nothing', () => {
  assert.deepEqual(displayOverlay({ ...running, vm: { name: 'Deb', state: 'starting' }, phase: 'idle' }), { kind: 'starting', title: 'Starting QEMU…' });
  assert.equal(kind({ phase: 'connecting' }), 'connecting');
  assert.deepEqual(displayOverlay(running), { kind: 'waiting', title: "Waiting for the guest's display…" });
  assert.equal(kind({ hasSurface: true }), null);
});

test('guest display off, with the reason when known', () => {
  assert.deepEqual(displayOverlay({ ...running, hasSurface: true, disabled: true }), { kind: 'off', title: 'Guest display off', reason: 'the guest turned its display off' });
  assert.deepEqual(displayOverlay({ ...running, hasSurface: true, phase: 'closed', message: 'QEMU exited' }), { kind: 'off', title: 'Guest display off', reason: 'QEMU exited' });
  assert.equal(displayOverlay({ ...running, vm: { name: 'Deb', state: 'paused' } })?.reason, 'Deb is paused');
  assert.equal(kind({ vm: { name: 'Deb', state: 'paused' }, hasSurface: true }), null, 'a paused VM keeps its last screen');
  assert.equal(displayOverlay({ ...running, vm: { name: 'Deb', state: 'stopped' } })?.reason, 'Deb is stopped');
  assert.equal(displayOverlay({ ...running, vm: { name: 'Deb', state: 'crashed', problem: 'qemu: bad disk\nmore log' } })?.reason, 'Deb crashed: qemu: bad disk');
  assert.equal(displayOverlay({ ...running, vm: { name: 'Deb', state: 'suspended' } })?.kind, 'off');
});

test('a display that could not be opened says why', () => {
  assert.deepEqual(displayOverlay({ ...running, phase: 'failed', message: 'VM Deb is not running' }), { kind: 'error', title: "Cannot show the guest's display", reason: 'VM Deb is not running' });
});

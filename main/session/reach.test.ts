// reachVm's three roads without QEMU: a VM owned by this process (direct calls), one owned by
// another (a fake owner on kju.sock), and one with no QEMU at all; peekRunState asks the owner.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { prepareRuntimeDir, runtimeDirAt } from '../qemu/runtime-dir.js';
import type { OwnerApi } from './owner-protocol.js';
import { startOwnerServer } from './owner-server.js';
import { ownsVm, ownVm, peekRunState, reachVm, withVm } from './reach.js';
import { VmNotRunningError } from './session-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-reach-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function fakeOwner(tag: string, calls: string[]): OwnerApi {
  return {
    status: async () => ({ name: tag, pid: 1, ownerPid: process.pid, surface: null }),
    screenshot: async ({ path }) => ({ path, width: 1, height: 1, head: 0 }),
    resize: async ({ width, height }) => ({ head: 0, requested: { width, height }, clamped: null, surface: null }),
    type: async ({ text }) => (calls.push(`${tag} type ${text}`), { keys: text.length }),
    key: async () => ({ keys: 1 }),
    stop: async () => ({ stopped: true }),
    lifecycle: async (p) => (calls.push(`${tag} ${p.op}`), { status: 'paused', state: 'paused' }),
    forward: async () => ({ forwards: [] }),
    usb: async () => ({ attached: [] }),
    clipboard: async () => ({ text: null }),
  };
}

test("'self': a VM this process owns is called directly, and no longer once disowned", async () => {
  const rt = prepareRuntimeDir(runtimeDirAt(join(dir, 'self')));
  const calls: string[] = [];
  const disown = ownVm(rt, fakeOwner('mine', calls));
  assert.ok(ownsVm(rt));
  const r = await reachVm({ name: 'mine', runtimeDir: rt });
  assert.equal(r.via, 'self');
  assert.deepEqual(await r.api.type({ text: 'ab' }), { keys: 2 });
  assert.equal(await peekRunState(rt), 'paused');
  assert.deepEqual(calls, ['mine type ab', 'mine query']);
  disown();
  assert.ok(!ownsVm(rt));
  await assert.rejects(reachVm({ name: 'mine', runtimeDir: rt }), VmNotRunningError);
});

test("'owner': a VM another process owns is reached over its kju.sock, with every method", async (t) => {
  const rt = prepareRuntimeDir(runtimeDirAt(join(dir, 'other')));
  const calls: string[] = [];
  const server = await startOwnerServer(rt.ownerSocket, fakeOwner('theirs', calls));
  t.after(() => server.close());
  const via = await withVm({ name: 'theirs', runtimeDir: rt }, async (api, how) => {
    assert.deepEqual(await api.type({ text: 'xyz' }), { keys: 3 });
    assert.deepEqual(await api.lifecycle({ op: 'pause' }), { status: 'paused', state: 'paused' });
    assert.equal((await api.status({})).name, 'theirs');
    return how;
  });
  assert.equal(via, 'owner');
  assert.equal(await peekRunState(rt), 'paused');
  assert.deepEqual(calls, ['theirs type xyz', 'theirs pause', 'theirs query']);
});

test('no owner and no live QEMU: VmNotRunningError that says how to start it', async () => {
  const rt = prepareRuntimeDir(runtimeDirAt(join(dir, 'none')));
  await assert.rejects(reachVm({ name: 'gone', runtimeDir: rt }), (e: unknown) => e instanceof VmNotRunningError && /kju start gone/.test(e.message));
  writeFileSync(rt.pidFile, '999999999\n'); // no such process
  await assert.rejects(reachVm({ name: 'gone', runtimeDir: rt }), VmNotRunningError);
});

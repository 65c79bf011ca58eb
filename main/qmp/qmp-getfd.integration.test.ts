// Integration (real QEMU, TCG): fd passing over QMP with the native addon's FdSocket.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { closeFd, FdSocket, socketpair } from '../../native/index.js';
import { bootDemoGuest } from '../testing/guest.js';
import { QmpClient, QmpError, QmpFdPassingError } from './qmp-client.js';

test('integration: getfd passes a socketpair end to QEMU; closefd releases it', async (t) => {
  const g = await bootDemoGuest({ waitForPrompt: false });
  t.after(() => g.stop());
  assert.ok(g.qmp.canPassFds, "connect() picked the addon's FdSocket");
  const [ours, theirs] = socketpair();
  t.after(() => closeFd(ours));
  try {
    assert.deepEqual(await g.qmp.executeWithFd('getfd', { fdname: 'kju-test' }, theirs), {});
  } finally {
    closeFd(theirs); // QEMU holds its own copy now
  }
  // closefd of a name QEMU no longer holds is QEMU's error.
  assert.deepEqual(await g.qmp.execute('closefd', { fdname: 'kju-test' }), {});
  await assert.rejects(g.qmp.execute('closefd', { fdname: 'kju-test' }), (e: unknown) => {
    assert.ok(e instanceof QmpError);
    assert.equal(e.errorClass, 'GenericError');
    assert.match(e.desc, /kju-test/);
    return true;
  });
  // Without an fd attached, getfd is refused by QEMU: proves the fd really travelled above.
  await assert.rejects(g.qmp.execute('getfd', { fdname: 'nofd' }), (e: unknown) => e instanceof QmpError && /No file descriptor/i.test(e.desc));
  assert.deepEqual(await g.qmp.execute('query-status'), { status: 'running', running: true });
});

test('integration: over a plain net.Socket, executeWithFd fails clearly', async (t) => {
  const g = await bootDemoGuest({ waitForPrompt: false });
  t.after(() => g.stop());
  // The monitor serves one client at a time: hand it over from the helper's client to ours.
  g.qmp.close();
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.createConnection({ path: g.qemu.runtimeDir.qmpSocket }, () => resolve(s));
    s.once('error', reject);
  });
  const qmp = await QmpClient.open(socket);
  t.after(() => qmp.close());
  assert.equal(qmp.canPassFds, false);
  await assert.rejects(qmp.executeWithFd('getfd', { fdname: 'x' }, 0), QmpFdPassingError);
  assert.equal((await qmp.execute('query-status')).status, 'running');
});

test('FdSocket satisfies QmpStream', () => {
  const [a, b] = socketpair();
  const s = new FdSocket(a);
  const client: Parameters<typeof QmpClient.open>[0] = s;
  assert.equal(typeof client.writeWithFds, 'function');
  s.destroy();
  closeFd(b);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { whileRefused } from './start-vm.js';

/** A socket file that is bound but never listened on: what QEMU's qmp.sock is between bind() and listen(). */
function boundNotListening(path: string): void {
  const r = spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('whileRefused retries a refused connect until the socket listens, and gives up when QEMU is gone or on other errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kju-refused-'));
  const path = join(dir, 'qmp.sock');
  const server = createServer((c) => c.end());
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const dial = () =>
    new Promise<void>((resolve, reject) => {
      const s = connect(path, () => (s.destroy(), resolve()));
      s.once('error', (err) => reject(Object.assign(new Error(`cannot connect: ${err.message}`), { cause: err })));
    });
  boundNotListening(path);
  await assert.rejects(dial(), /ECONNREFUSED/);
  let tries = 0;
  await assert.rejects(
    whileRefused(
      () => (tries++, dial()),
      () => false,
    ),
    /ECONNREFUSED/,
    'QEMU gone: no retry',
  );
  assert.equal(tries, 1);
  // the socket listens 200 ms later: the retries get through
  setTimeout(() => (rmSync(path, { force: true }), server.listen(path)), 200);
  tries = 0;
  const t0 = Date.now();
  await whileRefused(
    () => (tries++, dial()),
    () => true,
  );
  assert.ok(tries > 1 && Date.now() - t0 >= 150, `retried ${tries} times over ${Date.now() - t0} ms`);
  // other errors are not retried
  tries = 0;
  await assert.rejects(
    whileRefused(
      async () => (tries++, Promise.reject(new Error('boom'))),
      () => true,
    ),
    /boom/,
  );
  assert.equal(tries, 1);
  // nor is a refusal past the deadline
  rmSync(path, { force: true });
  server.close();
  boundNotListening(path);
  await assert.rejects(
    whileRefused(dial, () => true, 100),
    /ECONNREFUSED/,
  );
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, openSync, writeSync } from 'node:fs';
import { it } from 'node:test';
import { Worker } from 'node:worker_threads';

import { FdSocket, closeFd, memfdCreate, socketpair } from './index.js';
import { fdTarget, fileBytes, mapsOf } from './test-fixtures/proc.js';

it('works in a worker_thread, and terminating the worker restores its mapping and closes its fds', async (t) => {
  const name = 'kju-worker-map';
  const offset = 8192;
  const length = 300_000;
  const memfd = memfdCreate(name, offset + length);
  const pattern = new Uint8Array(length).map((_, i) => ((i * 17) % 253) + 1);
  const rw = openSync(`/proc/self/fd/${memfd}`, 'r+');
  writeSync(rw, pattern, 0, length, offset);
  closeSync(rw);

  const [mine, theirs] = socketpair();
  const theirsTarget = fdTarget(theirs);
  const worker = new Worker(new URL('./test-fixtures/tsx-worker.mjs', import.meta.url), {
    workerData: { entry: new URL('./test-fixtures/map-worker.ts', import.meta.url).href, memfd, offset, length, sockFd: theirs },
  });
  t.after(() => worker.terminate()); // a failed assertion must not leave the worker keeping the process alive
  const exited = once(worker, 'exit');
  const [msg] = (await once(worker, 'message')) as [{ mode: string; buffer: SharedArrayBuffer; byteOffset: number }];
  assert.equal(msg.mode, 'shared');
  const view = new Uint8Array(msg.buffer, msg.byteOffset, length);
  assert.ok(Buffer.from(view).equals(Buffer.from(pattern)), 'main thread sees the file through the worker’s mapping');
  assert.equal(mapsOf(name).length, 1, 'one mapping (the worker’s)');

  // the worker's FdSocket polls on the worker's own loop
  const sock = new FdSocket(mine);
  t.after(() => sock.destroy());
  sock.write('ping');
  const [echo] = (await once(sock, 'data')) as [Buffer];
  assert.equal(echo.toString(), 'PING');
  const ended = once(sock, 'end');

  await worker.terminate();
  await exited;
  assert.deepEqual(mapsOf(name), [], 'the cleanup hook unmapped the memfd');
  assert.ok(
    view.every((b) => b === 0),
    'the SAB interior is anonymous memory again',
  );
  assert.ok(fileBytes(memfd).subarray(offset).equals(Buffer.from(pattern)), 'the file still holds its data');
  await ended; // the worker's socket end was closed by the cleanup hook
  assert.notEqual(fdTarget(theirs), theirsTarget);
  sock.destroy();
  closeFd(memfd);
});

it('terminating a worker in the middle of socket traffic neither crashes nor leaks its fd', async () => {
  const name = 'kju-worker-busy';
  const memfd = memfdCreate(name, 4096);
  for (let round = 0; round < 3; round++) {
    const [mine, theirs] = socketpair();
    const theirsTarget = fdTarget(theirs);
    const worker = new Worker(new URL('./test-fixtures/tsx-worker.mjs', import.meta.url), {
      workerData: { entry: new URL('./test-fixtures/map-worker.ts', import.meta.url).href, memfd, offset: 0, length: 4096, sockFd: theirs },
    });
    const exited = once(worker, 'exit');
    await once(worker, 'message');
    const sock = new FdSocket(mine);
    sock.on('error', () => {}); // EPIPE/ECONNRESET are expected when the far end vanishes
    sock.on('data', () => {});
    const flood = setInterval(() => sock.write('x'.repeat(4096)), 0);
    await new Promise((r) => setTimeout(r, 30 + round * 20));
    await worker.terminate();
    await exited;
    clearInterval(flood);
    assert.notEqual(fdTarget(theirs), theirsTarget, 'the worker’s socket fd is closed');
    assert.deepEqual(mapsOf(name), []);
    sock.destroy();
    if (!sock.closed) await once(sock, 'close');
  }
  closeFd(memfd);
});

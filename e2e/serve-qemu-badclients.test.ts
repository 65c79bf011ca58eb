// Bad clients against kju serve with a real guest: a socket without the token is refused; viewers
// of the real display that send garbage (bad JSON, binary, oversize) are closed, while the page
// (the real React app) sharing that display keeps showing exactly what QEMU shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { serveProtocols } from '../common/serve-auth.js';
import { openVmPage, sameImage, settledViews, startRealServe, until, VM_ID, type RealServe } from './helpers/real-serve.js';

let rs: RealServe;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  rs = await startRealServe({ displayDevice: 'virtio-vga', name: 'kju-serve-bad' });
  page = await openVmPage(rs, { errors: pageErrors });
});
after(async () => {
  await rs?.stop();
});

function refusedStatus(url: string, protocols: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { origin: rs.serve.origin });
    ws.on('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`${url} opened`));
    });
    ws.on('error', reject);
  });
}

/** A viewer of the real display that sends `payload` after its first message; resolves with how it was closed. */
function garbageViewer(payload: string | Buffer): Promise<{ firstMessage: string; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${rs.serve.port}/ws/display?vm=${VM_ID}&console=0`, serveProtocols(rs.serve.token), { origin: rs.serve.origin });
    let firstMessage = '';
    ws.on('message', (data, isBinary) => {
      if (firstMessage) return;
      firstMessage = isBinary ? 'binary' : (JSON.parse(data.toString()) as { t: string }).t;
      ws.send(payload);
    });
    ws.on('close', (code) => resolve({ firstMessage, code }));
    ws.on('error', reject);
  });
}

test('no token: refused; garbage viewers of the real display are closed; the page keeps matching QEMU', async () => {
  const before = await settledViews(rs, page);
  assert.equal(await refusedStatus(`ws://127.0.0.1:${rs.serve.port}/ws/display?vm=${VM_ID}`), 401);
  assert.equal(await refusedStatus(`ws://127.0.0.1:${rs.serve.port}/ws/backend`, serveProtocols(`wrong${rs.serve.token.slice(5)}`)), 401);

  const violations0 = rs.serve.stats().protocolViolations;
  const results = await Promise.all([
    garbageViewer('{"t":"pull"'),
    garbageViewer(Buffer.from([0xde, 0xad, 0xbe, 0xef])),
    garbageViewer(JSON.stringify({ t: 'input', input: { t: 'key', qnum: 'x', down: true } })),
    garbageViewer(`{"t":"pull","pad":"${'x'.repeat(8192)}"}`),
  ]);
  assert.deepEqual(
    results.map((r) => r.firstMessage),
    ['surface', 'surface', 'surface', 'surface'],
    'each garbage client was first a viewer of the real display',
  );
  assert.deepEqual(
    results.map((r) => r.code),
    [1008, 1003, 1008, 1009],
  );
  assert.equal(rs.serve.stats().protocolViolations, violations0 + 4);
  await until('only the page to remain a viewer', () => rs.serve.stats().displayViewers === 1, 5000);

  // The page still follows the guest.
  const tag = randomBytes(4).toString('hex');
  await rs.guest.serial.run(`echo after-garbage-${tag} > /dev/tty1`);
  const after = await settledViews(rs, page);
  assert.ok(!sameImage(before.dump, after.dump), 'the guest screen changed');
  assert.equal(rs.guest.qemu.running, true);
  console.log(`# closed 4 garbage viewers (${results.map((r) => r.code).join(', ')}); the page matched QEMU again after ${after.tries} comparison(s); serve log: ${rs.log.length} lines`);
  assert.deepEqual(pageErrors, []);
});

// Unit: the escape byte cuts input (and never reaches the guest); a client on a unix socket server
// is seen through /proc/net/unix; a relay ends on the escape, on input's end and on the port closing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { cutAtEscape, relaySerial, socketHasClient } from './serial-attach.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-serial-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('cutAtEscape: bytes before Ctrl+] pass, the rest is dropped', () => {
  assert.deepEqual(cutAtEscape(Buffer.from('ls\r')), { pass: Buffer.from('ls\r'), escaped: false });
  assert.deepEqual(cutAtEscape(Buffer.from('ab\x1dcd')), { pass: Buffer.from('ab'), escaped: true });
  assert.deepEqual(cutAtEscape(Buffer.from('\x1d')), { pass: Buffer.alloc(0), escaped: true });
});

async function server(name: string): Promise<{ path: string; accepted: Promise<Socket>; close(): void }> {
  const path = join(dir, name);
  let accept: (s: Socket) => void = () => {};
  const accepted = new Promise<Socket>((r) => (accept = r));
  const srv = createServer(accept);
  await new Promise<void>((r) => srv.listen(path, r));
  return { path, accepted, close: () => srv.close() };
}

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; !ok(); i++) {
    if (i > 200) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const connected = (path: string) =>
  new Promise<Socket>((resolve, reject) =>
    connect(path)
      .once('connect', function (this: Socket) {
        resolve(this);
      })
      .once('error', reject),
  );

test('socketHasClient: false with only the listener, true once a client is connected', { skip: process.platform !== 'linux' }, async () => {
  const srv = await server('a.sock');
  assert.equal(socketHasClient(srv.path), false);
  const c = await connected(srv.path);
  const accepted = await srv.accepted;
  assert.equal(socketHasClient(srv.path), true);
  c.destroy();
  accepted.destroy();
  srv.close();
});

test('relaySerial: input reaches the port up to the escape, the port reaches output; escape detaches', async () => {
  const srv = await server('b.sock');
  const sock = await connected(srv.path);
  const guest = await srv.accepted;
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.setEncoding('utf8').on('data', (d: string) => (shown += d));
  let typed = '';
  guest.setEncoding('utf8').on('data', (d: string) => (typed += d));
  const a = relaySerial(sock, input, output);
  guest.write('login: ');
  await until(() => shown === 'login: ');
  input.write('root\r');
  input.write('x\x1dnot this');
  assert.equal(await a.ended, 'detached');
  await until(() => sock.destroyed);
  await until(() => typed === 'root\rx');
  guest.destroy();
  srv.close();
});

test('relaySerial: the port closing ends it as closed', async () => {
  const srv = await server('c.sock');
  const sock = await connected(srv.path);
  const guest = await srv.accepted;
  const a = relaySerial(sock, new PassThrough(), new PassThrough());
  guest.destroy();
  assert.equal(await a.ended, 'closed');
  srv.close();
  sock.destroy();
});

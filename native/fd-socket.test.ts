import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { FdSocket, NativeError, closeFd, connectUnix, memfdCreate, socketpair } from './index.js';
import { fdTarget } from './test-fixtures/proc.js';

/** Message i: [u32 i][u32 len] then len bytes of (i + k) & 0xff. */
function message(i: number, len: number): Buffer {
  const b = Buffer.alloc(8 + len);
  b.writeUInt32LE(i, 0);
  b.writeUInt32LE(len, 4);
  for (let k = 0; k < len; k++) b[8 + k] = (i + k) & 0xff;
  return b;
}

interface Received {
  bytes: Buffer;
  /** fds with the stream offset range [start, end) of the chunk they arrived with */
  fdEvents: { fds: number[]; start: number; end: number }[];
}

function collect(sock: FdSocket): Promise<Received> {
  const chunks: Buffer[] = [];
  const fdEvents: Received['fdEvents'] = [];
  let offset = 0;
  let pendingFds: number[] | null = null;
  sock.on('fds', (fds: number[]) => {
    assert.equal(pendingFds, null, "two 'fds' events without data in between");
    pendingFds = fds;
  });
  sock.on('data', (chunk: Buffer) => {
    if (pendingFds) fdEvents.push({ fds: pendingFds, start: offset, end: offset + chunk.length });
    pendingFds = null;
    chunks.push(chunk);
    offset += chunk.length;
  });
  return once(sock, 'end').then(() => ({ bytes: Buffer.concat(chunks), fdEvents }));
}

function closed(sock: FdSocket): Promise<unknown> {
  return sock.closed ? Promise.resolve() : once(sock, 'close');
}

describe('FdSocket', () => {
  it('delivers interleaved writes and writeWithFds in order, fds with the chunk that carried them', async () => {
    const [a, b] = socketpair();
    const tx = new FdSocket(a);
    const rx = new FdSocket(b);
    const got = collect(rx);
    tx.resume(); // tx sees rx's EOF and closes
    const sent: Buffer[] = [];
    const starts: number[] = [];
    const withFds = new Map<number, string[]>(); // message index -> memfd names it carried
    let at = 0;
    for (let i = 0; i < 300; i++) {
      const m = message(i, (i * 977) % 5000);
      sent.push(m);
      starts.push(at);
      at += m.length;
      if (i % 7 === 3) {
        const names = Array.from({ length: 1 + (i % 3) }, (_, k) => `kju-frame-${i}-${k}`);
        const fds = names.map((n) => memfdCreate(n, 1));
        tx.writeWithFds(m, fds);
        for (const fd of fds) closeFd(fd); // the socket dup'ed them: closing ours at once is allowed
        withFds.set(i, names);
      } else {
        tx.write(m);
      }
    }
    tx.end();
    const { bytes, fdEvents } = await got;
    assert.equal(bytes.length, at);
    assert.ok(bytes.equals(Buffer.concat(sent)), 'byte stream differs');
    assert.equal(fdEvents.length, withFds.size);
    const indices = [...withFds.keys()];
    fdEvents.forEach((ev, k) => {
      const i = indices[k]!;
      const names = ev.fds.map((fd) => fdTarget(fd));
      assert.deepEqual(
        names,
        withFds.get(i)!.map((n) => `/memfd:${n} (deleted)`),
        `fds of message ${i}`,
      );
      assert.ok(ev.start <= starts[i]! && starts[i]! < ev.end, `message ${i} starts inside the chunk its fds came with`);
      rx.closeFds(ev.fds);
      for (const fd of ev.fds) assert.equal(fdTarget(fd), null);
    });
    await Promise.all([closed(tx), closed(rx)]);
  });

  it('keeps order under backpressure (EAGAIN, partial sends) while the reader is paused', async () => {
    const [a, b] = socketpair();
    const tx = new FdSocket(a);
    const rx = new FdSocket(b);
    const sent: Buffer[] = [];
    let fdMessages = 0;
    let sawBackpressure = false;
    for (let i = 0; i < 150; i++) {
      const m = message(i, 60_000);
      sent.push(m);
      let ok: boolean;
      if (i % 10 === 0) {
        const fd = memfdCreate(`kju-bp-${i}`, 1);
        ok = tx.writeWithFds(m, [fd]);
        closeFd(fd);
        fdMessages++;
      } else ok = tx.write(m);
      if (!ok) sawBackpressure = true;
    }
    tx.end();
    tx.resume();
    assert.ok(sawBackpressure, 'expected write() to report backpressure');
    await new Promise((r) => setTimeout(r, 100)); // the kernel buffer fills; tx must queue and poll for writable
    assert.ok(tx.writableLength > 0, 'the kernel should have refused part of 9 MB (EAGAIN)');
    const got = collect(rx);
    const { bytes, fdEvents } = await got;
    assert.ok(bytes.equals(Buffer.concat(sent)));
    assert.equal(fdEvents.length, fdMessages);
    for (const ev of fdEvents) rx.closeFds(ev.fds);
    await Promise.all([closed(tx), closed(rx)]);
  });

  it('EOF ends the stream and closes the fd; destroy() closes the fd', async () => {
    const [a, b] = socketpair();
    const before = fdTarget(b);
    assert.match(before ?? '', /^socket:/);
    const rx = new FdSocket(b);
    rx.resume();
    closeFd(a); // peer goes away -> EOF
    await once(rx, 'end');
    await closed(rx);
    assert.notEqual(fdTarget(b), before, 'fd still open after EOF');

    const [c, d] = socketpair();
    const cTarget = fdTarget(c);
    const s = new FdSocket(c);
    s.destroy();
    await closed(s);
    assert.notEqual(fdTarget(c), cTarget, 'fd still open after destroy');
    assert.equal(
      s.write(Buffer.from('x'), () => {}),
      false,
    );
    closeFd(d);
  });

  it('destroy() closes dup’ed fds that were queued but never sent', async () => {
    const [a, b] = socketpair();
    const tx = new FdSocket(a);
    tx.cork(); // keeps the fd-carrying chunk in the queue
    const fd = memfdCreate('kju-unsent', 1);
    tx.writeWithFds(Buffer.from('hello'), [fd]);
    closeFd(fd);
    const name = '/memfd:kju-unsent (deleted)';
    const open = () => fdTargets().filter((t) => t === name).length;
    assert.equal(open(), 1, 'the queued dup exists');
    tx.destroy();
    await closed(tx);
    assert.equal(open(), 0, 'the queued dup was closed');
    closeFd(b);
  });

  it('holds fds that arrive before any fds listener, hands them to the first one, closes leftovers on destroy', async () => {
    const [a, b] = socketpair();
    const tx = new FdSocket(a);
    const rx = new FdSocket(b);
    const early = memfdCreate('kju-early', 1);
    tx.writeWithFds(Buffer.from('one'), [early]);
    closeFd(early);
    const [chunk] = (await once(rx, 'data')) as [Buffer];
    assert.equal(chunk.toString(), 'one');
    rx.pause();
    const [fds] = (await once(rx, 'fds')) as [number[]];
    assert.deepEqual(fds.map(fdTarget), ['/memfd:kju-early (deleted)']);
    rx.closeFds(fds);

    rx.removeAllListeners('fds');
    const late = memfdCreate('kju-unclaimed', 1);
    tx.writeWithFds(Buffer.from('two'), [late]);
    closeFd(late);
    rx.resume();
    await once(rx, 'data');
    const name = '/memfd:kju-unclaimed (deleted)';
    assert.equal(fdTargets().filter((t) => t === name).length, 1);
    rx.destroy();
    tx.destroy();
    await Promise.all([closed(tx), closed(rx)]);
    assert.equal(fdTargets().filter((t) => t === name).length, 0, 'unclaimed fd closed on destroy');
  });

  it('reports peer errors as NativeError (EPIPE on write after the peer closed)', async () => {
    const [a, b] = socketpair();
    const tx = new FdSocket(a);
    closeFd(b);
    tx.write(Buffer.alloc(10));
    const [err] = (await once(tx, 'error')) as [NativeError];
    assert.ok(err instanceof NativeError);
    assert.equal(err.errnoName, 'EPIPE');
    assert.equal(err.syscall, 'sendmsg');
  });

  it('connectUnix talks to a Node net server and names failures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kju-native-'));
    try {
      const path = join(dir, 's.sock');
      const server = createServer((peer: Socket) => peer.pipe(peer)); // echo
      server.listen(path);
      await once(server, 'listening');
      const sock = new FdSocket(connectUnix(path));
      sock.write('ping over unix');
      const [echo] = (await once(sock, 'data')) as [Buffer];
      assert.equal(echo.toString(), 'ping over unix');
      sock.destroy();
      server.close();

      assert.throws(() => connectUnix(join(dir, 'missing.sock')), { name: 'NativeError', errnoName: 'ENOENT', syscall: 'connect' });
      // a socket file whose listener died without unlinking it
      const stale = join(dir, 'stale.sock');
      spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
      assert.throws(() => connectUnix(stale), { errnoName: 'ECONNREFUSED' });
      assert.throws(() => closeFd(999_999), { errnoName: 'EBADF' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function fdTargets(): string[] {
  const out: string[] = [];
  for (let fd = 0; fd < 1024; fd++) {
    const t = fdTarget(fd);
    if (t) out.push(t);
  }
  return out;
}

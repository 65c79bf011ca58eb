import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

import { FdServer, FdSocket, NativeError, closeFd, connectUnix, listenUnix } from './index.js';
import { fdTarget } from './test-fixtures/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-fdserver-')); // mkdtemp makes it 0700
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const sockPath = () => join(dir, `s${n++}.sock`);
const repo = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./test-fixtures/server-child.ts', import.meta.url));

function echoOnce(path: string, text: string): Promise<string> {
  const sock = new FdSocket(connectUnix(path));
  sock.write(text);
  return once(sock, 'data').then(([chunk]) => {
    sock.destroy();
    return (chunk as Buffer).toString();
  });
}

function throwsNative(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof NativeError && e.errnoName === code, `expected NativeError ${code}`);
}

describe('FdServer', () => {
  it('listens with a 0600 socket file and accepts connections as FdSockets', async () => {
    const path = sockPath();
    const server = FdServer.listen(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    server.on('connection', (s) => s.on('data', (c: Buffer) => s.write(c.toString().toUpperCase())));
    assert.equal(await echoOnce(path, 'hello'), 'HELLO');
    server.close();
    assert.ok(server.closed);
  });

  it('accepts many connections, including a burst beyond the backlog handled over several wakeups', async () => {
    const path = sockPath();
    const server = FdServer.listen(path, { backlog: 128 });
    const accepted: FdSocket[] = [];
    server.on('connection', (s) => {
      accepted.push(s);
      s.on('data', (c: Buffer) => s.write(`<${c.toString()}>`));
    });
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => echoOnce(path, String(i))));
    assert.deepEqual(
      replies,
      Array.from({ length: 100 }, (_, i) => `<${i}>`),
    );
    assert.equal(accepted.length, 100);
    for (const s of accepted) s.destroy();
    server.close();
  });

  it('close() stops accepting, closes the fd and removes the socket file; clients already connected stay', async () => {
    const path = sockPath();
    const server = FdServer.listen(path);
    const got = once(server, 'connection');
    const client = new FdSocket(connectUnix(path));
    const [conn] = (await got) as [FdSocket];
    const target = fdTarget(server.fd);
    assert.match(target ?? '', /^socket:/);
    server.close();
    server.close(); // idempotent
    assert.notEqual(fdTarget(server.fd), target, 'listening fd closed');
    assert.equal(existsSync(path), false, 'socket file removed');
    throwsNative(() => connectUnix(path), 'ENOENT');
    conn.write('still here');
    const [chunk] = (await once(client, 'data')) as [Buffer];
    assert.equal(chunk.toString(), 'still here');
    conn.destroy();
    client.destroy();
  });

  it('a closed server leaves nothing on the loop (the process exits); an open one keeps it alive', () => {
    const run = (mode: string, timeout: number) => spawnSync(process.execPath, ['--import', 'tsx', child, mode, mkdtempSync(join(dir, 'c-'))], { cwd: repo, timeout, encoding: 'utf8' });
    const closed = run('close', 20_000);
    assert.equal(closed.status, 0, closed.stderr);
    const open = run('open', 4000);
    assert.equal(open.signal, 'SIGTERM', 'an open server keeps the process alive until killed');
  });

  it('with no connection listener, accepted sockets are closed (no leak)', async () => {
    const path = sockPath();
    const server = FdServer.listen(path);
    const client = new FdSocket(connectUnix(path));
    client.resume();
    await once(client, 'close');
    server.close();
  });

  it('listenUnix errors are NativeErrors with errnoName names; nothing is left behind', () => {
    const path = sockPath();
    writeFileSync(path, '');
    throwsNative(() => listenUnix(path, 4), 'EADDRINUSE');
    throwsNative(() => listenUnix(join(dir, 'missing', 'x.sock'), 4), 'ENOENT');
    throwsNative(() => listenUnix(join(dir, 'x'.repeat(120)), 4), 'ENAMETOOLONG');
    const ro = join(dir, 'ro');
    mkdirSync(ro, { mode: 0o500 });
    if (process.getuid?.() !== 0) throwsNative(() => listenUnix(join(ro, 'x.sock'), 4), 'EACCES');
    assert.throws(() => listenUnix(sockPath(), 0), RangeError);
    throwsNative(() => new FdServer(123456), 'EBADF');
  });

  it("out of fds: accept's EMFILE is an 'acceptError' and the server retries until the connection is taken", () => {
    const cdir = mkdtempSync(join(dir, 'emfile-'));
    const r = spawnSync('bash', ['-c', `ulimit -n 200 && exec "${process.execPath}" --import tsx "${child}" emfile "${cdir}"`], { cwd: repo, timeout: 30_000, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { errors: string[]; fillers: number };
    assert.equal(out.errors[0], 'EMFILE');
    assert.ok(out.fillers > 0);
  });

  it('works in a worker_thread; terminating the worker closes its listening fd', async () => {
    const path = sockPath();
    const worker = new Worker(new URL('./test-fixtures/tsx-worker.mjs', import.meta.url), {
      workerData: { entry: new URL('./test-fixtures/server-worker.ts', import.meta.url).href, path },
    });
    const exited = once(worker, 'exit');
    const [{ fd }] = (await once(worker, 'message')) as [{ fd: number }];
    assert.equal(await echoOnce(path, 'from main'), 'FROM MAIN');
    const target = fdTarget(fd);
    assert.match(target ?? '', /^socket:/);
    await worker.terminate();
    await exited;
    assert.notEqual(fdTarget(fd), target, 'the cleanup hook closed the listening fd');
    throwsNative(() => closeFd(connectUnix(path)), 'ECONNREFUSED'); // the file stays, nobody listens
  });
});

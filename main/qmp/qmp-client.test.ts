import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QmpClient, QmpClosedError, QmpError, QmpFdPassingError, QmpTimeoutError } from './qmp-client.js';
import { FakeFdQmpStream, FakeQmpStream, QMP_GREETING, QMP_TRANSCRIPT, seededRandom } from './qmp-fixtures.js';
import type { QmpEvent } from './qmp-types.js';

/** A fake QEMU: greets, answers qmp_capabilities, and answers other commands via `reply`. */
function fakeQemu(reply: (cmd: { execute: string; id: string; arguments?: unknown }) => string | undefined, stream: FakeQmpStream = new FakeQmpStream(), splitEvery = 0): FakeQmpStream {
  stream.onCommand = (cmd) => {
    const text = cmd.execute === 'qmp_capabilities' ? `{"return": {}, "id": ${JSON.stringify(cmd.id)}}\r\n` : reply(cmd);
    if (text) setImmediate(() => stream.deliver(text, splitEvery));
  };
  setImmediate(() => stream.deliver(QMP_GREETING, splitEvery));
  return stream;
}

test('greeting, capabilities, typed reply, error and event from a transcript fed one byte at a time', async () => {
  const stream = new FakeQmpStream();
  const opening = QmpClient.open(stream);
  const bytes = Buffer.from(QMP_TRANSCRIPT, 'utf8');
  // Feed up to the end of the capabilities reply, let the client send its next commands, then the rest.
  const greetingEnd = Buffer.byteLength(QMP_GREETING);
  const capsEnd = bytes.indexOf('\r\n', greetingEnd) + 2;
  for (let i = 0; i < greetingEnd; i++) stream.deliver(bytes.subarray(i, i + 1));
  await new Promise((r) => setImmediate(r)); // the client answers the greeting with qmp_capabilities
  for (let i = greetingEnd; i < capsEnd; i++) stream.deliver(bytes.subarray(i, i + 1));
  const client = await opening;
  assert.equal(client.greeting?.QMP.version.qemu.major, 10);
  assert.deepEqual(JSON.parse(stream.written[0]!.toString()), { execute: 'qmp_capabilities', id: 'kju-1' });

  const events: QmpEvent[] = [];
  client.on('event', (e) => events.push(e));
  const status = client.execute('query-status');
  const bogus = client.execute('bogus');
  const name = client.execute('query-name');
  for (let i = capsEnd; i < bytes.length; i++) stream.deliver(bytes.subarray(i, i + 1));

  const s = await status;
  assert.equal(s.status, 'running');
  assert.equal(s.running, true);
  await assert.rejects(bogus, (e: unknown) => {
    assert.ok(e instanceof QmpError);
    assert.equal(e.errorClass, 'CommandNotFound');
    assert.equal(e.desc, 'The command bogus has not been found');
    assert.equal(e.command, 'bogus');
    return true;
  });
  assert.equal((await name).name, 'démo ✓ 🖥');
  assert.deepEqual(events, [{ event: 'RESET', data: { guest: true, reason: 'guest-reset' }, timestamp: { seconds: 1763884000, microseconds: 123456 } }]);
  client.close();
});

test('random splits: every reply matches its command by id', async () => {
  const rand = seededRandom(7);
  const stream = fakeQemu((cmd) => {
    // answer in an interleaved, split-anywhere way: two replies glued together sometimes
    return `{"return": {"echo": ${JSON.stringify(cmd.arguments ?? null)}}, "id": ${JSON.stringify(cmd.id)}}\r\n`;
  });
  stream.deliver = function (text: string | Buffer) {
    const buf = typeof text === 'string' ? Buffer.from(text) : text;
    let i = 0;
    while (i < buf.length) {
      const n = 1 + Math.floor(rand() * 9);
      this.emit('data', Buffer.from(buf.subarray(i, i + n)));
      i += n;
    }
  };
  const client = await QmpClient.open(stream);
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.execute<{ echo: { n: number; s: string } }>('echo', { n: i, s: 'ü'.repeat(i) })));
  results.forEach((r, i) => assert.deepEqual(r.echo, { n: i, s: 'ü'.repeat(i) }));
  client.close();
});

test('the stream closing mid-command rejects every pending call with QmpClosedError', async () => {
  const stream = fakeQemu(() => undefined);
  const client = await QmpClient.open(stream);
  const closeEvents: (Error | undefined)[] = [];
  client.on('close', (e) => closeEvents.push(e));
  const a = client.execute('query-status');
  const b = client.execute('stop');
  stream.emit('close');
  await assert.rejects(a, (e: unknown) => e instanceof QmpClosedError && /query-status got no reply/.test(e.message));
  await assert.rejects(b, QmpClosedError);
  await assert.rejects(client.execute('cont'), QmpClosedError);
  assert.equal(closeEvents.length, 1);
  assert.ok(closeEvents[0] instanceof QmpClosedError);
  assert.ok(stream.destroyed);
});

test('a stream error also rejects pending calls', async () => {
  const stream = fakeQemu(() => undefined);
  const client = await QmpClient.open(stream);
  const a = client.execute('query-status');
  stream.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  await assert.rejects(a, (e: unknown) => e instanceof QmpClosedError && /ECONNRESET/.test(e.message));
});

test('close() rejects pending calls and emits close without an error', async () => {
  const client = await QmpClient.open(fakeQemu(() => undefined));
  let closeArg: unknown = 'not called';
  client.on('close', (e) => (closeArg = e));
  const a = client.execute('query-status');
  client.close();
  client.close();
  await assert.rejects(a, QmpClosedError);
  assert.equal(closeArg, undefined);
  assert.equal(client.closed, true);
});

test('no greeting in time is a QmpTimeoutError and the stream is destroyed', async () => {
  const stream = new FakeQmpStream();
  await assert.rejects(QmpClient.open(stream, { greetingTimeoutMs: 50 }), QmpTimeoutError);
  assert.ok(stream.destroyed);
});

test('a stream that closes before the greeting rejects with QmpClosedError', async () => {
  const stream = new FakeQmpStream();
  setImmediate(() => stream.emit('close'));
  await assert.rejects(QmpClient.open(stream, { greetingTimeoutMs: 5000 }), QmpClosedError);
});

test('garbage instead of JSON closes the connection with a clear error', async () => {
  const stream = fakeQemu(() => 'this is not json\r\n');
  const client = await QmpClient.open(stream);
  await assert.rejects(client.execute('query-status'), (e: unknown) => e instanceof QmpClosedError && /not JSON/.test(e.message));
});

test('executeWithFd without fd passing fails clearly and sends nothing', async () => {
  const stream = fakeQemu(() => undefined);
  const client = await QmpClient.open(stream);
  const before = stream.written.length;
  await assert.rejects(client.executeWithFd('getfd', { fdname: 'x' }, 5), (e: unknown) => e instanceof QmpFdPassingError && /native addon/.test(e.message));
  assert.equal(stream.written.length, before);
  client.close();
});

test('executeWithFd sends the command bytes together with the fd', async () => {
  const stream = fakeQemu((cmd) => `{"return": {}, "id": ${JSON.stringify(cmd.id)}}\r\n`, new FakeFdQmpStream());
  const client = await QmpClient.open(stream);
  assert.deepEqual(await client.executeWithFd('getfd', { fdname: 'dbus' }, 17), {});
  assert.equal(stream.fdWrites.length, 1);
  assert.deepEqual(stream.fdWrites[0]!.fds, [17]);
  assert.deepEqual(JSON.parse(stream.fdWrites[0]!.data.toString()), { execute: 'getfd', id: 'kju-2', arguments: { fdname: 'dbus' } });
  client.close();
});

test('events(): async iteration ends when the connection closes; waitForEvent matches by name', async () => {
  const stream = fakeQemu(() => undefined);
  const client = await QmpClient.open(stream);
  const seen: string[] = [];
  const iterating = (async () => {
    for await (const e of client.events()) seen.push(e.event);
  })();
  const waiting = client.waitForEvent('SHUTDOWN', 1000, (e) => e.data.guest === false);
  stream.deliver('{"event": "STOP", "data": {}, "timestamp": {"seconds": 1, "microseconds": 0}}\r\n');
  stream.deliver('{"event": "SHUTDOWN", "data": {"guest": true}, "timestamp": {"seconds": 2, "microseconds": 0}}\r\n');
  stream.deliver('{"event": "SHUTDOWN", "data": {"guest": false}, "timestamp": {"seconds": 3, "microseconds": 0}}\r\n');
  const shut = await waiting;
  assert.equal(shut.timestamp.seconds, 3);
  await new Promise((r) => setImmediate(r));
  stream.emit('close');
  await iterating;
  assert.deepEqual(seen, ['STOP', 'SHUTDOWN', 'SHUTDOWN']);
  await assert.rejects(client.waitForEvent('RESET', 1000), QmpClosedError);
});

test('waitForEvent times out', async () => {
  const client = await QmpClient.open(fakeQemu(() => undefined));
  await assert.rejects(client.waitForEvent('RESET', 20), QmpTimeoutError);
  client.close();
});

test('a command QEMU never answers rejects with QmpTimeoutError after commandTimeoutMs; a late reply is ignored', async () => {
  let lateId = '';
  const stream = fakeQemu((cmd) => {
    if (cmd.execute === 'query-status') {
      lateId = cmd.id;
      return undefined; // hung
    }
    return `{"return": {"status": "running", "running": true, "singlestep": false}, "id": ${JSON.stringify(cmd.id)}}\r\n`;
  });
  const client = await QmpClient.open(stream, { commandTimeoutMs: 80 });
  const t0 = Date.now();
  await assert.rejects(client.execute('query-status'), (e: unknown) => e instanceof QmpTimeoutError && /query-status.*80 ms/.test((e as Error).message));
  assert.ok(Date.now() - t0 >= 70, 'waited for the timeout');
  stream.deliver(`{"return": {}, "id": ${JSON.stringify(lateId)}}\r\n`); // too late: no crash, no stray resolve
  assert.equal(client.closed, false, 'a timeout leaves the connection open');
  assert.deepEqual(await client.execute('query-version'), { status: 'running', running: true, singlestep: false });
  client.close();
});

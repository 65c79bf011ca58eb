import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DisplayMessage } from '../../../common/contract.js';
import { PortDisplayStream, type PortLike } from './port-display-stream.js';

function fakePort() {
  const sent: unknown[] = [];
  const port: PortLike & { closed: boolean; emit(d: unknown): void } = {
    onmessage: null,
    closed: false,
    postMessage: (m) => void sent.push(m),
    close() {
      this.closed = true;
    },
    emit(d) {
      this.onmessage?.({ data: d });
    },
  };
  return { port, sent };
}

const surface: DisplayMessage = { t: 'surface', surface: { id: 1, width: 4, height: 4, stride: 16, format: 0x20020888, transport: 'copy' } };

test('messages and frames that arrive before the page listens are kept, in order', () => {
  const { port } = fakePort();
  const s = new PortDisplayStream(port).toBridgeObject();
  const frame = new ArrayBuffer(16);
  port.emit(surface);
  port.emit(frame);
  port.emit({ t: 'mouse', x: 1, y: 2, visible: true });
  const seen: unknown[] = [];
  s.onMessage((m) => seen.push(m.t));
  assert.deepEqual([...seen], ['surface'], 'the frame holds back what follows it until onFrame');
  s.onFrame((f) => seen.push(f));
  assert.deepEqual(seen, ['surface', frame, 'mouse']);
  port.emit(new ArrayBuffer(4));
  assert.equal(seen.length, 4);
});

test('pull and input go out as ViewerMessages; the bridge object is plain functions', () => {
  const { port, sent } = fakePort();
  const s = new PortDisplayStream(port).toBridgeObject();
  assert.equal(Object.getPrototypeOf(s), Object.prototype);
  assert.ok(Object.values(s).every((v) => typeof v === 'function'));
  s.pull();
  s.sendInput({ t: 'key', down: true, qnum: 0x1e });
  assert.deepEqual(sent, [{ t: 'pull' }, { t: 'input', input: { t: 'key', down: true, qnum: 0x1e } }]);
});

test('a closed message from the utility closes the port; end() reports a reason once', () => {
  const a = fakePort();
  let closedCalls = 0;
  const sa = new PortDisplayStream(a.port, () => closedCalls++);
  const seen: DisplayMessage[] = [];
  sa.onMessage((m) => seen.push(m));
  a.port.emit({ t: 'closed', reason: 'QEMU exited' });
  assert.ok(a.port.closed);
  assert.equal(closedCalls, 1);
  sa.pull();
  assert.equal(a.sent.length, 0);

  const b = fakePort();
  const sb = new PortDisplayStream(b.port);
  const seenB: DisplayMessage[] = [];
  sb.onMessage((m) => seenB.push(m));
  sb.end('display process crashed');
  sb.end('again');
  assert.deepEqual(seenB, [{ t: 'closed', reason: 'display process crashed' }]);
  assert.ok(b.port.closed);
});

test('garbage from the port is ignored', () => {
  const { port } = fakePort();
  const s = new PortDisplayStream(port);
  const seen: unknown[] = [];
  s.onMessage((m) => seen.push(m));
  port.emit(42);
  port.emit(null);
  port.emit({ nope: 1 });
  assert.deepEqual(seen, []);
});

test('refresh goes out as the contract ViewerMessage, from the bridge object too, and not after close', () => {
  const { port, sent } = fakePort();
  const stream = new PortDisplayStream(port);
  const s = stream.toBridgeObject();
  assert.equal(typeof s.refresh, 'function');
  s.refresh();
  stream.refresh();
  assert.deepEqual(sent, [{ t: 'refresh' }, { t: 'refresh' }]);
  s.close();
  s.refresh();
  assert.equal(sent.length, 2);
});

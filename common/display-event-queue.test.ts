import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DisplayMessage } from './contract.js';
import { DisplayEventQueue } from './display-event-queue.js';

const surface: DisplayMessage = { t: 'surface', surface: { id: 1, width: 4, height: 4, stride: 16, format: 0x20020888, transport: 'copy' } };
const mouse: DisplayMessage = { t: 'mouse', x: 1, y: 2, visible: true };

test('events before any callback wait, and come out in arrival order across both kinds', () => {
  const q = new DisplayEventQueue();
  const f1 = new ArrayBuffer(8);
  q.message(surface);
  q.frame(f1);
  q.message(mouse);
  assert.equal(q.waitingCount, 3);
  const seen: unknown[] = [];
  q.onMessage((m) => seen.push(m.t));
  assert.deepEqual([...seen], ['surface'], 'the frame holds back the message behind it');
  assert.equal(q.waitingCount, 2);
  q.onFrame((p) => seen.push(p));
  assert.deepEqual(seen, ['surface', f1, 'mouse']);
  assert.equal(q.waitingCount, 0);
});

test('with both callbacks set, events go straight through, the same buffer object', () => {
  const q = new DisplayEventQueue();
  const seen: unknown[] = [];
  q.onMessage((m) => seen.push(m));
  q.onFrame((p) => seen.push(p));
  const f = new ArrayBuffer(4);
  q.frame(f);
  q.message(mouse);
  assert.equal(seen[0], f);
  assert.equal(seen[1], mouse);
  assert.equal(q.waitingCount, 0);
});

test('once something waits, later events of a listened-to kind wait behind it', () => {
  const q = new DisplayEventQueue();
  const seen: unknown[] = [];
  q.onMessage((m) => seen.push(m.t));
  q.message(surface);
  q.frame(new ArrayBuffer(4));
  q.message(mouse);
  assert.deepEqual(seen, ['surface']);
  assert.equal(q.waitingCount, 2);
  q.onFrame(() => seen.push('frame'));
  assert.deepEqual(seen, ['surface', 'frame', 'mouse']);
});

test('clear drops what waits, also when a callback clears in the middle of a drain', () => {
  const q = new DisplayEventQueue();
  q.message(surface);
  q.message({ t: 'closed', reason: 'gone' });
  q.message(mouse);
  const seen: string[] = [];
  q.onMessage((m) => {
    seen.push(m.t);
    if (m.t === 'closed') q.clear();
  });
  assert.deepEqual(seen, ['surface', 'closed']);
  assert.equal(q.waitingCount, 0);
  q.message(mouse);
  assert.deepEqual(seen, ['surface', 'closed', 'mouse'], 'callbacks stay after clear');
});

test('an event pushed from inside a callback keeps its place behind the ones already waiting', () => {
  const q = new DisplayEventQueue();
  q.message(surface);
  q.message(mouse);
  const seen: string[] = [];
  q.onMessage((m) => {
    seen.push(m.t);
    if (m.t === 'surface') q.message({ t: 'disabled' });
  });
  assert.deepEqual(seen, ['surface', 'mouse', 'disabled']);
});

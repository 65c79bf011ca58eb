import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VmThumbnail } from '../../common/contract.js';
import { pollThumbnail, type VisibilitySource } from './thumbnail-poller.js';

class FakeDoc implements VisibilitySource {
  visibilityState: DocumentVisibilityState = 'visible';
  private fns = new Set<() => void>();
  addEventListener(_t: 'visibilitychange', fn: () => void) {
    this.fns.add(fn);
  }
  removeEventListener(_t: 'visibilitychange', fn: () => void) {
    this.fns.delete(fn);
  }
  set(v: DocumentVisibilityState) {
    this.visibilityState = v;
    for (const f of this.fns) f();
  }
  get listeners() {
    return this.fns.size;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a running VM is asked about every period while visible, not at all while hidden, and again at once when shown', async () => {
  const doc = new FakeDoc();
  let asks = 0;
  const shown: (VmThumbnail | null)[] = [];
  const p = pollThumbnail({ live: true, doc, everyMs: 20, fetch: async () => ({ png: `frame${Math.min(++asks, 3)}`, live: true }), show: (t) => shown.push(t) });
  await sleep(110);
  const visibleAsks = asks;
  assert.ok(visibleAsks >= 4 && visibleAsks <= 7, `about one ask per 20 ms: ${visibleAsks}`);
  assert.deepEqual(
    shown.map((t) => t?.png),
    ['frame1', 'frame2', 'frame3'],
    'an unchanged thumbnail is not shown again',
  );
  doc.set('hidden');
  await sleep(15);
  const atHide = asks;
  await sleep(100);
  assert.equal(asks, atHide, 'no asks while hidden');
  doc.set('visible');
  await sleep(5);
  assert.equal(asks, atHide + 1, 'asks at once when shown again');
  p.stop();
  await sleep(50);
  assert.equal(asks, atHide + 1, 'no asks after stop');
  assert.equal(doc.listeners, 0);
});

test('a stopped VM is asked once; a page that starts hidden asks only when shown', async () => {
  const doc = new FakeDoc();
  doc.visibilityState = 'hidden';
  let asks = 0;
  const shown: (VmThumbnail | null)[] = [];
  const p = pollThumbnail({ live: false, doc, everyMs: 10, fetch: async () => (asks++, { png: 'last', live: false }), show: (t) => shown.push(t) });
  await sleep(40);
  assert.equal(asks, 0);
  doc.set('visible');
  await sleep(40);
  doc.set('hidden');
  doc.set('visible');
  await sleep(20);
  assert.equal(asks, 1);
  assert.deepEqual(shown, [{ png: 'last', live: false }]);
  p.stop();
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { DisplayStream, ViewerMessage } from '../../common/contract.js';
import { ClipboardShare, type ClipboardShareState } from './clipboard-share.js';

function setup() {
  const sent: ViewerMessage[] = [];
  const stream = { sendClipboard: (m: ViewerMessage) => sent.push(m) } as unknown as DisplayStream;
  const page = { text: 'host text ✓', written: [] as string[], reads: 0 };
  const clipboard = { readText: async () => (page.reads++, page.text), writeText: async (t: string) => void page.written.push(t) };
  const focus = new Set<() => void>();
  const target = { addEventListener: (_: string, cb: () => void) => focus.add(cb), removeEventListener: (_: string, cb: () => void) => focus.delete(cb) };
  const states: ClipboardShareState[] = [];
  const share = new ClipboardShare(stream, clipboard, (s) => states.push(s), target as never);
  return { sent, page, share, states, focus: () => [...focus].forEach((f) => f()), focusCount: () => focus.size };
}

test('off by default: focus reads nothing and guest text is not written to the page', async () => {
  const { sent, page, share, focus } = setup();
  assert.equal(share.current.shared, false);
  focus();
  await tick();
  assert.deepEqual(sent, []);
  assert.equal(page.reads, 0, 'the host clipboard is not even read while sharing is off');
  assert.equal(share.onMessage({ t: 'clipboard', text: 'guest' }), true);
  assert.deepEqual(page.written, []);
});

test('on: the page clipboard is sent on share and on focus when changed; guest text is written and not echoed back', async () => {
  const { sent, page, share, states, focus } = setup();
  share.setShared(true);
  await tick();
  assert.deepEqual(sent, [
    { t: 'clipboard-share', on: true },
    { t: 'clipboard', text: 'host text ✓' },
  ]);
  share.onMessage({ t: 'clipboard-state', available: true, shared: true });
  assert.deepEqual(states.at(-1), { available: true, shared: true });
  focus();
  await tick();
  assert.equal(sent.length, 2, 'unchanged text is not sent again');
  share.onMessage({ t: 'clipboard', text: 'Grüße vom Gast' });
  await tick();
  assert.deepEqual(page.written, ['Grüße vom Gast']);
  page.text = 'Grüße vom Gast';
  focus();
  await tick();
  assert.equal(sent.length, 2, "the guest's own text is not sent back");
  page.text = 'new';
  focus();
  await tick();
  assert.deepEqual(sent.at(-1), { t: 'clipboard', text: 'new' });
  share.onMessage({ t: 'clipboard-state', available: true, shared: true, notice: 'too large' });
  assert.equal(states.at(-1)!.notice, 'too large');
  assert.equal(share.onMessage({ t: 'disabled' }), false);
});

test('destroy removes the focus listener', () => {
  const { share, focusCount } = setup();
  assert.equal(focusCount(), 1);
  share.destroy();
  assert.equal(focusCount(), 0);
});

test('text that did not arrive (a clipboard-state notice) is sent again on the next focus', async () => {
  const { sent, share, focus } = setup();
  share.setShared(true);
  await tick();
  share.onMessage({ t: 'clipboard-state', available: true, shared: true });
  focus();
  await tick();
  assert.equal(sent.filter((m) => m.t === 'clipboard').length, 1, 'unchanged text once');
  share.onMessage({ t: 'clipboard-state', available: true, shared: true, notice: 'QEMU refused the grab' });
  focus();
  await tick();
  assert.deepEqual(
    sent.filter((m) => m.t === 'clipboard'),
    [
      { t: 'clipboard', text: 'host text ✓' },
      { t: 'clipboard', text: 'host text ✓' },
    ],
  );
});

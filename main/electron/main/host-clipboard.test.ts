import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIPBOARD_MAX_BYTES } from '../../../common/contract.js';
import { readHostClipboard, writeHostClipboard } from './host-clipboard.js';

function host(text: string) {
  const h = { text, reads: 0, readText: () => (h.reads++, h.text), writeText: (t: string) => void (h.text = t) };
  return h;
}

test('only a focused VM window reads the host clipboard; more than the limit is refused', async () => {
  const h = host('Grüße');
  assert.deepEqual(await readHostClipboard({ vmWindow: true, focused: true }, h), { ok: true, value: 'Grüße' });
  assert.equal((await readHostClipboard({ vmWindow: false, focused: true }, h)).ok, false);
  assert.equal((await readHostClipboard({ vmWindow: true, focused: false }, h)).ok, false);
  assert.equal(h.reads, 1, 'refused requests do not read');
  h.text = 'ä'.repeat(CLIPBOARD_MAX_BYTES / 2 + 1);
  const r = await readHostClipboard({ vmWindow: true, focused: true }, h);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /at most 1 MiB/);
});

test("the guest's text is written only for a VM window, only a string within the limit", async () => {
  const h = host('old');
  assert.equal((await writeHostClipboard({ vmWindow: false, focused: true }, 'x', h)).ok, false);
  assert.equal((await writeHostClipboard({ vmWindow: true, focused: false }, 42, h)).ok, false);
  assert.equal((await writeHostClipboard({ vmWindow: true, focused: false }, 'x'.repeat(CLIPBOARD_MAX_BYTES + 1), h)).ok, false);
  assert.equal(h.text, 'old');
  assert.deepEqual(await writeHostClipboard({ vmWindow: true, focused: false }, 'vom Gast', h), { ok: true, value: null });
  assert.equal(h.text, 'vom Gast');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { whyNotVmName } from './vm-name.js';

test('one name rule: bidi controls and zero-width characters are refused with a one-line reason', () => {
  for (const [name, reason] of [
    ['ab\u202ecd', /U\+202E .*bidi override/],
    ['a\u200bb', /U\+200B/],
    ['a\u200db', /U\+200D/],
    ['a\u2067b', /U\+2067/],
    ['', /empty/],
    [' x', /starts or ends with a space/],
    ['.x', /starts with a dot/],
    ['x'.repeat(65), /longer than 64/],
    ['é'.repeat(60) + 'é'.repeat(4).normalize('NFD').slice(0, 0) + '日'.repeat(4), undefined],
  ] as const) {
    const why = whyNotVmName(name);
    if (reason === undefined) assert.equal(why, undefined, JSON.stringify(name));
    else {
      assert.match(why ?? '(accepted)', reason, JSON.stringify(name));
      assert.ok(!why!.includes('\n'), 'one line');
    }
  }
  assert.equal(whyNotVmName('Debian 12 (bookworm)'), undefined);
});

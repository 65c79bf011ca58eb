import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Failure } from './contract.js';
import { KjuError, kjuErrorCodeOf } from './errors.js';

test('a Failure takes only a code of KJU_ERROR_CODES (the type-checker refuses any other)', () => {
  const known: Failure = { ok: false, code: 'too-large', message: 'the text is 2 MiB' };
  // @ts-expect-error 'no-such-code' is not a kju error code
  const unknown: Failure = { ok: false, code: 'no-such-code', message: 'x' };
  assert.equal(known.code, 'too-large');
  assert.equal(unknown.code, 'no-such-code');
});

test("a thrown value's kju code, or the fallback for an errno name or none", () => {
  assert.equal(kjuErrorCodeOf(new KjuError('no-sound', 'no card'), 'internal'), 'no-sound');
  assert.equal(kjuErrorCodeOf(Object.assign(new Error('gone'), { code: 'ENOENT' }), 'display-unavailable'), 'display-unavailable');
  assert.equal(kjuErrorCodeOf(new Error('plain'), 'no-sound'), 'no-sound');
  assert.equal(kjuErrorCodeOf(null, 'internal'), 'internal');
});

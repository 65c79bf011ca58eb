import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takeTokenFromUrl } from './page-token.js';

test('the page token is taken from the fragment (bare or after a hash route) or the old query, and removed', () => {
  const o = 'http://127.0.0.1:8080/';
  assert.deepEqual(takeTokenFromUrl(`${o}#token=abc`), { token: 'abc', strippedHref: o });
  assert.deepEqual(takeTokenFromUrl(`${o}#/vm/a%20b?token=abc&test=1`), { token: 'abc', strippedHref: `${o}#/vm/a%20b?test=1` });
  assert.deepEqual(takeTokenFromUrl(`${o}#/?token=abc`), { token: 'abc', strippedHref: `${o}#/` });
  assert.deepEqual(takeTokenFromUrl(`${o}?vm=x&token=abc#/vm/y`), { token: 'abc', strippedHref: `${o}?vm=x#/vm/y` });
  assert.deepEqual(takeTokenFromUrl(`${o}?vm=bench#token=abc`), { token: 'abc', strippedHref: `${o}?vm=bench` });
  assert.deepEqual(takeTokenFromUrl(`${o}#/vm/x`), { token: null, strippedHref: `${o}#/vm/x` });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTokenFormat, cookieName, exposureWarning, findToken, generateToken, isLoopbackHost, originAllowed, parseCookies, tokenCookie, tokensEqual } from './auth.js';

test('generated tokens are 32 random bytes in base64url and pass the format check', () => {
  const a = generateToken();
  const b = generateToken();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(a, 'base64url').length, 32);
  assert.notEqual(a, b);
  assert.equal(checkTokenFormat(a), null);
  assert.ok(checkTokenFormat('short'));
  assert.ok(checkTokenFormat('has spaces in it, which is bad'));
  assert.ok(checkTokenFormat('semi;colon=cookie-injection-attempt'));
});

test('tokens compare exactly', () => {
  assert.ok(tokensEqual('abc', 'abc'));
  assert.ok(!tokensEqual('abd', 'abc'));
  assert.ok(!tokensEqual('ab', 'abc'));
  assert.ok(!tokensEqual(null, 'abc'));
  assert.ok(!tokensEqual(undefined, 'abc'));
});

test('the token is found in the query or in the per-port cookie, nowhere else', () => {
  const t = generateToken();
  const u = (q: string) => new URL(`http://127.0.0.1:9/${q}`);
  assert.equal(findToken(u(`?token=${t}`), {}, t, 9), 'query');
  assert.equal(findToken(u(''), { cookie: `other=1; ${cookieName(9)}=${t}` }, t, 9), 'cookie');
  assert.equal(findToken(u(''), { cookie: `${cookieName(10)}=${t}` }, t, 9), null);
  assert.equal(findToken(u('?token=wrong'), { authorization: `Bearer ${t}` }, t, 9), null);
  assert.equal(findToken(u(''), {}, t, 9), null);
  assert.deepEqual([...parseCookies(' a=1; b = 2 ;junk; =x; a=3')], [['a', '1'], ['b', '2']]);
  assert.match(tokenCookie(t, 9), /HttpOnly/);
  assert.match(tokenCookie(t, 9), /SameSite=Strict/);
});

test('the Origin must be this server as addressed by the Host header', () => {
  assert.ok(originAllowed({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' }));
  assert.ok(!originAllowed({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8081' }));
  assert.ok(!originAllowed({ host: '127.0.0.1:8080', origin: 'http://evil.example' }));
  assert.ok(!originAllowed({ host: '127.0.0.1:8080', origin: 'https://127.0.0.1:8080' }));
  assert.ok(!originAllowed({ host: '127.0.0.1:8080', origin: 'null' }));
  assert.ok(!originAllowed({ host: '127.0.0.1:8080' }));
  assert.ok(!originAllowed({ origin: 'http://127.0.0.1:8080' }));
});

test('non-loopback hosts get a warning', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
    assert.ok(isLoopbackHost(h), h);
    assert.equal(exposureWarning(h), null);
  }
  for (const h of ['0.0.0.0', '::', '192.168.1.5', 'myhost']) assert.match(exposureWarning(h) ?? '', /Anyone who can reach/, h);
});

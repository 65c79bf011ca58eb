import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTokenFormat, exposureWarning, generateToken, handshakeHasToken, isLoopbackHost, originAllowed, tokensEqual } from './auth.js';
import { serveProtocols } from '../../common/serve-auth.js';

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

test('the token is found only as a kju.token.<token> subprotocol of the handshake', () => {
  const t = generateToken();
  const u = (p: string[]) => ({ 'sec-websocket-protocol': p.join(', ') });
  assert.ok(handshakeHasToken(u(serveProtocols(t)), t));
  assert.ok(handshakeHasToken({ 'sec-websocket-protocol': `kju.v1,kju.token.${t}` }, t));
  assert.ok(!handshakeHasToken(u(serveProtocols('wrong')), t));
  assert.ok(!handshakeHasToken(u(['kju.v1', t]), t));
  assert.ok(!handshakeHasToken(u(['kju.v1', `kju.token.${t}x`]), t));
  assert.ok(!handshakeHasToken({ cookie: `kju_token_9=${t}`, authorization: `Bearer ${t}` }, t));
  assert.ok(!handshakeHasToken({}, t));
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
  for (const h of ['0.0.0.0', '::', '192.168.1.5', 'myhost']) assert.match(exposureWarning(h) ?? '', /Anyone who can reach.*host files/s, h);
  assert.match(exposureWarning('0.0.0.0', ['/home/me', '/srv/isos']) ?? '', /read and write your host files in \/home\/me, \/srv\/isos/);
});

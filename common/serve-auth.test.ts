import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SERVE_PROTOCOL, serveProtocols } from './serve-auth.js';

test('the client offers the fixed protocol and the token protocol', () => {
  assert.deepEqual(serveProtocols('T0k'), [SERVE_PROTOCOL, 'kju.token.T0k']);
});

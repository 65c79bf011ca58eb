import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppUrl, permissionAllowed } from './app-origin.js';
import { isTrustedSender } from './ipc-handlers.js';

test('only app://kju itself is ours: not app://kjuevil.example, other ports, user info or schemes', () => {
  for (const u of ['app://kju', 'app://kju/', 'app://kju/index.html#/vm/a', 'APP://KJU/index.html']) assert.ok(isAppUrl(u), u);
  for (const u of [
    'app://kjuevil.example',
    'app://kjuevil.example/',
    'app://kju.evil.example/',
    'app://kju:81/',
    'app://x@kju/',
    'app://kju@evil/',
    'https://kju/',
    'file:///kju/',
    'app:kju',
    '',
    'not a url',
  ]) {
    assert.ok(!isAppUrl(u), u);
  }
});

test('IPC senders are judged the same way', () => {
  assert.ok(isTrustedSender({ senderFrame: { url: 'app://kju/index.html' } }));
  for (const url of ['app://kjuevil.example/', 'app://kjuevil.example', 'app://kju.evil/index.html', 'app://kju:8/']) assert.ok(!isTrustedSender({ senderFrame: { url } }), url);
});

test('the permission check grants the viewer permissions to app://kju only (origin without the trailing /)', () => {
  assert.ok(permissionAllowed('app://kju', 'pointerLock'));
  assert.ok(permissionAllowed('app://kju/index.html#/vm/a', 'keyboardLock'));
  assert.ok(!permissionAllowed('app://kju', 'media'));
  assert.ok(!permissionAllowed('app://kjuevil.example', 'pointerLock'));
  assert.ok(!permissionAllowed('app://kju.evil.example', 'fullscreen'));
});

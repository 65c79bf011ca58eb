import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleAppRequest, resolveAppFile } from './app-protocol.js';

const root = mkdtempSync(join(tmpdir(), 'kju-app-protocol-'));
mkdirSync(join(root, 'assets'));
writeFileSync(join(root, 'index.html'), '<!doctype html><title>kju</title>');
writeFileSync(join(root, 'index.js'), 'console.log(1)');
writeFileSync(join(root, 'assets', 'a.css'), 'body{}');
writeFileSync(join(tmpdir(), 'kju-secret.txt'), 'secret');

test('maps app://kju/ URLs into the root, routes to index.html', () => {
  assert.equal(resolveAppFile(root, 'app://kju/'), join(root, 'index.html'));
  assert.equal(resolveAppFile(root, 'app://kju/index.html#/vm/x'), join(root, 'index.html'));
  assert.equal(resolveAppFile(root, 'app://kju/vm/abc'), join(root, 'index.html'));
  assert.equal(resolveAppFile(root, 'app://kju/assets/a.css?x=1'), join(root, 'assets', 'a.css'));
});

test('nothing outside the root, no other host or scheme', () => {
  for (const url of [
    'app://kju/../kju-secret.txt',
    'app://kju/%2e%2e/kju-secret.txt',
    'app://kju/%2e%2e%2fkju-secret.txt',
    'app://kju/assets/..%2f..%2fkju-secret.txt',
    'app://kju/..%5ckju-secret.txt',
    'app://kju/index.html%00.js',
    'app://kju/%E0%A4%A',
    'app://other/index.html',
    'app://kju:81/index.html',
    'file:///etc/passwd',
    'https://kju/index.html',
    'not a url',
  ]) {
    const f = resolveAppFile(root, url);
    assert.ok(f === null || f.startsWith(root + '/'), `${url} resolved to ${f}`);
    assert.notEqual(f, join(tmpdir(), 'kju-secret.txt'), url);
  }
});

test('responses carry isolation, CSP and nosniff headers and the right type', async () => {
  const r = await handleAppRequest(root, new Request('app://kju/index.js'));
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'console.log(1)');
  assert.equal(r.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(r.headers.get('content-security-policy')!, /default-src 'none'/);
  assert.doesNotMatch(r.headers.get('content-security-policy')!, /https?:|\*|unsafe-eval/);
});

test('404 for missing files, directories and escapes; 405 for writes', async () => {
  assert.equal((await handleAppRequest(root, new Request('app://kju/nope.js'))).status, 404);
  assert.equal((await handleAppRequest(root, new Request('app://kju/assets.d'))).status, 404);
  assert.equal((await handleAppRequest(root, new Request('app://kju/%2e%2e/kju-secret.txt'))).status, 404);
  const post = await handleAppRequest(root, new Request('app://kju/index.html', { method: 'POST', body: 'x' }));
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('cross-origin-embedder-policy'), 'require-corp');
});

test('a symlink in the root that leads out of it is refused; one that stays inside is served', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'kju-app-outside-'));
  writeFileSync(join(outside, 'secret.js'), 'secret');
  symlinkSync(join(outside, 'secret.js'), join(root, 'leak.js'));
  symlinkSync(outside, join(root, 'out'));
  symlinkSync(join(root, 'index.js'), join(root, 'alias.js'));
  for (const u of ['app://kju/leak.js', 'app://kju/out/secret.js']) {
    const r = await handleAppRequest(root, new Request(u));
    assert.equal(r.status, 404, u);
    assert.doesNotMatch(await r.text(), /secret/);
  }
  const inside = await handleAppRequest(root, new Request('app://kju/alias.js'));
  assert.equal(inside.status, 200);
  assert.equal(await inside.text(), 'console.log(1)');
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readServeToken, run } from './serve.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-serve-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const good = 'abcdefghijklmnopqrstuvwxyz012345';
const noStdin = () => Promise.reject(new Error('stdin must not be read'));

test('--token-file reads a private file of this user and refuses one others can read', async () => {
  const f = join(dir, 'token');
  writeFileSync(f, `${good}\n`);
  chmodSync(f, 0o600);
  assert.equal(await readServeToken({ 'token-file': f }, noStdin), good);
  chmodSync(f, 0o644);
  await assert.rejects(readServeToken({ 'token-file': f }, noStdin), /can be read by other users.*chmod 600/);
  chmodSync(f, 0o640);
  await assert.rejects(readServeToken({ 'token-file': f }, noStdin), /chmod 600/);
  await assert.rejects(readServeToken({ 'token-file': join(dir, 'missing') }, noStdin), /cannot read/);
  await assert.rejects(readServeToken({ 'token-file': '/dev/null' }, noStdin), /not a regular file/);
  const bad = join(dir, 'bad');
  writeFileSync(bad, 'short', { mode: 0o600 });
  await assert.rejects(readServeToken({ 'token-file': bad }, noStdin), /--token-file: the token must be at least 16/);
});

test('--token-stdin reads standard input; --token still works; one way at a time; none: generated', async () => {
  assert.equal(await readServeToken({ 'token-stdin': true }, async () => `${good}\n`), good);
  await assert.rejects(
    readServeToken({ 'token-stdin': true }, async () => ''),
    /--token-stdin: /,
  );
  assert.equal(await readServeToken({ token: good }, noStdin), good);
  await assert.rejects(readServeToken({ token: good, 'token-stdin': true }, noStdin), /one way/);
  assert.equal(await readServeToken({}, noStdin), undefined);
});

test('--help says that --token shows in ps and names the safer ways', async () => {
  const orig = console.log;
  let out = '';
  console.log = (s: string) => void (out += s);
  try {
    assert.equal(await run(['--help']), 0);
  } finally {
    console.log = orig;
  }
  assert.match(out, /--token T .*`ps`/);
  assert.match(out, /--token-file F/);
  assert.match(out, /--token-stdin/);
  assert.match(out, /--allow DIR/);
});

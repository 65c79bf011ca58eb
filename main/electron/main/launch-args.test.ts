import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundlePathsFromArgv } from './launch-args.js';

test('finds .kju bundles in argv, absolute, without flags or the executable', () => {
  const argv = ['/opt/kju/kju', 'app/out/electron-main.js', '--no-sandbox', 'Demo.kju/', '/lib/Other.KJU', '--x=a.kju', 'notes.txt'];
  assert.deepEqual(bundlePathsFromArgv(argv, '/home/u'), ['/home/u/Demo.kju', '/lib/Other.KJU']);
  assert.deepEqual(bundlePathsFromArgv(['/opt/kju/kju'], '/'), []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { libraryHref, parseHash, vmHref } from './route.js';

test('hash routes', () => {
  assert.deepEqual(parseHash(''), { name: 'library' });
  assert.deepEqual(parseHash('#/'), { name: 'library' });
  assert.deepEqual(parseHash('#/vm/debian-12'), { name: 'vm', id: 'debian-12' });
  assert.deepEqual(parseHash('#/vm/a%20b?token=x'), { name: 'vm', id: 'a b' });
  assert.deepEqual(parseHash('#/vm/%E0%A4%A'), { name: 'library' });
  assert.deepEqual(parseHash('#/nonsense'), { name: 'library' });
});

test('links keep the query part of the hash', () => {
  assert.equal(vmHref('a b', '#/?token=t1'), '#/vm/a%20b?token=t1');
  assert.equal(vmHref('x', ''), '#/vm/x');
  assert.equal(libraryHref('#/vm/x?token=t1'), '#/?token=t1');
});

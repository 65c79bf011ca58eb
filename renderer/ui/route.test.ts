import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headFromHash, playsSound, libraryHref, parseHash, vmHref } from './route.js';

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

test('a VM window shows the head its hash names', () => {
  assert.equal(headFromHash('#/vm/x'), 0);
  assert.equal(headFromHash('#/vm/x?head=1'), 1);
  assert.equal(headFromHash('#/vm/x?token=t&head=3'), 3);
  assert.equal(headFromHash('#/vm/x?head=one'), 0);
  assert.deepEqual(parseHash('#/vm/x?head=1'), { name: 'vm', id: 'x' });
});

test("only head 0's window plays the VM's sound (one window per head in the desktop app)", () => {
  assert.equal(playsSound('#/vm/x'), true);
  assert.equal(playsSound('#/vm/x?token=t'), true);
  assert.equal(playsSound('#/vm/x?head=1'), false);
});

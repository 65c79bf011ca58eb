import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartPolicy } from './restart-policy.js';

test('backs off exponentially up to the cap, then gives up after too many crashes in the window', () => {
  const p = new RestartPolicy({ baseDelayMs: 100, maxDelayMs: 500, maxCrashes: 4, windowMs: 10_000 });
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => p.crashed(i * 10)),
    [100, 200, 400, 500, null],
  );
});

test('crashes older than the window are forgotten; reset starts afresh', () => {
  const p = new RestartPolicy({ baseDelayMs: 100, maxCrashes: 2, windowMs: 1000 });
  assert.equal(p.crashed(0), 100);
  assert.equal(p.crashed(10), 200);
  assert.equal(p.crashed(2000), 100);
  assert.equal(p.crashed(2001), 200);
  assert.equal(p.crashed(2002), null);
  p.reset();
  assert.equal(p.crashed(2003), 100);
});

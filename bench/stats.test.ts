import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuSeconds, median, parseProcStat, percentile, ratio } from './stats.js';

test('percentile interpolates between closest ranks and ignores input order', () => {
  assert.equal(percentile([3, 1, 2], 50), 2);
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([10], 99), 10);
  assert.equal(percentile([0, 100], 99), 99);
  assert.equal(percentile([5, 1, 4, 2, 3], 0), 1);
  assert.equal(percentile([5, 1, 4, 2, 3], 100), 5);
  assert.ok(Number.isNaN(median([])));
  assert.throws(() => percentile([1], 101), RangeError);
});

test('parseProcStat counts fields after the last parenthesis', () => {
  const line = '4242 (Chrome_Child) S) R 4200 4242 4200 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 9 0 100 0 0';
  const s = parseProcStat(line);
  assert.equal(s.pid, 4242);
  assert.equal(s.comm, 'Chrome_Child) S');
  assert.equal(s.state, 'R');
  assert.equal(s.ppid, 4200);
  assert.equal(s.utime, 1234);
  assert.equal(s.stime, 567);
  assert.equal(cpuSeconds(s, 100), 18.01);
  assert.throws(() => parseProcStat('garbage'));
});

test('parseProcStat reads this process', async () => {
  const { readFileSync } = await import('node:fs');
  const s = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  assert.equal(s.pid, process.pid);
  assert.ok(s.utime >= 0 && s.stime >= 0);
});

test('ratio of nothing is NaN', () => {
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.equal(ratio(3, 2), 1.5);
});

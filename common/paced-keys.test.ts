import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chordEvents, KEY_PACE_MS, sendPacedKeys, type KeyEvent } from './paced-keys.js';

const show = (e: KeyEvent) => `${e.down ? '+' : '-'}${e.qnum.toString(16)}`;

test('a chord presses in order and releases in reverse', () => {
  assert.deepEqual(chordEvents([0x1d, 0x38, 0xd3]).map(show), ['+1d', '+38', '+d3', '-d3', '-38', '-1d']);
  assert.deepEqual(chordEvents([0x1e]).map(show), ['+1e', '-1e']);
  assert.deepEqual(chordEvents([]), []);
});

test('one pause between consecutive events, none before the first or after the last', async () => {
  const log: string[] = [];
  await sendPacedKeys(chordEvents([0x2a, 0x1e]), (e) => void log.push(show(e)), { sleep: async (ms) => void log.push(`sleep ${ms}`) });
  assert.deepEqual(log, ['+2a', `sleep ${KEY_PACE_MS}`, '+1e', `sleep ${KEY_PACE_MS}`, '-1e', `sleep ${KEY_PACE_MS}`, '-2a']);
});

test('each event waits until send has settled, and the pause really passes', async () => {
  const log: string[] = [];
  let inFlight = 0;
  const started = performance.now();
  await sendPacedKeys(
    chordEvents([0x1e, 0x30]),
    async (e) => {
      assert.equal(inFlight++, 0, 'one event at a time');
      await new Promise((r) => setTimeout(r, 2));
      log.push(show(e));
      inFlight--;
    },
    { paceMs: 5 },
  );
  assert.deepEqual(log, ['+1e', '+30', '-30', '-1e']);
  assert.ok(performance.now() - started >= 3 * 5 + 4 * 2 - 1, 'three pauses and four sends took their time');
});

test('paceMs 0 sends back to back; a failing send stops the sequence', async () => {
  const sent: string[] = [];
  await sendPacedKeys(chordEvents([1, 2]), (e) => void sent.push(show(e)), { paceMs: 0, sleep: () => assert.fail('no sleep at pace 0') });
  assert.deepEqual(sent, ['+1', '+2', '-2', '-1']);
  sent.length = 0;
  await assert.rejects(
    sendPacedKeys(
      chordEvents([1, 2]),
      async (e) => {
        if (e.qnum === 2) throw new Error('QEMU went away');
        sent.push(show(e));
      },
      { paceMs: 0 },
    ),
    /QEMU went away/,
  );
  assert.deepEqual(sent, ['+1']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyNameError, parseChord, sendStrokes, textToStrokes } from './text-keys.js';

test('text maps to US-layout strokes with shift where needed', () => {
  assert.deepEqual(textToStrokes('a'), [{ qnums: [0x1e] }]);
  assert.deepEqual(textToStrokes('A'), [{ qnums: [0x2a, 0x1e] }]);
  assert.deepEqual(textToStrokes('|'), [{ qnums: [0x2a, 0x2b] }]);
  assert.deepEqual(textToStrokes('\n'), [{ qnums: [0x1c] }]);
  assert.deepEqual(textToStrokes('0 '), [{ qnums: [0x0b] }, { qnums: [0x39] }]);
});

test('untypeable characters are a clear error naming them', () => {
  assert.throws(
    () => textToStrokes('ok é'),
    (e: Error) => e instanceof KeyNameError && /"é" at position 3/.test(e.message),
  );
});

test('chords: modifiers, extended keys and function keys', () => {
  assert.deepEqual(parseChord('ctrl-alt-delete'), { qnums: [0x1d, 0x38, 0xd3] });
  assert.deepEqual(parseChord('ctrl+alt+f2'), { qnums: [0x1d, 0x38, 0x3c] });
  assert.deepEqual(parseChord('up'), { qnums: [0xc8] });
  assert.deepEqual(parseChord('NumpadEnter'), { qnums: [0x9c] });
  assert.deepEqual(parseChord('shift-minus'), { qnums: [0x2a, 0x0c] });
  assert.deepEqual(parseChord('bracketleft'), { qnums: [0x1a] });
  assert.throws(() => parseChord('ctrl-banana'), /unknown key 'banana'/);
});

test('strokes press in order and release in reverse', async () => {
  const events: string[] = [];
  await sendStrokes([parseChord('shift-a')], async (n, down) => void events.push(`${down ? '+' : '-'}${n.toString(16)}`), 0);
  assert.deepEqual(events, ['+2a', '+1e', '-1e', '-2a']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonLineDecoder, JsonLinesError } from './json-lines.js';
import { QMP_TRANSCRIPT, seededRandom } from '../qmp/qmp-fixtures.js';

const transcript = Buffer.from(QMP_TRANSCRIPT, 'utf8');
const expected = QMP_TRANSCRIPT.split('\r\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as unknown);

test('whole transcript in one chunk', () => {
  const d = new JsonLineDecoder();
  assert.deepEqual(d.push(transcript), expected);
  assert.equal(d.buffered, 0);
});

test('transcript one byte at a time (splits inside multi-byte UTF-8 too)', () => {
  const d = new JsonLineDecoder();
  const out: unknown[] = [];
  for (let i = 0; i < transcript.length; i++) out.push(...d.push(transcript.subarray(i, i + 1)));
  assert.deepEqual(out, expected);
});

test('transcript in random splits', () => {
  const rand = seededRandom(42);
  for (let round = 0; round < 300; round++) {
    const d = new JsonLineDecoder();
    const out: unknown[] = [];
    let i = 0;
    while (i < transcript.length) {
      const n = 1 + Math.floor(rand() * 64);
      // a fresh copy each time, so the decoder cannot rely on the caller's buffer staying intact
      const chunk = Buffer.from(transcript.subarray(i, i + n));
      out.push(...d.push(chunk));
      chunk.fill(0);
      i += n;
    }
    assert.deepEqual(out, expected, `round ${round}`);
  }
});

test('a line ending in "\\n" only, and blank lines, are accepted', () => {
  const d = new JsonLineDecoder();
  assert.deepEqual(d.push(Buffer.from('\r\n{"a":1}\n\n{"b":"é"}\r\n')), [{ a: 1 }, { b: 'é' }]);
});

test('an unfinished line is held until its newline', () => {
  const d = new JsonLineDecoder();
  assert.deepEqual(d.push(Buffer.from('{"return": {}, "id": "kju-1"')), []);
  assert.equal(d.buffered, 28);
  assert.deepEqual(d.push(Buffer.from('}\r\n')), [{ return: {}, id: 'kju-1' }]);
});

test('a line that is not JSON is a JsonLinesError', () => {
  const d = new JsonLineDecoder();
  assert.throws(
    () => d.push(Buffer.from('hello\r\n')),
    (e: unknown) => e instanceof JsonLinesError && /not JSON: hello/.test(e.message),
  );
});

test('a line longer than maxLine is refused, across chunks too', () => {
  const d = new JsonLineDecoder(16);
  assert.deepEqual(d.push('{"a":1}\n'), [{ a: 1 }]);
  d.push('{"b":"0123');
  assert.throws(
    () => d.push('456789"'),
    (e: unknown) => e instanceof JsonLinesError && /longer than 16/.test(e.message),
  );
});

test('a complete line longer than maxLine is refused even when it arrives in one chunk', () => {
  assert.deepEqual(new JsonLineDecoder(16).push('{"a":"0123456"}\n'), [{ a: '0123456' }]);
  assert.throws(
    () => new JsonLineDecoder(16).push('{"b":"012345678"}\n'),
    (e: unknown) => e instanceof JsonLinesError && /longer than 16/.test(e.message),
  );
});

test('string chunks decode like bytes', () => {
  const d = new JsonLineDecoder();
  assert.deepEqual([...d.push('{"t":"é'), ...d.push('"}\n')], [{ t: 'é' }]);
});

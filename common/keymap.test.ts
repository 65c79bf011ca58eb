import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CODE_TO_QNUM } from './keymap.generated.js';
import { qnumForCode, QNUM_PRINT } from './keymap.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const sourcePath = `${root}node_modules/@novnc/novnc/core/input/xtscancodes.js`;

async function sourceTable(): Promise<Record<string, number>> {
  // Imported by file URL: the package's `exports` hides this module from bare specifiers.
  const mod = (await import(pathToFileURL(sourcePath).href)) as { default: Record<string, number> };
  return mod.default;
}

test('every pair of the source table is in the generated table with the right qnum', async () => {
  const src = await sourceTable();
  const names = Object.keys(src);
  assert.ok(names.length > 150);
  for (const name of names) {
    const at = src[name];
    const want = at >= 0xe000 ? 0x80 | (at & 0x7f) : at;
    assert.ok(at < 0x80 || (at >= 0xe000 && at < 0xe080), `${name}: unexpected atset1 0x${at.toString(16)}`);
    assert.equal(CODE_TO_QNUM[name], want, name);
  }
  assert.equal(Object.keys(CODE_TO_QNUM).length, names.length);
});

test('the generated file is what the script produces now, and names its source', () => {
  const out = execFileSync('node', [`${root}scripts/gen-keymap.mjs`, '--check'], { encoding: 'utf8' });
  assert.match(out, /up to date/);
  const text = readFileSync(`${root}common/keymap.generated.ts`, 'utf8');
  assert.match(text, /xtscancodes\.js/);
  assert.match(text, /Database checksum sha256\([0-9a-f]{64}\)/);
  assert.match(text, /Regenerate: node scripts\/gen-keymap\.mjs/);
});

test('modifiers', () => {
  assert.equal(qnumForCode('ShiftLeft'), 0x2a);
  assert.equal(qnumForCode('ShiftRight'), 0x36);
  assert.equal(qnumForCode('ControlLeft'), 0x1d);
  assert.equal(qnumForCode('ControlRight'), 0x9d);
  assert.equal(qnumForCode('AltLeft'), 0x38);
  assert.equal(qnumForCode('AltRight'), 0xb8);
  assert.equal(qnumForCode('MetaLeft'), 0xdb);
  assert.equal(qnumForCode('MetaRight'), 0xdc);
  assert.equal(qnumForCode('OSLeft'), 0xdb, 'old Firefox spelling');
});

test('extended and ordinary keys', () => {
  assert.equal(qnumForCode('ArrowUp'), 0xc8);
  assert.equal(qnumForCode('ArrowDown'), 0xd0);
  assert.equal(qnumForCode('NumpadEnter'), 0x9c);
  assert.equal(qnumForCode('NumpadDivide'), 0xb5);
  assert.equal(qnumForCode('Delete'), 0xd3);
  assert.equal(qnumForCode('Enter'), 0x1c);
  assert.equal(qnumForCode('KeyA'), 0x1e);
  assert.equal(qnumForCode('Escape'), 0x01);
  assert.equal(qnumForCode('F12'), 0x58);
});

test('Pause and PrintScreen are handled deliberately', () => {
  assert.equal(qnumForCode('Pause'), 0xc6, 'Q_KEY_CODE_PAUSE: QEMU expands it to the E1 sequence');
  assert.equal(CODE_TO_QNUM.PrintScreen, 0x54, 'the source says KEY_SYSRQ');
  assert.equal(qnumForCode('PrintScreen'), QNUM_PRINT, 'kju sends Q_KEY_CODE_PRINT instead');
});

test('unknown codes have no qnum', () => {
  assert.equal(qnumForCode(''), undefined);
  assert.equal(qnumForCode('Unidentified'), undefined);
  assert.equal(qnumForCode('toString'), undefined);
  assert.equal(qnumForCode('__proto__'), undefined);
});

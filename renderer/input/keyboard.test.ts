import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InputMessage } from '../../common/contract.js';
import { KeyboardState } from './keyboard.js';
import { comboMessages, KEY_COMBOS, sendCombo } from './combos.js';

function rig() {
  const sent: InputMessage[] = [];
  let hotkeys = 0;
  const kb = new KeyboardState(
    (m) => sent.push(m),
    () => hotkeys++,
  );
  return { kb, sent, hotkeys: () => hotkeys };
}
const key = (down: boolean, qnum: number): InputMessage => ({ t: 'key', down, qnum });

test('keys are sent by code, press and release, and reported as handled', () => {
  const { kb, sent } = rig();
  assert.equal(kb.keyDown({ code: 'KeyA' }), true);
  assert.deepEqual(kb.pressed(), [0x1e]);
  assert.equal(kb.keyUp({ code: 'KeyA' }), true);
  assert.deepEqual(sent, [key(true, 0x1e), key(false, 0x1e)]);
  assert.deepEqual(kb.pressed(), []);
});

test('unmapped keys are not sent and not claimed', () => {
  const { kb, sent } = rig();
  assert.equal(kb.keyDown({ code: 'Unidentified' }), false);
  assert.equal(kb.keyUp({ code: 'Unidentified' }), false);
  assert.deepEqual(sent, []);
});

test('a release for a key the guest never saw pressed is not sent', () => {
  const { kb, sent } = rig();
  assert.equal(kb.keyUp({ code: 'KeyB' }), false);
  assert.deepEqual(sent, []);
});

test('auto-repeat resends the press, one release at the end', () => {
  const { kb, sent } = rig();
  kb.keyDown({ code: 'ArrowUp' });
  kb.keyDown({ code: 'ArrowUp', repeat: true });
  kb.keyDown({ code: 'ArrowUp', repeat: true });
  kb.keyUp({ code: 'ArrowUp' });
  assert.deepEqual(sent, [key(true, 0xc8), key(true, 0xc8), key(true, 0xc8), key(false, 0xc8)]);
});

test('releaseAll releases every held key once, then sends releaseAll', () => {
  const { kb, sent } = rig();
  kb.keyDown({ code: 'ShiftLeft' });
  kb.keyDown({ code: 'KeyQ' });
  kb.releaseAll();
  assert.deepEqual(sent, [key(true, 0x2a), key(true, 0x10), key(false, 0x2a), key(false, 0x10), { t: 'releaseAll' }]);
  kb.releaseAll();
  assert.equal(sent.length, 5, 'nothing held, nothing sent');
  kb.keyUp({ code: 'KeyQ' });
  assert.equal(sent.length, 5, 'the late keyup of a released key is dropped');
});

test('Ctrl+Alt pressed and released alone toggles the grab, in either order', () => {
  const { kb, sent, hotkeys } = rig();
  kb.keyDown({ code: 'ControlLeft' });
  kb.keyDown({ code: 'AltLeft' });
  kb.keyUp({ code: 'ControlLeft' });
  assert.equal(hotkeys(), 0, 'not until both are up');
  kb.keyUp({ code: 'AltLeft' });
  assert.equal(hotkeys(), 1);
  kb.keyDown({ code: 'AltRight' });
  kb.keyDown({ code: 'ControlRight' });
  kb.keyUp({ code: 'AltRight' });
  kb.keyUp({ code: 'ControlRight' });
  assert.equal(hotkeys(), 2);
  // the guest saw the modifiers pressed and released: harmless, and its state stays consistent
  assert.equal(sent.filter((m) => m.t === 'key' && m.down).length, 4);
  assert.equal(sent.filter((m) => m.t === 'key' && !m.down).length, 4);
});

test('Ctrl+Alt with another key in between is a chord for the guest, not the hotkey', () => {
  const { kb, hotkeys, sent } = rig();
  kb.keyDown({ code: 'ControlLeft' });
  kb.keyDown({ code: 'AltLeft' });
  kb.keyDown({ code: 'Delete' });
  kb.keyUp({ code: 'Delete' });
  kb.keyUp({ code: 'AltLeft' });
  kb.keyUp({ code: 'ControlLeft' });
  assert.equal(hotkeys(), 0);
  assert.deepEqual(sent.slice(0, 3), [key(true, 0x1d), key(true, 0x38), key(true, 0xd3)]);
});

test('Ctrl alone, Alt alone, and Ctrl+Shift+Alt do not toggle', () => {
  const { kb, hotkeys } = rig();
  kb.keyDown({ code: 'ControlLeft' });
  kb.keyUp({ code: 'ControlLeft' });
  kb.keyDown({ code: 'AltLeft' });
  kb.keyUp({ code: 'AltLeft' });
  kb.keyDown({ code: 'ControlLeft' });
  kb.keyDown({ code: 'ShiftLeft' });
  kb.keyDown({ code: 'AltLeft' });
  kb.keyUp({ code: 'AltLeft' });
  kb.keyUp({ code: 'ShiftLeft' });
  kb.keyUp({ code: 'ControlLeft' });
  assert.equal(hotkeys(), 0);
});

test('focus loss in the middle of the hotkey cancels it', () => {
  const { kb, hotkeys } = rig();
  kb.keyDown({ code: 'ControlLeft' });
  kb.keyDown({ code: 'AltLeft' });
  kb.releaseAll();
  kb.keyUp({ code: 'AltLeft' });
  kb.keyUp({ code: 'ControlLeft' });
  assert.equal(hotkeys(), 0);
});

test('combos: presses in order, releases in reverse', () => {
  const cad = KEY_COMBOS.find((c) => c.id === 'ctrl-alt-del')!;
  assert.deepEqual(comboMessages(cad), [key(true, 0x1d), key(true, 0x38), key(true, 0xd3), key(false, 0xd3), key(false, 0x38), key(false, 0x1d)]);
  const sysrq = KEY_COMBOS.find((c) => c.id === 'sysrq')!;
  assert.deepEqual(comboMessages(sysrq), [key(true, 0x38), key(true, 0xb7), key(false, 0xb7), key(false, 0x38)]);
  const f7 = KEY_COMBOS.find((c) => c.id === 'ctrl-alt-f7')!;
  assert.deepEqual(
    comboMessages(f7).map((m) => (m as { qnum: number }).qnum),
    [0x1d, 0x38, 0x41, 0x41, 0x38, 0x1d],
  );
  assert.deepEqual(comboMessages(KEY_COMBOS.find((c) => c.id === 'alt-tab')!)[1], key(true, 0x0f));
  assert.equal(KEY_COMBOS.filter((c) => c.id.startsWith('ctrl-alt-f')).length, 12);
  for (const c of KEY_COMBOS) assert.doesNotThrow(() => comboMessages(c), c.id);
});

test('combos are paced: one pause between consecutive events', async () => {
  const log: string[] = [];
  const combo = KEY_COMBOS.find((c) => c.id === 'print-screen')!;
  await sendCombo(
    combo,
    (m) => log.push(`send ${JSON.stringify(m)}`),
    async (ms) => {
      log.push(`sleep ${ms}`);
    },
    30,
  );
  assert.deepEqual(log, [`send ${JSON.stringify(key(true, 0xb7))}`, 'sleep 30', `send ${JSON.stringify(key(false, 0xb7))}`]);
});

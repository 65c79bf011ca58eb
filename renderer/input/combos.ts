// Key combinations the host would otherwise swallow, sent to the guest as paced press/release
// sequences (common/paced-keys.ts says why they are paced).
import type { InputMessage } from '../../common/contract.js';
import { qnumForCode } from '../../common/keymap.js';
import { chordEvents, KEY_PACE_MS, sendPacedKeys } from '../../common/paced-keys.js';

export interface KeyCombo {
  id: string;
  label: string;
  /** KeyboardEvent.code values, pressed in order and released in reverse */
  codes: readonly string[];
}

const fKeys: KeyCombo[] = Array.from({ length: 12 }, (_, i) => ({
  id: `ctrl-alt-f${i + 1}`,
  label: `Ctrl+Alt+F${i + 1}`,
  codes: ['ControlLeft', 'AltLeft', `F${i + 1}`],
}));

export const KEY_COMBOS: readonly KeyCombo[] = [
  { id: 'ctrl-alt-del', label: 'Ctrl+Alt+Del', codes: ['ControlLeft', 'AltLeft', 'Delete'] },
  ...fKeys,
  { id: 'alt-tab', label: 'Alt+Tab', codes: ['AltLeft', 'Tab'] },
  { id: 'print-screen', label: 'Print Screen', codes: ['PrintScreen'] },
  // QEMU's PS/2 model sends SysRq (0x54) for Print while Alt is held, as a real keyboard does.
  { id: 'sysrq', label: 'SysRq (Alt+Print Screen)', codes: ['AltLeft', 'PrintScreen'] },
];

function comboQnums(combo: KeyCombo): number[] {
  return combo.codes.map((c) => {
    const q = qnumForCode(c);
    if (q === undefined) throw new Error(`key combo ${combo.id}: ${c} has no QEMU key number`);
    return q;
  });
}

/** The key messages of a combo, in order: presses, then releases in reverse. */
export function comboMessages(combo: KeyCombo): InputMessage[] {
  return chordEvents(comboQnums(combo)).map((e): InputMessage => ({ t: 'key', down: e.down, qnum: e.qnum }));
}

/**
 * Sends a combo with a pause before each event after the first. Runs on the renderer's event loop;
 * resolves once the last release has been handed to `send`.
 */
export function sendCombo(combo: KeyCombo, send: (m: InputMessage) => void, sleep?: (ms: number) => Promise<void>, paceMs = KEY_PACE_MS): Promise<void> {
  return sendPacedKeys(chordEvents(comboQnums(combo)), (e) => send({ t: 'key', down: e.down, qnum: e.qnum }), { paceMs, sleep });
}

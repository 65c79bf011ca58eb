// Text and key-combination names → QEMU key events, for `kju type` and `kju key`.
// Typed text assumes the guest uses a US keyboard layout (as QEMU's own `sendkey` does).
import { qnumForCode } from '../../common/keymap.js';
import { CODE_TO_QNUM } from '../../common/keymap.generated.js';
import { chordEvents, KEY_PACE_MS, sendPacedKeys } from '../../common/paced-keys.js';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

export interface KeyStroke {
  /** QEMU key numbers to hold, in press order; released in reverse */
  qnums: number[];
}

export class KeyNameError extends KjuError {
  override name = 'KeyNameError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('unknown-key', message, options);
  }
}

const q = (code: string): number => {
  const n = qnumForCode(code);
  if (n === undefined) throw new KeyNameError(`no QEMU key number for ${code}`);
  return n;
};

// US layout: character → [KeyboardEvent.code, shift]
const US: Record<string, [string, boolean]> = {};
for (let i = 0; i < 26; i++) {
  const c = String.fromCharCode(97 + i);
  US[c] = [`Key${c.toUpperCase()}`, false];
  US[c.toUpperCase()] = [`Key${c.toUpperCase()}`, true];
}
'1234567890'.split('').forEach((d) => (US[d] = [`Digit${d}`, false]));
')!@#$%^&*('.split('').forEach((c, i) => (US[c] = [`Digit${i}`, true]));
const punct: [string, string, string][] = [
  ['Minus', '-', '_'],
  ['Equal', '=', '+'],
  ['BracketLeft', '[', '{'],
  ['BracketRight', ']', '}'],
  ['Backslash', '\\', '|'],
  ['Semicolon', ';', ':'],
  ['Quote', "'", '"'],
  ['Backquote', '`', '~'],
  ['Comma', ',', '<'],
  ['Period', '.', '>'],
  ['Slash', '/', '?'],
];
for (const [code, plain, shifted] of punct) {
  US[plain] = [code, false];
  US[shifted] = [code, true];
}
US[' '] = ['Space', false];
US['\n'] = ['Enter', false];
US['\t'] = ['Tab', false];

/** One stroke per character; throws KeyNameError naming the first character it cannot type. */
export function textToStrokes(text: string): KeyStroke[] {
  const shift = q('ShiftLeft');
  return [...text].map((ch, i) => {
    const entry = US[ch];
    if (!entry) throw new KeyNameError(`cannot type character ${JSON.stringify(ch)} at position ${i} (kju types with a US layout)`);
    const [code, shifted] = entry;
    return { qnums: shifted ? [shift, q(code)] : [q(code)] };
  });
}

const ALIASES: Record<string, string> = {
  ctrl: 'ControlLeft',
  control: 'ControlLeft',
  alt: 'AltLeft',
  shift: 'ShiftLeft',
  meta: 'MetaLeft',
  super: 'MetaLeft',
  win: 'MetaLeft',
  altgr: 'AltRight',
  del: 'Delete',
  delete: 'Delete',
  esc: 'Escape',
  escape: 'Escape',
  enter: 'Enter',
  ret: 'Enter',
  return: 'Enter',
  tab: 'Tab',
  space: 'Space',
  backspace: 'Backspace',
  bs: 'Backspace',
  up: 'ArrowUp',
  down: 'ArrowDown',
  left: 'ArrowLeft',
  right: 'ArrowRight',
  home: 'Home',
  end: 'End',
  pgup: 'PageUp',
  pageup: 'PageUp',
  pgdn: 'PageDown',
  pagedown: 'PageDown',
  ins: 'Insert',
  insert: 'Insert',
  print: 'PrintScreen',
  printscreen: 'PrintScreen',
  sysrq: 'PrintScreen',
  pause: 'Pause',
  menu: 'ContextMenu',
  capslock: 'CapsLock',
};

// KeyboardEvent.code names in any case: "minus", "Minus", "numpadenter", "BracketLeft"...
const CODES_BY_LOWER = new Map(Object.keys(CODE_TO_QNUM).map((c) => [c.toLowerCase(), c]));

/** "ctrl-alt-delete", "ctrl+alt+f2", "shift-tab", "a": the keys of one chord. */
export function parseChord(spec: string): KeyStroke {
  const parts = spec.split(/[-+]/).filter(Boolean);
  if (!parts.length) throw new KeyNameError(`empty key combination '${spec}'`);
  return {
    qnums: parts.map((p) => {
      const lower = p.toLowerCase();
      let code: string | undefined = ALIASES[lower];
      if (!code && /^f([1-9]|1[0-2])$/.test(lower)) code = `F${lower.slice(1)}`;
      if (!code && /^[a-z]$/.test(lower)) code = `Key${lower.toUpperCase()}`;
      if (!code && /^[0-9]$/.test(lower)) code = `Digit${lower}`;
      if (!code) code = CODES_BY_LOWER.get(lower);
      if (!code) throw new KeyNameError(`unknown key '${p}' in '${spec}' (use names like ctrl, alt, shift, delete, f1, a, Enter, or a KeyboardEvent.code)`);
      return q(code);
    }),
  };
}

/** Sends strokes' events one at a time, waiting for QEMU to take each and pausing `paceMs` between
 *  events (common/paced-keys.ts). */
export function sendStrokes(strokes: KeyStroke[], press: (qnum: number, down: boolean) => Promise<unknown>, paceMs = KEY_PACE_MS): Promise<void> {
  return sendPacedKeys(
    strokes.flatMap((s) => chordEvents(s.qnums)),
    (e) => press(e.qnum, e.down),
    { paceMs },
  );
}

// KeyboardEvent.code -> QEMU key number. The generated table is keycodemapdb's, unchanged; the few
// places where kju departs from it are here, each with its reason.
import { CODE_TO_QNUM } from './keymap.generated.js';

/** QEMU's Q_KEY_CODE_PRINT. */
export const QNUM_PRINT = 0xb7;
/** QEMU's Q_KEY_CODE_PAUSE (keycodemapdb's E0 46, unchanged). */
export const QNUM_PAUSE = 0xc6;

const OVERRIDES: Readonly<Record<string, number>> = {
  // keycodemapdb maps the browser's PrintScreen to KEY_SYSRQ (XT 0x54), which QEMU turns into
  // Q_KEY_CODE_SYSRQ, and QEMU's PS/2 set 1 table has no entry for that (the key is dropped).
  // Q_KEY_CODE_PRINT (0xb7) is what a PC keyboard's Print Screen key is: QEMU's PS/2 model sends
  // E0 2A E0 37 for it, and 0x54 (SysRq) itself when Alt is held.
  PrintScreen: QNUM_PRINT,
  // Pause stays 0xc6: QEMU's PS/2 model expands Q_KEY_CODE_PAUSE into the E1 1D 45 E1 9D C5
  // sequence on press and sends nothing on release, so press/release pairs are safe.
};

// Firefox before 118 and old Chromium spelled the Windows/Command keys OSLeft/OSRight.
const ALIASES: Readonly<Record<string, string>> = { OSLeft: 'MetaLeft', OSRight: 'MetaRight' };

/** The QEMU key number for a KeyboardEvent.code, or undefined when the key has none. */
export function qnumForCode(code: string): number | undefined {
  const c = ALIASES[code] ?? code;
  if (Object.hasOwn(OVERRIDES, c)) return OVERRIDES[c];
  return Object.hasOwn(CODE_TO_QNUM, c) ? CODE_TO_QNUM[c] : undefined;
}

// What a VM name may be: one rule for the CLI, the backend and the renderer's inline checks (pure TS).
// Names become folder names (`<Name>.kju`), so they avoid what file systems and shells trip on, and
// they must show what they say: no bidi controls or zero-width characters hiding part of a name.

/** The most characters (UTF-16 code units) a VM name may have. */
export const MAX_NAME_LENGTH = 64;

/**
 * A name is a folder name on disk (`<Name>.kju`, and `<Name> <time stamp>.kju` in the trash), and
 * file systems hold 255 bytes a file name: the name may take 200 of them in UTF-8.
 */
export const MAX_NAME_BYTES = 200;

/** Names become directory names, so they avoid characters no file system or shell likes. */
const FORBIDDEN_NAME = /[/\\:*?"<>|]/;
/** Windows device names, with or without an extension: a bundle named so cannot be copied there. */
const RESERVED_NAME = /^(con|prn|aux|nul|com[1-9\u00b9\u00b2\u00b3]|lpt[1-9\u00b9\u00b2\u00b3])(\..*)?$/i;

const codePoint = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why `s` cannot be a VM name beyond length and edges, or undefined. Names must show what they are:
 * no control characters, no invisible format characters (bidi overrides such as U+202E, which
 * make "\u202egnp.exe" read as "exe.png", zero-width spaces and joiners), no lone surrogates, NFC only.
 */
export function vmNameProblem(s: string): string | undefined {
  if (FORBIDDEN_NAME.test(s)) return 'the name contains one of / \\ : * ? " < > |';
  const control = /\p{Cc}/u.exec(s);
  if (control) return `the name contains the control character ${codePoint(control[0])}`;
  const invisible = /\p{Cf}/u.exec(s);
  if (invisible) return `the name contains the invisible formatting character ${codePoint(invisible[0])} (bidi override, zero-width or similar), which would hide what the name says`;
  if (/\p{Cs}/u.test(s)) return 'the name contains a lone UTF-16 surrogate, which is not a character';
  if (s !== s.normalize('NFC')) return 'the name is not in Unicode normal form NFC (kju stores names as NFC; retype it or let kju create it)';
  if (RESERVED_NAME.test(s)) return `"${s}" is a reserved device name on Windows; the bundle could not be copied there`;
  if (s.endsWith('.')) return 'the name ends with a dot';
  return undefined;
}

/** UTF-8 bytes of `s` (common/ has no TextEncoder type); a lone surrogate counts as U+FFFD would, 3. */
function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Why `s`, as stored (NFC), cannot be a VM name, in one line; undefined when it can. */
export function whyNotVmName(s: string): string | undefined {
  if (!s) return 'the name is empty';
  if ([...s].length > MAX_NAME_LENGTH) return `the name is longer than ${MAX_NAME_LENGTH} characters`;
  const bytes = utf8Length(s);
  if (bytes > MAX_NAME_BYTES)
    return `the name takes ${bytes} bytes on disk and a bundle's folder name holds at most ${MAX_NAME_BYTES} (a letter outside ASCII takes 2 to 4 bytes); choose a shorter name`;
  if (s !== s.trim()) return 'the name starts or ends with a space';
  if (s.startsWith('.')) return 'the name starts with a dot';
  return vmNameProblem(s);
}

/** The form a typed name is stored and compared in: NFC (both Unicode forms of "é" are one name). */
export function normalizeVmName(name: string): string {
  return name.normalize('NFC');
}

/** Names are unique in a library without regard to case or Unicode form. */
export function vmNameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** `s` quoted with control, format and surrogate code units escaped (\u202e), safe to print in a message. */
export function quoteVisibly(s: string): string {
  return `"${s.replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

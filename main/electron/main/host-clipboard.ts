// What a VM window may do with the host's clipboard in the desktop app (Electron main's `clipboard`,
// passed in): read it only while it is a focused VM window, write it only with the guest's text
// within CLIPBOARD_MAX_BYTES (the limit both front ends share). When to read and what to send is
// ClipboardShare's (renderer/display/clipboard-share.ts), the same as in the browser. Pure: no
// electron import. Main process event loop.
import { CLIPBOARD_MAX_BYTES, type Result } from '../../../common/contract.js';

export interface HostClipboard {
  readText(): string | Promise<string>;
  writeText(text: string): void | Promise<void>;
}

/** Who asks: a VM window (not the library), and whether it has the focus. */
export interface ClipboardRequester {
  vmWindow: boolean;
  focused: boolean;
}

const tooLarge = (bytes: number) => `the text is ${(bytes / 1024 / 1024).toFixed(1)} MiB; kju moves at most ${CLIPBOARD_MAX_BYTES / 1024 / 1024} MiB either way`;

export async function readHostClipboard(from: ClipboardRequester, host: HostClipboard): Promise<Result<string>> {
  if (!from.vmWindow) return { ok: false, code: 'forbidden', message: 'only a VM window may read the clipboard' };
  if (!from.focused) return { ok: false, code: 'forbidden', message: 'the clipboard is read only while the VM window has the focus' };
  const text = await host.readText();
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > CLIPBOARD_MAX_BYTES ? { ok: false, code: 'too-large', message: tooLarge(bytes) } : { ok: true, value: text };
}

export async function writeHostClipboard(from: ClipboardRequester, text: unknown, host: HostClipboard): Promise<Result<null>> {
  if (!from.vmWindow) return { ok: false, code: 'forbidden', message: 'only a VM window may write the clipboard' };
  if (typeof text !== 'string') return { ok: false, code: 'bad-args', message: 'the clipboard takes a string' };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > CLIPBOARD_MAX_BYTES) return { ok: false, code: 'too-large', message: tooLarge(bytes) };
  await host.writeText(text);
  return { ok: true, value: null };
}

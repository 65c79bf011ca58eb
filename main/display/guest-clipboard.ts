// The guest's clipboard over QEMU's org.qemu.Display1.Clipboard, on the D-Bus control connection
// (Node loop). kju calls Register/Grab/Release/Request on QEMU's object and answers QEMU's calls to
// its own object at the same path (QEMU 10 ui/dbus-clipboard.c: it calls our Register to reset
// serials, Grab/Release when the guest's agent takes or drops the clipboard, Request when the
// guest pastes what we grabbed). QEMU's clipboard carries text only (QemuClipboardType has TEXT).
import { EventEmitter } from 'node:events';
import type { DbusMessage } from '../dbus/peer-connection.js';

export const CLIPBOARD_PATH = '/org/qemu/Display1/Clipboard';
export const CLIPBOARD_IFACE = 'org.qemu.Display1.Clipboard';
const PROPS_IFACE = 'org.freedesktop.DBus.Properties';
export const TEXT_MIME = 'text/plain;charset=utf-8';
/** Largest clipboard text kju moves either way; more is refused with a message, never queued. */
export { CLIPBOARD_MAX_BYTES } from '../../common/contract.js';
import { CLIPBOARD_MAX_BYTES } from '../../common/contract.js';
/** A grab offering more MIME types than this is not a real agent's (spice-vdagent offers a handful). */
export const CLIPBOARD_MAX_MIMES = 64;
/** QEMU's own timeout for a guest answering a clipboard request is 5 s; ours covers it. */
const REQUEST_TIMEOUT_MS = 8_000;
/** selection 0 is CLIPBOARD (the one Ctrl+C/Ctrl+V use); PRIMARY and SECONDARY are not shared */
const SELECTION_CLIPBOARD = 0;

/** What the clipboard needs from the control connection (PeerConnection has it; tests fake it). */
export interface ClipboardLink {
  call(path: string, iface: string, member: string, opts?: { signature?: string; body?: unknown[]; timeoutMs?: number }): Promise<unknown[]>;
  reply(to: DbusMessage, signature?: string, body?: unknown[]): void;
  replyError(to: DbusMessage, errorName: string, text: string): void;
  on(event: 'call', cb: (m: DbusMessage) => void): unknown;
  off(event: 'call', cb: (m: DbusMessage) => void): unknown;
}

export interface GuestClipboardEvents {
  /** the guest copied text (valid UTF-8, at most CLIPBOARD_MAX_BYTES) */
  text: [text: string];
  /** something from the guest was refused; `reason` is one sentence for the user and the log */
  refused: [reason: string];
  /** the guest fetched the host's text (it pasted, or its agent took it) */
  delivered: [];
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export class ClipboardTooLargeError extends Error {
  override name = 'ClipboardTooLargeError';
}

/** The guest's clipboard broke kju's limits (size, MIME type, UTF-8); the message says how. */
export class GuestClipboardRefused extends Error {
  override name = 'GuestClipboardRefused';
}

export class GuestClipboard extends EventEmitter<GuestClipboardEvents> {
  /** the highest grab serial seen from either side; our grabs must exceed it (qemu_clipboard_check_serial) */
  private serial = 0;
  private hostText: Buffer | null = null;
  /** the guest's last text fetched here: an agent that let go (exited) leaves QEMU's clipboard empty */
  private lastGuestText: string | null = null;
  private fetching = false;
  /** a grab arrived while a request was out: ask again once it is answered */
  private fetchAgain = false;
  private closed = false;
  private readonly onCall = (m: DbusMessage) => this.handle(m);

  private constructor(
    private readonly link: ClipboardLink,
    private readonly log: (line: string) => void,
  ) {
    super();
  }

  /** Exports kju's Clipboard object and registers it with QEMU (which then calls our Register). */
  static async open(link: ClipboardLink, log: (line: string) => void): Promise<GuestClipboard> {
    const clipboard = new GuestClipboard(link, log);
    link.on('call', clipboard.onCall);
    try {
      await link.call(CLIPBOARD_PATH, CLIPBOARD_IFACE, 'Register');
    } catch (err) {
      link.off('call', clipboard.onCall);
      throw err;
    }
    return clipboard;
  }

  /**
   * Offers `text` to the guest as its clipboard (the guest fetches it when it pastes).
   * Throws ClipboardTooLargeError over CLIPBOARD_MAX_BYTES, before anything reaches QEMU.
   */
  async setHostText(text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > CLIPBOARD_MAX_BYTES) {
      throw new ClipboardTooLargeError(`the host clipboard (${mib(bytes.length)}) is larger than kju's ${mib(CLIPBOARD_MAX_BYTES)} limit; it was not shared with the guest`);
    }
    this.hostText = bytes;
    this.serial += 1;
    await this.link.call(CLIPBOARD_PATH, CLIPBOARD_IFACE, 'Grab', { signature: 'uuas', body: [SELECTION_CLIPBOARD, this.serial, [TEXT_MIME]] });
  }

  /** The host text kju offers the guest now (null when there is none or the guest's is newer). */
  get offeredText(): string | null {
    return this.hostText && this.hostText.toString('utf8');
  }

  /**
   * The VM's clipboard text now, for a one-off read (`kju clipboard get`): the guest's, asked of
   * QEMU (which keeps what the guest copied), or the host's text when kju offered the last one,
   * or the guest's last text fetched here once its agent let go; null when there is none. Throws GuestClipboardRefused past kju's limits.
   */
  async currentText(): Promise<string | null> {
    if (this.hostText) return this.hostText.toString('utf8');
    try {
      return await this.requestGuestText();
    } catch (err) {
      // QEMU 10 ui/dbus-clipboard.c answers an empty (or unowned) clipboard with this error text
      if (err instanceof Error && /Empty clipboard/i.test(err.message)) return this.lastGuestText;
      throw err;
    }
  }

  /** Stops offering the host's text and unregisters from QEMU. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.link.off('call', this.onCall);
    this.hostText = null;
    await this.link.call(CLIPBOARD_PATH, CLIPBOARD_IFACE, 'Unregister').catch(() => undefined);
  }

  private handle(m: DbusMessage): void {
    if (m.path !== CLIPBOARD_PATH) return;
    // QEMU's Register handler builds a GDBusProxy for our object synchronously, which first loads
    // its properties (GetAll, 25 s timeout): unanswered, QEMU's main loop and our Register stall.
    if (m.interface === PROPS_IFACE) {
      if (m.member === 'GetAll') return this.link.reply(m, 'a{sv}', [[]]);
      return this.link.replyError(m, 'org.freedesktop.DBus.Error.InvalidArgs', "kju's Clipboard has no properties");
    }
    if (m.interface !== CLIPBOARD_IFACE) return;
    const body = m.body ?? [];
    switch (m.member) {
      case 'Register':
        // QEMU reset its serials (a new agent connected): start again from 0.
        this.serial = 0;
        this.link.reply(m);
        // The new agent never saw host text offered before it ran (or while none ran): offer it again.
        if (this.hostText) void this.reofferHostText();
        return;
      case 'Grab': {
        const [selection, serial, mimes] = body as [unknown, unknown, unknown];
        this.link.reply(m);
        if (typeof serial === 'number' && Number.isInteger(serial)) this.serial = Math.max(this.serial, serial);
        if (selection !== SELECTION_CLIPBOARD) return;
        if (!Array.isArray(mimes)) return this.refuse('the guest clipboard agent sent a grab without a MIME type list; ignored');
        if (mimes.length > CLIPBOARD_MAX_MIMES) {
          return this.refuse(`the guest clipboard agent offered ${mimes.length} MIME types (at most ${CLIPBOARD_MAX_MIMES} are accepted); its clipboard was ignored`);
        }
        this.hostText = null;
        if (mimes.includes(TEXT_MIME)) void this.fetchGuestText();
        return;
      }
      case 'Release':
        this.link.reply(m);
        return;
      case 'Request': {
        const [selection, mimes] = body as [unknown, unknown];
        if (selection !== SELECTION_CLIPBOARD || !this.hostText) return this.link.replyError(m, 'org.qemu.Display1.Error.Failed', 'Empty clipboard');
        if (!Array.isArray(mimes) || !mimes.includes(TEXT_MIME)) return this.link.replyError(m, 'org.qemu.Display1.Error.Failed', 'Unhandled MIME types requested');
        this.link.reply(m, 'say', [TEXT_MIME, this.hostText]);
        this.emit('delivered');
        return;
      }
      default:
        this.link.replyError(m, 'org.freedesktop.DBus.Error.UnknownMethod', `kju's Clipboard has no method ${String(m.member)}`);
    }
  }

  /**
   * Grabs again with serial 0, the one right after a reset: spice-vdagent expects it, and QEMU lets a
   * grab the guest made since the reset (serial 1 and up) win over it.
   */
  private async reofferHostText(): Promise<void> {
    try {
      await this.link.call(CLIPBOARD_PATH, CLIPBOARD_IFACE, 'Grab', { signature: 'uuas', body: [SELECTION_CLIPBOARD, this.serial, [TEXT_MIME]] });
    } catch (err) {
      if (!this.closed) this.log(`clipboard: offering the host's text to the new guest agent failed: ${(err as Error).message}`);
    }
  }

  private async fetchGuestText(): Promise<void> {
    if (this.fetching) {
      this.fetchAgain = true;
      return;
    }
    this.fetching = true;
    this.fetchAgain = false;
    try {
      const text = await this.requestGuestText();
      if (this.closed) return;
      this.lastGuestText = text;
      this.emit('text', text);
    } catch (err) {
      if (!this.closed) this.refuse(err instanceof GuestClipboardRefused ? err.message : `reading the guest's clipboard failed: ${(err as Error).message}`);
    } finally {
      this.fetching = false;
      if (this.fetchAgain && !this.closed) void this.fetchGuestText();
    }
  }

  /** Asks QEMU for the guest's clipboard text; throws GuestClipboardRefused when it breaks kju's limits. */
  private async requestGuestText(): Promise<string> {
    const [mime, data] = await this.link.call(CLIPBOARD_PATH, CLIPBOARD_IFACE, 'Request', {
      signature: 'uas',
      body: [SELECTION_CLIPBOARD, [TEXT_MIME]],
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    if (mime !== TEXT_MIME) throw new GuestClipboardRefused(`the guest's clipboard came as ${JSON.stringify(String(mime)).slice(0, 80)}, not UTF-8 text; ignored`);
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.from(data as number[]) : null;
    if (!bytes) throw new GuestClipboardRefused("the guest's clipboard data was not a byte array; ignored");
    if (bytes.length > CLIPBOARD_MAX_BYTES) {
      throw new GuestClipboardRefused(`the guest's clipboard (${mib(bytes.length)}) is larger than kju's ${mib(CLIPBOARD_MAX_BYTES)} limit; it was not copied to the host`);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new GuestClipboardRefused(`the guest's clipboard (${bytes.length} bytes) is not valid UTF-8; it was not copied to the host`);
    }
    return text.endsWith('\0') ? text.slice(0, -1) : text;
  }

  private refuse(reason: string): void {
    this.log(`clipboard: ${reason}`);
    this.emit('refused', reason);
  }
}

// Clipboard sharing of one viewer (renderer main thread): off until the user turns it on; then the
// host's clipboard is read on window focus and sent to the guest when it changed, and guest text
// is written to the host's clipboard. The same for both front ends; only the clipboard differs: the
// page's async Clipboard API in the browser (needs a focused, permitted page), Electron main's
// `clipboard` through the preload (KjuBridge.clipboard).
import type { DisplayMessage, DisplayStream, TextClipboard } from '../../common/contract.js';

export interface ClipboardShareState {
  /** the VM shares its clipboard and this stream can carry it */
  available: boolean;
  shared: boolean;
  /** the last refusal or failure, one sentence */
  notice?: string;
}

export type { TextClipboard };

export class ClipboardShare {
  private state: ClipboardShareState;
  /** the text last exchanged either way: not sent back to where it came from */
  private last: string | undefined;
  /** what the user chose; the server's clipboard-state confirms it later (it handles messages in order) */
  private wanted = false;
  private readonly onFocus = () => void this.pushHostText();

  constructor(
    private readonly stream: DisplayStream,
    private readonly clipboard: TextClipboard | undefined,
    private readonly onState: (s: ClipboardShareState) => void,
    private readonly target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window,
  ) {
    this.state = { available: !!stream.sendClipboard && !!clipboard, shared: false };
    target.addEventListener('focus', this.onFocus);
  }

  get current(): ClipboardShareState {
    return this.state;
  }

  setShared(on: boolean): void {
    this.wanted = on;
    this.stream.sendClipboard?.({ t: 'clipboard-share', on });
    if (on) void this.pushHostText();
  }

  /** Handles the display stream's clipboard messages; returns false for any other message. */
  onMessage(m: DisplayMessage): boolean {
    if (m.t === 'clipboard-state') {
      // A refusal or failure means the last text did not arrive: the next focus sends it again.
      if (m.notice || !m.shared) this.last = undefined;
      this.patch({ available: m.available && !!this.stream.sendClipboard && !!this.clipboard, shared: m.shared, notice: m.notice });
      return true;
    }
    if (m.t === 'clipboard') {
      if (!this.wanted || !this.clipboard) return true;
      this.last = m.text;
      this.clipboard.writeText(m.text).catch((err: Error) => this.patch({ notice: `could not write the page's clipboard: ${err.message}` }));
      return true;
    }
    return false;
  }

  destroy(): void {
    this.target.removeEventListener('focus', this.onFocus);
  }

  private async pushHostText(): Promise<void> {
    // Off: the host's clipboard is not even read.
    if (!this.clipboard || !this.stream.sendClipboard || !this.wanted) return;
    let text: string;
    try {
      text = await this.clipboard.readText();
    } catch (err) {
      return this.patch({ notice: `could not read the page's clipboard: ${(err as Error).message}` });
    }
    if (!this.wanted) return; // turned off while reading
    if (text === '' || text === this.last) return;
    this.last = text;
    this.stream.sendClipboard({ t: 'clipboard', text });
  }

  private patch(p: Partial<ClipboardShareState>): void {
    this.state = { ...this.state, ...p };
    if (p.notice === undefined && 'notice' in p) delete this.state.notice;
    this.onState(this.state);
  }
}

// One DisplaySource shared by every browser viewing that console. Each viewer has its own
// DamageQueue and pull state, so a slow viewer only holds merged rects and never holds up the
// source or the others. All methods run on the Node event loop that owns the source.
import type { WebSocket } from 'ws';
import type { CursorShape, DisplayMessage } from '../../common/contract.js';
import { FramePump } from '../display/frame-pump.js';
import type { DisplaySource } from '../display/display-source.js';
import { CloseCode, MAX_DISPLAY_MESSAGE, parseViewerMessage, type WireDisplayMessage } from './protocol.js';

export interface FlowLimits {
  /** unsent bytes on a viewer's socket above which nothing more is queued on it (frames and messages wait) */
  softBufferBytes: number;
  /** unsent bytes beyond which the viewer is taken as not reading and closed */
  hardBufferBytes: number;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = { softBufferBytes: 1 << 20, hardBufferBytes: 64 << 20 };

export interface ViewerStats {
  vmId: string;
  console: number;
  queuedRects: number;
  pullPending: boolean;
  pendingMessages: number;
  bufferedAmount: number;
  framesSent: number;
  bytesSent: number;
  inputsSent: number;
  inputsDropped: number;
}

export interface HubEvents {
  /** a client broke the protocol and was closed */
  protocolViolation(why: string): void;
  log(line: string): void;
}

const RETRY_MS = 15;

export class DisplayHub {
  readonly viewers = new Set<DisplayViewer>();
  private ended = false;
  private readonly detach: () => void;

  constructor(
    readonly vmId: string,
    readonly console: number,
    readonly source: DisplaySource,
    private readonly limits: FlowLimits,
    private readonly events: HubEvents,
    /** called once when the hub ends (last viewer left or the source closed) */
    private readonly onEnd: () => void,
  ) {
    // Each viewer's FramePump follows the source itself; the hub only tracks what outlives viewers.
    const onClosed = (reason: string) => this.end(reason);
    source.on('closed', onClosed);
    this.detach = () => {
      source.off('closed', onClosed);
    };
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Starts streaming to `ws`: surface, cursor, input-mode now; frames on pull. */
  addViewer(ws: WebSocket): DisplayViewer {
    const v = new DisplayViewer(this, ws, this.limits, this.events);
    this.viewers.add(v);
    ws.once('close', () => this.removeViewer(v));
    v.start();
    return v;
  }

  removeViewer(v: DisplayViewer): void {
    v.dispose();
    this.viewers.delete(v);
    this.releaseIfUnused();
  }

  /** Closes the source when nobody watches: a display without viewers costs QEMU nothing. */
  releaseIfUnused(): void {
    if (this.viewers.size === 0 && !this.ended) this.end(null);
  }

  /** `reason` null: we let go of the source; a string: the source ended, tell the viewers. */
  end(reason: string | null): void {
    if (this.ended) return;
    this.ended = true;
    this.detach();
    for (const v of this.viewers) v.endWith(reason ?? 'kju serve is shutting down');
    this.viewers.clear();
    if (reason === null) this.source.close();
    this.onEnd();
  }
}

function cursorMessage(c: CursorShape): WireDisplayMessage {
  // Uint8Array does not survive JSON: the pixels travel as base64 and the browser bridge decodes them.
  return { t: 'cursor', cursor: { ...c, pixels: Buffer.from(c.pixels.buffer, c.pixels.byteOffset, c.pixels.byteLength).toString('base64') } };
}

/** One browser viewing a hub's source: a FramePump whose sink is this WebSocket. */
export class DisplayViewer {
  private readonly pump: FramePump;
  /** messages waiting for room on the socket, at most one per kind (the newest wins) */
  private readonly pending = new Map<WireDisplayMessage['t'], WireDisplayMessage>();
  private retry: NodeJS.Timeout | null = null;
  private disposed = false;
  private lastFrameBytes = 0;
  private inputsSent = 0;
  private inputsDropped = 0;
  private unshareClipboard: (() => void) | null = null;

  constructor(
    private readonly hub: DisplayHub,
    private readonly ws: WebSocket,
    private readonly limits: FlowLimits,
    private readonly events: HubEvents,
  ) {
    this.pump = new FramePump(
      hub.source,
      {
        message: (m) => (m.t === 'closed' ? this.endWith(m.reason) : this.send(m.t === 'cursor' ? cursorMessage(m.cursor) : m)),
        frame: (packet) => {
          this.lastFrameBytes = packet.byteLength;
          this.ws.send(packet, { binary: true });
        },
        ready: () => this.socketHasRoom(),
      },
    );
    ws.on('message', (data, isBinary) => {
      if (this.disposed) return;
      if (isBinary) return this.violation(CloseCode.unsupportedData, 'binary message from viewer');
      this.received(data.toString());
    });
    ws.on('error', (err) => this.events.protocolViolation(`display viewer socket error: ${err.message}`));
  }

  start(): void {
    this.pump.start();
  }

  stats(): ViewerStats {
    const p = this.pump.stats();
    return {
      vmId: this.hub.vmId,
      console: this.hub.console,
      queuedRects: p.queuedRects,
      pullPending: p.pullPending,
      pendingMessages: this.pending.size,
      bufferedAmount: this.ws.bufferedAmount,
      framesSent: p.framesSent,
      bytesSent: p.bytesSent,
      inputsSent: this.inputsSent,
      inputsDropped: this.inputsDropped,
    };
  }

  send(m: WireDisplayMessage): void {
    // A newer message of a kind makes a pending older one moot (a newer surface above all).
    this.pending.delete(m.t);
    this.pending.set(m.t, m);
    this.flush();
  }

  /** Sends a last message and closes; used when the source ends or the server shuts down. */
  endWith(reason: string): void {
    if (this.disposed) return;
    if (this.ws.readyState === this.ws.OPEN) {
      this.ws.send(JSON.stringify({ t: 'closed', reason } satisfies DisplayMessage));
      this.ws.close(CloseCode.displayEnded, reason.slice(0, 120));
    }
    this.dispose();
  }

  dispose(): void {
    this.disposed = true;
    this.pump.dispose();
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.pending.clear();
    this.unshareClipboard?.();
    this.unshareClipboard = null;
  }

  private received(text: string): void {
    // Only a clipboard message may exceed MAX_DISPLAY_MESSAGE (the socket's limit is MAX_CLIPBOARD_MESSAGE).
    if (text.length > MAX_DISPLAY_MESSAGE && !text.startsWith('{"t":"clipboard"')) return this.violation(CloseCode.tooBig, `message of ${text.length} bytes`);
    const p = parseViewerMessage(text, this.hub.source.surface);
    switch (p.kind) {
      case 'ok':
        if (p.value.t === 'pull') {
          this.pump.pull();
        } else if (p.value.t === 'refresh') {
          this.pump.refresh();
        } else if (p.value.t === 'clipboard-share') {
          this.shareClipboard(p.value.on);
        } else if (p.value.t === 'clipboard') {
          this.toGuestClipboard(p.value.text);
        } else {
          this.inputsSent++;
          this.pump.input(p.value.input);
        }
        return;
      case 'drop':
        this.inputsDropped++;
        return;
      case 'reply':
      case 'fatal':
        return this.violation(CloseCode.policyViolation, p.kind === 'fatal' ? p.why : 'unexpected message');
    }
  }

  /** Off until the viewer asks: only then does the guest's clipboard reach this page, or the page's reach the guest. */
  private shareClipboard(on: boolean): void {
    const clipboard = this.hub.source.clipboard;
    this.unshareClipboard?.();
    this.unshareClipboard = null;
    if (on && clipboard) {
      const text = (t: string) => this.send({ t: 'clipboard', text: t });
      const refused = (notice: string) => this.sendClipboardState(notice);
      clipboard.on('text', text);
      clipboard.on('refused', refused);
      this.unshareClipboard = () => {
        clipboard.off('text', text);
        clipboard.off('refused', refused);
      };
    }
    this.sendClipboardState(on && !clipboard ? "this VM does not share its clipboard (turn on 'Share clipboard' in its settings and restart it)" : undefined);
  }

  private toGuestClipboard(text: string): void {
    const clipboard = this.hub.source.clipboard;
    if (!clipboard || !this.unshareClipboard) return this.sendClipboardState('clipboard sharing is off for this viewer; the text was not sent to the guest');
    clipboard.setHostText(text).catch((err: Error) => {
      this.events.log(`display viewer of ${this.hub.vmId}: ${err.message}`);
      this.sendClipboardState(err.message);
    });
  }

  private sendClipboardState(notice?: string): void {
    this.send({ t: 'clipboard-state', available: !!this.hub.source.clipboard, shared: !!this.unshareClipboard, ...(notice ? { notice } : {}) });
  }

  private violation(code: number, why: string): void {
    this.events.protocolViolation(`display viewer of ${this.hub.vmId}:${this.hub.console} closed: ${why}`);
    this.ws.close(code, why.slice(0, 120));
    this.dispose();
  }

  /** Sends pending messages as far as the socket has room, then lets the pump send a pulled frame. */
  private flush(): void {
    if (this.disposed || this.ws.readyState !== this.ws.OPEN) return;
    for (const [t, m] of this.pending) {
      if (!this.socketHasRoom()) return;
      this.pending.delete(t);
      this.ws.send(JSON.stringify(m));
    }
    this.pump.flush();
  }

  /** false (and a retry scheduled) while the socket holds more than the soft limit. */
  private socketHasRoom(): boolean {
    if (this.disposed || this.ws.readyState !== this.ws.OPEN) return false;
    // One frame may legitimately sit in the buffer on top of the limit (a full 8K frame is 130 MB).
    if (this.ws.bufferedAmount > this.limits.hardBufferBytes + this.lastFrameBytes) {
      this.violation(CloseCode.policyViolation, 'viewer is not reading its socket');
      return false;
    }
    if (this.ws.bufferedAmount <= this.limits.softBufferBytes) return true;
    this.scheduleFlush();
    return false;
  }

  private scheduleFlush(): void {
    if (this.retry || this.disposed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.flush();
    }, RETRY_MS);
  }
}

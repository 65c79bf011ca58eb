// One DisplaySource shared by every browser viewing that console. Each viewer has its own
// DamageQueue and pull state, so a slow viewer only holds merged rects and never holds up the
// source or the others. All methods run on the Node event loop that owns the source.
import type { WebSocket } from 'ws';
import type { CursorShape, DisplayMessage } from '../../common/contract.js';
import { ViewerEndpoint } from '../display/viewer-endpoint.js';
import type { DisplaySource } from '../display/display-source.js';
import type { GuestClipboard } from '../display/guest-clipboard.js';
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
    /** the VM's clipboard when it shares it (one per VM: every head's viewers get the same) */
    readonly clipboard?: GuestClipboard,
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

/** One browser viewing a hub's source: a ViewerEndpoint whose transport is this WebSocket. */
export class DisplayViewer {
  private readonly endpoint: ViewerEndpoint;
  /** messages waiting for room on the socket, at most one per kind (the newest wins) */
  private readonly pending = new Map<WireDisplayMessage['t'], WireDisplayMessage>();
  private retry: NodeJS.Timeout | null = null;
  private disposed = false;
  private lastFrameBytes = 0;

  constructor(
    private readonly hub: DisplayHub,
    private readonly ws: WebSocket,
    private readonly limits: FlowLimits,
    private readonly events: HubEvents,
  ) {
    this.endpoint = new ViewerEndpoint(
      hub.source,
      {
        message: (m) => (m.t === 'closed' ? this.endWith(m.reason) : this.send(m.t === 'cursor' ? cursorMessage(m.cursor) : m)),
        frame: (packet) => {
          this.lastFrameBytes = packet.byteLength;
          this.ws.send(packet, { binary: true });
        },
        ready: () => this.socketHasRoom(),
        log: (line) => this.events.log(`display viewer of ${this.hub.vmId}: ${line}`),
      },
      { clipboard: hub.clipboard },
    );
    ws.on('message', (data, isBinary) => {
      if (this.disposed) return;
      if (isBinary) return this.violation(CloseCode.unsupportedData, 'binary message from viewer');
      this.received(data.toString());
    });
    ws.on('error', (err) => this.events.protocolViolation(`display viewer socket error: ${err.message}`));
  }

  start(): void {
    this.endpoint.start();
  }

  stats(): ViewerStats {
    const p = this.endpoint.stats();
    return {
      vmId: this.hub.vmId,
      console: this.hub.console,
      queuedRects: p.queuedRects,
      pullPending: p.pullPending,
      pendingMessages: this.pending.size,
      bufferedAmount: this.ws.bufferedAmount,
      framesSent: p.framesSent,
      bytesSent: p.bytesSent,
      inputsSent: p.inputsSent,
      inputsDropped: p.inputsDropped,
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
    this.endpoint.dispose();
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.pending.clear();
  }

  private received(text: string): void {
    // Only a clipboard message may exceed MAX_DISPLAY_MESSAGE (the socket's limit is MAX_CLIPBOARD_MESSAGE).
    if (text.length > MAX_DISPLAY_MESSAGE && !text.startsWith('{"t":"clipboard"')) return this.violation(CloseCode.tooBig, `message of ${text.length} bytes`);
    const why = this.endpoint.receive(parseViewerMessage(text, this.hub.source.surface));
    if (why) this.violation(CloseCode.policyViolation, why);
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
    this.endpoint.flush();
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

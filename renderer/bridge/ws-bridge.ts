// The browser's KjuBridge when the UI is served by `kju serve`: backend calls and VM list pushes over
// /ws/backend, each display over its own /ws/display socket. Protocol: main/serve/protocol.ts.
// Runs on the page's main thread; DOM APIs only.
import type {
  AudioMessage,
  AudioStream,
  DisplayMessage,
  DisplayStream,
  Failure,
  BackendArgs,
  BackendMethod,
  BackendValue,
  InputMessage,
  KjuBridge,
  OperationProgress,
  Result,
  VmSummary,
  ViewerMessage,
} from '../../common/contract.js';
import type { KjuErrorCode } from '../../common/errors.js';
import { DisplayEventQueue } from '../../common/display-event-queue.js';
import { serveProtocols } from '../../common/serve-auth.js';
import { takeTokenFromUrl } from './page-token.js';

export interface WsBridgeOptions {
  /** the serve origin, e.g. http://127.0.0.1:8080; default: the page's own */
  url?: string;
  /** default: the page URL's `#token=` (taken out of the address bar), else the one this tab kept */
  token?: string;
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 15_000;

function pageLocation(): Location | null {
  return typeof location === 'undefined' ? null : location;
}

function socketUrl(base: URL, path: string, params: Record<string, string> = {}): string {
  const u = new URL(path, base);
  u.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  u.hash = '';
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.href;
}

const TOKEN_KEY = 'kju.serve.token';

/**
 * The page's token: taken from its URL once (then removed from the address bar and history) and
 * kept in sessionStorage, which is per tab and per origin (port included), so a reload still works.
 */
export function pageToken(): string | null {
  const loc = pageLocation();
  if (!loc) return null;
  const { token, strippedHref } = takeTokenFromUrl(loc.href);
  if (token) {
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // storage disabled: the token lives only as long as this page
    }
    if (strippedHref !== loc.href) history.replaceState(history.state, '', strippedHref);
    return token;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Failure as data, matching the host's Result shape. */
const fail = (code: KjuErrorCode, message: string): Failure => ({ ok: false, code, message });

class BackendSocket {
  private ws: WebSocket | null = null;
  private opening: Promise<WebSocket | null> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (r: Result<unknown>) => void>();
  readonly vmListeners = new Set<(vms: VmSummary[]) => void>();
  readonly progressListeners = new Set<(p: OperationProgress) => void>();
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly url: string,
    private readonly protocols: string[],
  ) {}

  /** The open socket, or null when the server cannot be reached. */
  connect(): Promise<WebSocket | null> {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return Promise.resolve(this.ws);
    if (this.opening) return this.opening;
    this.opening = new Promise((resolve) => {
      const ws = new WebSocket(this.url, this.protocols);
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.ws = ws;
        this.opening = null;
        this.reconnectDelay = RECONNECT_MIN_MS;
        resolve(ws);
      };
      ws.onmessage = (e) => this.received(e.data);
      ws.onclose = () => {
        if (!opened) {
          this.opening = null;
          resolve(null);
        }
        if (this.ws === ws) this.ws = null;
        for (const done of this.pending.values()) done(fail('connection-closed', 'the connection to kju serve was lost; try again'));
        this.pending.clear();
        this.scheduleReconnect();
      };
    });
    return this.opening;
  }

  async call(method: string, args: unknown): Promise<Result<unknown>> {
    const ws = await this.connect();
    if (!ws) return fail('unreachable', `cannot reach kju serve at ${this.url} (or it refused this page's token); is it still running?`);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, args }));
    });
  }

  private received(data: unknown): void {
    if (typeof data !== 'string') return;
    let m: unknown;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof m !== 'object' || m === null) return;
    const msg = m as { id?: unknown; result?: Result<unknown>; t?: unknown; vms?: VmSummary[] };
    const p = m as { t?: unknown; opId?: unknown; percent?: unknown };
    if (p.t === 'progress' && typeof p.opId === 'string' && typeof p.percent === 'number') {
      for (const cb of this.progressListeners) cb({ opId: p.opId, percent: p.percent });
      return;
    }
    if (msg.t === 'vms' && Array.isArray(msg.vms)) {
      for (const cb of this.vmListeners) cb(msg.vms);
      return;
    }
    if (typeof msg.id === 'number' && msg.result) {
      const done = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      done?.(msg.result);
    }
  }

  /** Only VM list subscribers need a standing connection; calls reconnect on demand. */
  private scheduleReconnect(): void {
    if (!this.vmListeners.size || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  stopIfUnused(): void {
    if (this.vmListeners.size) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}

type StreamEvent = { kind: 'message'; m: DisplayMessage } | { kind: 'frame'; packet: ArrayBuffer };

/** A display over one WebSocket. Events wait in order until their callback is registered. */
class WsDisplayStream implements DisplayStream {
  private readonly events = new DisplayEventQueue();
  private closedSent = false;

  constructor(private readonly ws: WebSocket) {}

  push(e: StreamEvent): void {
    if (e.kind === 'message' && e.m.t === 'closed') {
      if (this.closedSent) return;
      this.closedSent = true;
    }
    if (e.kind === 'message') this.events.message(e.m);
    else this.events.frame(e.packet);
  }

  onMessage(cb: (m: DisplayMessage) => void): void {
    this.events.onMessage(cb);
  }

  onFrame(cb: (packet: ArrayBuffer) => void): void {
    this.events.onFrame(cb);
  }

  pull(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send('{"t":"pull"}');
  }

  sendInput(input: InputMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ t: 'input', input }));
  }

  refresh(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send('{"t":"refresh"}');
  }

  sendClipboard(m: Extract<ViewerMessage, { t: 'clipboard' | 'clipboard-share' }>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  close(): void {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, 'closed by viewer');
  }
}

/** Cursor pixels arrive as base64 (JSON has no bytes); everything else is as the contract says. */
function fromWire(m: DisplayMessage): DisplayMessage {
  if (m.t !== 'cursor') return m;
  const wire = m.cursor.pixels as unknown;
  if (typeof wire !== 'string') return m;
  const bin = atob(wire);
  const pixels = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) pixels[i] = bin.charCodeAt(i);
  return { t: 'cursor', cursor: { ...m.cursor, pixels } };
}

function closeReason(e: CloseEvent): string {
  if (e.reason) return e.reason;
  if (e.code === 1000) return 'the display was closed';
  if (e.code === 1006) return 'the connection to kju serve was lost';
  return `the display connection closed (code ${e.code})`;
}

export function createWsBridge(opts: WsBridgeOptions = {}): KjuBridge {
  const loc = pageLocation();
  const base = new URL(opts.url ?? loc?.href ?? 'http://127.0.0.1/');
  const token = opts.token ?? pageToken();
  const protocols = token ? serveProtocols(token) : [];
  const backend = new BackendSocket(socketUrl(base, '/ws/backend'), protocols);

  return {
    kind: 'browser',

    call<M extends BackendMethod>(method: M, args: BackendArgs<M>): Promise<Result<BackendValue<M>>> {
      return backend.call(method, args) as Promise<Result<BackendValue<M>>>;
    },

    openDisplay(vmId: string, console = 0): Promise<Result<DisplayStream>> {
      return new Promise((resolve) => {
        const ws = new WebSocket(socketUrl(base, '/ws/display', { vm: vmId, console: String(console) }), protocols);
        ws.binaryType = 'arraybuffer';
        const stream = new WsDisplayStream(ws);
        let settled = false;
        ws.onmessage = (e: MessageEvent) => {
          if (e.data instanceof ArrayBuffer) {
            if (settled) stream.push({ kind: 'frame', packet: e.data });
            return;
          }
          let m: DisplayMessage;
          try {
            m = fromWire(JSON.parse(String(e.data)) as DisplayMessage);
          } catch {
            return;
          }
          if (!settled) {
            // The server always sends input-mode on connect; the first message says whether the display opened.
            settled = true;
            if (m.t === 'closed') return resolve(fail('display-unavailable', m.reason));
            resolve({ ok: true, value: stream });
          }
          stream.push({ kind: 'message', m });
        };
        ws.onclose = (e: CloseEvent) => {
          if (!settled) {
            settled = true;
            resolve(fail('connection-closed', `cannot open the display of ${vmId}: ${closeReason(e)}`));
            return;
          }
          stream.push({ kind: 'message', m: { t: 'closed', reason: closeReason(e) } });
        };
      });
    },

    openAudio(vmId: string): Promise<Result<AudioStream>> {
      return new Promise((resolve) => {
        const ws = new WebSocket(socketUrl(base, '/ws/audio', { vm: vmId }), protocols);
        ws.binaryType = 'arraybuffer';
        const onMessage: ((m: AudioMessage) => void)[] = [];
        const onPcm: ((p: ArrayBuffer) => void)[] = [];
        let ended = false;
        const end = (reason: string) => {
          if (ended) return;
          ended = true;
          for (const cb of onMessage) cb({ t: 'closed', reason });
        };
        ws.onopen = () =>
          resolve({
            ok: true,
            value: {
              onMessage: (cb) => void onMessage.push(cb),
              onPcm: (cb) => void onPcm.push(cb),
              close: () => ws.close(1000),
            },
          });
        ws.onmessage = (e: MessageEvent) => {
          if (e.data instanceof ArrayBuffer) {
            for (const cb of onPcm) cb(e.data);
            return;
          }
          let m: AudioMessage;
          try {
            m = JSON.parse(String(e.data)) as AudioMessage;
          } catch {
            return;
          }
          if (m.t === 'closed') return end(m.reason);
          for (const cb of onMessage) cb(m);
        };
        ws.onclose = (e: CloseEvent) => {
          if (ws.readyState !== ws.CLOSED || ended) return;
          end(closeReason(e));
          resolve(fail('connection-closed', `cannot open the sound of ${vmId}: ${closeReason(e)}`));
        };
      });
    },

    onProgress(cb: (p: OperationProgress) => void): () => void {
      // Progress rides on the backend socket that carries the call itself; no standing connection needed.
      backend.progressListeners.add(cb);
      return () => void backend.progressListeners.delete(cb);
    },

    onVmsChanged(cb: (vms: VmSummary[]) => void): () => void {
      backend.vmListeners.add(cb);
      void backend.connect();
      return () => {
        backend.vmListeners.delete(cb);
        backend.stopIfUnused();
      };
    },
  };
}

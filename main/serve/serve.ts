// `kju serve`: the renderer's page and its WebSocket bridge over HTTP, so a browser on another
// machine can list, start and view VMs. The protocol is described in ./protocol.ts. Everything
// runs on the Node event loop of the caller.
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Result, VmSummary } from '../../common/contract.js';
import { checkTokenFormat, exposureWarning, generateToken, handshakeHasToken, originAllowed } from './auth.js';
import { SERVE_PROTOCOL } from '../../common/serve-auth.js';
import { relayAudio } from './audio-relay.js';
import { DEFAULT_FLOW_LIMITS, DisplayHub, type FlowLimits, type ViewerStats } from './display-hub.js';
import {
  CloseCode,
  BACKEND_PATH,
  DISPLAY_PATH,
  AUDIO_PATH,
  MAX_BACKEND_BUFFERED,
  MAX_BACKEND_MESSAGE,
  MAX_BACKEND_PENDING,
  MAX_CLIPBOARD_MESSAGE,
  MAX_DISPLAY_MESSAGE,
  parseBackendRequest,
  parseDisplayTarget,
  type BackendServerMessage,
} from './protocol.js';
import type { ServeBackend } from '../backend/backend.js';
import { toFailure } from '../backend/failure.js';
import { securityHeaders, serveStatic } from './static-files.js';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

export interface ServeOptions {
  backend: ServeBackend;
  /** default 127.0.0.1; anything else is reachable from other machines (see `warning`) */
  host?: string;
  /** default 0: a free port */
  port?: number;
  /** default: 32 random bytes, base64url, new for every start */
  token?: string;
  /** folder with index.html and its assets; default: the built renderer (app/out/renderer) */
  staticDir?: string;
  /** one line per notable event (refused clients, protocol violations); default: stderr */
  log?: (line: string) => void;
  flowLimits?: Partial<FlowLimits>;
  /** the host folders whose files the backend lets a browser use; named in `warning` */
  fileRoots?: readonly string[];
}

export interface ServeStats {
  /** WebSocket upgrades refused (token, origin, path, bad display target) */
  upgradesRefused: number;
  /** clients closed for breaking the protocol (bad JSON, bad input, binary, oversize, not reading) */
  protocolViolations: number;
  backendClients: number;
  displayViewers: number;
  openDisplays: number;
}

export interface ServeHandle {
  /** the URL to open; the token rides in the fragment (`#token=`), which browsers never send */
  url: string;
  /** http://host:port as browsers see it */
  origin: string;
  host: string;
  port: number;
  token: string;
  /** set when the listening address is reachable from other machines; print it */
  warning: string | null;
  stats(): ServeStats;
  viewers(): ViewerStats[];
  /** Closes every client and display, then the listening socket. */
  close(): Promise<void>;
}

export class ServeError extends KjuError {
  override name = 'ServeError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('serve-failed', message, options);
  }
}

/** The built renderer next to the bundle (app/out/renderer), or app/out/renderer of the checkout when run from source. */
export function defaultStaticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const bundled = join(here, 'renderer');
  if (existsSync(join(bundled, 'index.html'))) return bundled;
  return resolve(here, '../../app/out/renderer');
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Refuses a WebSocket upgrade with a plain HTTP answer (browsers only see that it failed). */
function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.on('error', () => {});
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export async function startServe(opts: ServeOptions): Promise<ServeHandle> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? generateToken();
  const tokenProblem = checkTokenFormat(token);
  if (tokenProblem) throw new ServeError(tokenProblem);
  const staticDir = resolve(opts.staticDir ?? defaultStaticDir());
  const log = opts.log ?? ((line: string) => process.stderr.write(`kju serve: ${line}\n`));
  const limits: FlowLimits = { ...DEFAULT_FLOW_LIMITS, ...opts.flowLimits };
  const backend = opts.backend;
  let port = 0;

  const stats = { upgradesRefused: 0, protocolViolations: 0 };
  const backendClients = new Set<WebSocket>();
  /** calls of each backend client whose reply has not been sent yet */
  const backendPending = new Map<WebSocket, number>();
  const hubs = new Map<string, Promise<DisplayHub | string>>();
  const openHubs = new Set<DisplayHub>();
  const hubEvents = {
    protocolViolation: (why: string) => {
      stats.protocolViolations++;
      log(why);
    },
    log,
  };

  const server = createServer((req, res) => void handleHttp(req, res));
  // The token was checked before handleUpgrade; the answer names only the fixed protocol, never the token.
  const handleProtocols = () => SERVE_PROTOCOL;
  const wssBackend = new WebSocketServer({ noServer: true, maxPayload: MAX_BACKEND_MESSAGE, handleProtocols });
  const wssDisplay = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIPBOARD_MESSAGE, handleProtocols });
  // the page sends nothing on the audio socket but its opening; the display's small-message limit is plenty
  const wssAudio = new WebSocketServer({ noServer: true, maxPayload: MAX_DISPLAY_MESSAGE, handleProtocols });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers = securityHeaders(req.headers.host);
    const url = new URL(req.url ?? '/', 'http://kju.invalid');
    // No token here: the files hold no secrets, and a cookie would travel to every port of this host.
    await serveStatic(req, res, staticDir, url.pathname, headers);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://kju.invalid');
    const refuse = (status: number, why: string) => {
      stats.upgradesRefused++;
      log(`refused a WebSocket from ${req.socket.remoteAddress ?? '?'}: ${why}`);
      refuseUpgrade(socket, status, why);
    };
    if (url.pathname !== BACKEND_PATH && url.pathname !== DISPLAY_PATH && url.pathname !== AUDIO_PATH) return refuse(404, 'no such socket');
    if (!handshakeHasToken(req.headers, token)) return refuse(401, 'missing or wrong token');
    if (!originAllowed(req.headers)) return refuse(403, 'Origin does not match this server');
    if (url.pathname === BACKEND_PATH) {
      wssBackend.handleUpgrade(req, socket, head, (ws) => acceptBackend(ws));
      return;
    }
    if (url.pathname === AUDIO_PATH) {
      const target = parseDisplayTarget(url.searchParams);
      if (!target) return refuse(400, 'audio socket needs ?vm=<id>');
      void acceptAudio(req, socket, head, target.vmId);
      return;
    }
    const target = parseDisplayTarget(url.searchParams);
    if (!target) return refuse(400, 'display socket needs ?vm=<id>&console=<n>');
    void acceptDisplay(req, socket, head, target.vmId, target.console);
  }

  /** Closes a backend client that lets replies pile up; true when it was closed. */
  function closeIfBehind(ws: WebSocket, pending: number): boolean {
    if (ws.readyState !== ws.OPEN) return true;
    if (pending <= MAX_BACKEND_PENDING && ws.bufferedAmount <= MAX_BACKEND_BUFFERED) return false;
    const why = pending > MAX_BACKEND_PENDING ? `more than ${MAX_BACKEND_PENDING} calls in flight` : `not reading its replies (${ws.bufferedAmount} bytes waiting)`;
    hubEvents.protocolViolation(`backend client closed: ${why}`);
    ws.close(CloseCode.policyViolation, why);
    // A client that does not read will not answer the close either; drop what it never read.
    setTimeout(() => ws.terminate(), 5000).unref();
    return true;
  }

  function acceptBackend(ws: WebSocket): void {
    backendClients.add(ws);
    backendPending.set(ws, 0);
    ws.on('close', () => {
      backendClients.delete(ws);
      backendPending.delete(ws);
    });
    ws.on('error', (err) => hubEvents.protocolViolation(`backend socket error: ${err.message}`));
    const reply = (m: BackendServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
      closeIfBehind(ws, backendPending.get(ws) ?? 0);
    };
    ws.on('message', (data, isBinary) => {
      if (closeIfBehind(ws, backendPending.get(ws) ?? 0)) return;
      if (isBinary) {
        hubEvents.protocolViolation('backend client closed: binary message');
        return ws.close(CloseCode.unsupportedData, 'binary message');
      }
      const p = parseBackendRequest(data.toString());
      if (p.kind === 'fatal' || p.kind === 'drop') {
        hubEvents.protocolViolation(`backend client closed: ${p.why}`);
        return ws.close(CloseCode.policyViolation, p.why.slice(0, 120));
      }
      if (p.kind === 'reply') return reply({ id: p.id, result: p.result });
      const { id, method, args } = p.value;
      const settled = () => {
        const n = backendPending.get(ws);
        if (n !== undefined) backendPending.set(ws, n - 1);
      };
      backendPending.set(ws, (backendPending.get(ws) ?? 0) + 1);
      // The union of requests does not narrow `call`'s generic; each method's args were checked in parseBackendRequest.
      (backend.call as (m: string, a: unknown) => Promise<unknown>)(method, args).then(
        (result) => (settled(), reply({ id, result: result as Result<unknown> })),
        (err: unknown) => (settled(), reply({ id, result: toFailure(err, undefined, log) })),
      );
    });
  }

  const pushToBackendClients = (m: BackendServerMessage) => {
    const text = JSON.stringify(m);
    for (const ws of backendClients) {
      if (ws.readyState === ws.OPEN) ws.send(text);
      closeIfBehind(ws, backendPending.get(ws) ?? 0);
    }
  };
  const unsubscribeVms = backend.onVmsChanged((vms: VmSummary[]) => pushToBackendClients({ t: 'vms', vms }));
  const unsubscribeProgress = backend.onProgress?.((p) => pushToBackendClients({ t: 'progress', opId: p.opId, percent: p.percent })) ?? (() => {});

  /** One hub per (vm, console), opened by the first viewer; a string is why it could not open. */
  function hubFor(vmId: string, consoleNo: number): Promise<DisplayHub | string> {
    const key = JSON.stringify([vmId, consoleNo]);
    let p = hubs.get(key);
    if (!p) {
      p = backend.openDisplay(vmId, consoleNo).then(
        (r) => {
          if (!r.ok) {
            hubs.delete(key);
            return r.message;
          }
          const hub = new DisplayHub(vmId, consoleNo, r.value, limits, hubEvents, () => {
            hubs.delete(key);
            openHubs.delete(hub);
          });
          openHubs.add(hub);
          return hub;
        },
        (err: unknown) => {
          hubs.delete(key);
          return err instanceof Error ? err.message : String(err);
        },
      );
      hubs.set(key, p);
    }
    return p;
  }

  async function acceptAudio(req: IncomingMessage, socket: Duplex, head: Buffer, vmId: string): Promise<void> {
    const r = backend.openAudio ? await backend.openAudio(vmId).catch((err: unknown) => toFailure(err, 'openAudio', log)) : { ok: false as const, code: 'unavailable', message: 'this backend has no sound' };
    wssAudio.handleUpgrade(req, socket, head, (ws) => {
      if (!r.ok) {
        ws.send(JSON.stringify({ t: 'closed', reason: r.message }));
        ws.close(CloseCode.displayUnavailable, r.message.slice(0, 120));
        return;
      }
      relayAudio(r.value, ws, log);
    });
    if (r.ok && socket.destroyed) r.value.close();
  }

  async function acceptDisplay(req: IncomingMessage, socket: Duplex, head: Buffer, vmId: string, consoleNo: number): Promise<void> {
    const hub = await hubFor(vmId, consoleNo);
    wssDisplay.handleUpgrade(req, socket, head, (ws) => {
      if (typeof hub === 'string' || hub.isEnded) {
        const reason = typeof hub === 'string' ? hub : 'the display has ended';
        ws.send(JSON.stringify({ t: 'closed', reason }));
        ws.close(CloseCode.displayUnavailable, reason.slice(0, 120));
        return;
      }
      hub.addViewer(ws);
    });
    // handleUpgrade gives up silently on a socket that died while the display opened.
    if (typeof hub !== 'string') queueMicrotask(() => hub.releaseIfUnused());
  }

  server.on('upgrade', handleUpgrade);
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(new ServeError(err.code === 'EADDRINUSE' ? `port ${opts.port} on ${host} is in use: pick another with --port` : `cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`, { cause: err })),
    );
    server.listen(opts.port ?? 0, host, () => ok());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const origin = `http://${urlHost(shownHost)}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    host,
    port,
    token,
    warning: exposureWarning(host, opts.fileRoots),
    stats: () => ({
      ...stats,
      backendClients: backendClients.size,
      displayViewers: [...openHubs].reduce((n, h) => n + h.viewers.size, 0),
      openDisplays: openHubs.size,
    }),
    viewers: () => [...openHubs].flatMap((h) => [...h.viewers].map((v) => v.stats())),
    close: () =>
      (closing ??= (async () => {
        unsubscribeVms();
        unsubscribeProgress();
        for (const hub of [...openHubs]) hub.end(null);
        for (const ws of backendClients) ws.close(1001, 'kju serve is shutting down');
        // Give close frames a moment to leave, then cut what remains: server.close waits for every socket.
        await new Promise((ok) => setTimeout(ok, 50));
        for (const ws of [...wssBackend.clients, ...wssDisplay.clients, ...wssAudio.clients]) ws.terminate();
        await new Promise<void>((ok) => {
          server.close(() => ok());
          server.closeAllConnections();
        });
      })()),
  };
}

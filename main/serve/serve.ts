// `kju serve`: the renderer's page and its WebSocket bridge over HTTP, so a browser on another
// machine can list, start and view VMs. The protocol is described in ./protocol.ts. Everything
// runs on the Node event loop of the caller.
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { checkTokenFormat, exposureWarning, generateToken, handshakeHasToken, originAllowed } from './auth.js';
import { SERVE_PROTOCOL } from '../../common/serve-auth.js';
import { BackendSockets } from './backend-sockets.js';
import { DEFAULT_FLOW_LIMITS, type FlowLimits, type ViewerStats } from './display-hub.js';
import { BACKEND_PATH, DISPLAY_PATH, AUDIO_PATH, MAX_BACKEND_MESSAGE, parseDisplayTarget } from './protocol.js';
import type { ServeBackend } from '../backend/backend.js';
import { ViewerSockets } from './viewer-sockets.js';
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
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
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

  const stats = { upgradesRefused: 0, protocolViolations: 0 };
  const events = {
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
  const backendSockets = new BackendSockets(backend, events);
  const viewerSockets = new ViewerSockets(backend, limits, events, handleProtocols);

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
      wssBackend.handleUpgrade(req, socket, head, (ws) => backendSockets.accept(ws));
      return;
    }
    if (url.pathname === AUDIO_PATH) {
      const target = parseDisplayTarget(url.searchParams);
      if (!target) return refuse(400, 'audio socket needs ?vm=<id>');
      void viewerSockets.acceptAudio(req, socket, head, target.vmId);
      return;
    }
    const target = parseDisplayTarget(url.searchParams);
    if (!target) return refuse(400, 'display socket needs ?vm=<id>&console=<n>');
    void viewerSockets.acceptDisplay(req, socket, head, target.vmId, target.console);
  }

  server.on('upgrade', handleUpgrade);
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        new ServeError(err.code === 'EADDRINUSE' ? `port ${opts.port} on ${host} is in use: pick another with --port` : `cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`, { cause: err }),
      ),
    );
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
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
      backendClients: backendSockets.size,
      displayViewers: viewerSockets.viewerCount,
      openDisplays: viewerSockets.displayCount,
    }),
    viewers: () => viewerSockets.viewers(),
    close: () =>
      (closing ??= (async () => {
        backendSockets.close();
        viewerSockets.close();
        // Give close frames a moment to leave, then cut what remains: server.close waits for every socket.
        await new Promise((ok) => setTimeout(ok, 50));
        for (const ws of wssBackend.clients) ws.terminate();
        viewerSockets.terminate();
        await new Promise<void>((ok) => {
          server.close(() => ok());
          server.closeAllConnections();
        });
      })()),
  };
}

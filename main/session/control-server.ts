// Serves kju.sock for the VM this process hosts. Socket mode 0600 inside a 0700 directory.
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { CONTROL_METHODS, LineSplitter, type ControlApi, type ControlMethod, type ControlReply, type ControlRequest, type LifecycleControlApi } from './control-protocol.js';

export type ControlHandlers = { [M in ControlMethod]: (params: ControlApi[M]['params']) => Promise<ControlApi[M]['value']> };
/** Optional methods a host may serve (see LifecycleControlApi). */
export type ExtraControlHandlers = { [M in keyof LifecycleControlApi]?: (params: LifecycleControlApi[M]['params']) => Promise<LifecycleControlApi[M]['value']> };

export class ControlError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export interface ControlServer {
  readonly server: Server;
  /** Resolves once every request received so far has its reply written out. */
  drain(): Promise<void>;
  close(): void;
}

export async function startControlServer(path: string, handlers: ControlHandlers, extra: ExtraControlHandlers = {}): Promise<ControlServer> {
  try {
    unlinkSync(path); // a stale socket from a host that died
  } catch {
    /* none */
  }
  let inFlight = 0;
  let idle: (() => void)[] = [];
  const track = {
    begin: () => void inFlight++,
    end: () => {
      if (--inFlight > 0) return;
      for (const f of idle) f();
      idle = [];
    },
  };
  const server = createServer((sock) => serveClient(sock, handlers, extra, track));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  server.unref();
  return {
    server,
    drain: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
    close: () => server.close(),
  };
}

function serveClient(sock: Socket, handlers: ControlHandlers, extra: ExtraControlHandlers, track: { begin(): void; end(): void }): void {
  const lines = new LineSplitter();
  sock.setEncoding('utf8');
  sock.on('error', () => {});
  sock.on('data', (chunk: string) => {
    let reqs: string[];
    try {
      reqs = lines.push(chunk);
    } catch {
      sock.destroy();
      return;
    }
    for (const line of reqs) void handle(line);
  });
  async function handle(line: string): Promise<void> {
    track.begin();
    try {
      await handleTracked(line);
    } finally {
      track.end();
    }
  }
  async function handleTracked(line: string): Promise<void> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
      if (typeof req !== 'object' || req === null || typeof req.id !== 'number') throw new Error('not a request');
    } catch {
      await reply({ id: -1, ok: false, code: 'EBADREQUEST', message: 'malformed request' });
      return;
    }
    const handler = ((CONTROL_METHODS as readonly string[]).includes(req.method)
      ? handlers[req.method as ControlMethod]
      : req.method === 'lifecycle' ? extra.lifecycle : undefined) as ((p: unknown) => Promise<unknown>) | undefined;
    if (!handler) {
      await reply({ id: req.id, ok: false, code: 'ENOMETHOD', message: `unknown method ${String(req.method)}` });
      return;
    }
    try {
      const value = await handler(req.params ?? {});
      await reply({ id: req.id, ok: true, value });
    } catch (err) {
      const e = err as Error & { code?: string };
      await reply({ id: req.id, ok: false, code: e instanceof ControlError ? e.code : 'EFAILED', message: e.message });
    }
  }
  function reply(r: ControlReply): Promise<void> {
    if (sock.destroyed) return Promise.resolve();
    return new Promise((resolve) => sock.write(JSON.stringify(r) + '\n', () => resolve()));
  }
}

// Serves kju.sock for the VM this process hosts. Socket mode 0600 inside a 0700 directory.
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { CONTROL_METHODS, LineSplitter, type ControlApi, type ControlMethod, type ControlReply, type ControlRequest } from './control-protocol.js';

export type ControlHandlers = { [M in ControlMethod]: (params: ControlApi[M]['params']) => Promise<ControlApi[M]['value']> };

export class ControlError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export async function startControlServer(path: string, handlers: ControlHandlers): Promise<Server> {
  try {
    unlinkSync(path); // a stale socket from a host that died
  } catch {
    /* none */
  }
  const server = createServer((sock) => serveClient(sock, handlers));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  server.unref();
  return server;
}

function serveClient(sock: Socket, handlers: ControlHandlers): void {
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
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
      if (typeof req !== 'object' || req === null || typeof req.id !== 'number') throw new Error('not a request');
    } catch {
      reply({ id: -1, ok: false, code: 'EBADREQUEST', message: 'malformed request' });
      return;
    }
    if (!(CONTROL_METHODS as readonly string[]).includes(req.method)) {
      reply({ id: req.id, ok: false, code: 'ENOMETHOD', message: `unknown method ${String(req.method)}` });
      return;
    }
    try {
      const handler = handlers[req.method] as (p: unknown) => Promise<unknown>;
      reply({ id: req.id, ok: true, value: await handler(req.params ?? {}) });
    } catch (err) {
      const e = err as Error & { code?: string };
      reply({ id: req.id, ok: false, code: e instanceof ControlError ? e.code : 'EFAILED', message: e.message });
    }
  }
  function reply(r: ControlReply): void {
    if (!sock.destroyed) sock.write(JSON.stringify(r) + '\n');
  }
}

// The owner's side of kju.sock: serves the OwnerApi of the VM this process owns. Socket mode 0600
// inside the 0700 runtime dir. Parameters are checked here, at the wire: the API behind it is typed.
// Runs on the owner's Node loop.
import { KjuError } from '../../common/errors.js';
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { LIFECYCLE_OPS } from './lifecycle.js';
import { encodeOwnerMessage, isBad, OWNER_METHODS, OwnerRequestDecoder, type OwnerApi, type OwnerMethod, type OwnerReply } from './owner-protocol.js';
import { OwnerRequestError } from './session-errors.js';

export interface OwnerServer {
  readonly server: Server;
  /** Resolves once every request received so far has its reply written out. */
  drain(): Promise<void>;
  close(): void;
}

const bad = (message: string) => new OwnerRequestError('EINVAL', message);
const obj = (p: unknown): Record<string, unknown> => (typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : {});

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1_000_000;
const checkHead = (head: unknown): number => {
  if (head === undefined) return 0;
  if (typeof head !== 'number' || !Number.isInteger(head) || head < 0 || head > 15) throw bad('head must be a display head number (0 is the first)');
  return head;
};

/** The wire's params → the API's typed params; throws EINVAL naming what is wrong. */
const CHECK: { [M in OwnerMethod]: (p: Record<string, unknown>) => Parameters<OwnerApi[M]>[0] } = {
  status: () => ({}),
  screenshot: ({ path, head }) => {
    if (typeof path !== 'string' || !path.startsWith('/')) throw bad('screenshot needs an absolute path');
    return { path, head: checkHead(head) };
  },
  resize: ({ width, height, head, timeoutMs }) => {
    if (!isCount(width) || !isCount(height)) throw bad('resize needs a width and a height in pixels (whole numbers, at least 1)');
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0 && timeoutMs <= 600_000))) throw bad('resize: timeoutMs must be 0..600000 milliseconds');
    return { width, height, head: checkHead(head), timeoutMs: timeoutMs as number | undefined };
  },
  type: ({ text }) => {
    if (typeof text !== 'string') throw bad('type: text must be a string');
    return { text };
  },
  key: ({ chord }) => {
    if (typeof chord !== 'string') throw bad('key: chord must be a string');
    return { chord };
  },
  stop: ({ force, timeoutMs }) => {
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) throw bad('stop: timeoutMs must be a number of milliseconds');
    return { force: Boolean(force), timeoutMs: timeoutMs as number | undefined };
  },
  lifecycle: ({ op, file, tag }) => {
    if (!(LIFECYCLE_OPS as readonly unknown[]).includes(op)) throw bad(`unknown lifecycle operation ${String(op)}`);
    if (file !== undefined && typeof file !== 'string') throw bad('lifecycle: file must be a path');
    if (tag !== undefined && typeof tag !== 'string') throw bad('lifecycle: tag must be a string');
    return { op: op as (typeof LIFECYCLE_OPS)[number], file, tag };
  },
  forward: ({ op, forward }) => {
    if (op === 'list') return { op };
    if (op !== 'add' && op !== 'remove') throw bad(`forward: unknown op ${String(op)}`);
    const f = obj(forward);
    const portOk = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
    // a removal may leave out the address (any address on that port)
    const addrOk = typeof f.hostAddr === 'string' ? /^\d{1,3}(\.\d{1,3}){3}$/.test(f.hostAddr) : op === 'remove' && f.hostAddr === undefined;
    if ((f.proto !== 'tcp' && f.proto !== 'udp') || !addrOk || !portOk(f.hostPort)) {
      throw bad('forward: needs {proto: tcp|udp, hostAddr: IPv4, hostPort: 1..65535}');
    }
    const key = { proto: f.proto as 'tcp' | 'udp', hostPort: f.hostPort as number };
    if (op === 'remove') return { op, forward: typeof f.hostAddr === 'string' ? { ...key, hostAddr: f.hostAddr } : key };
    const base = { ...key, hostAddr: f.hostAddr as string };
    if (!portOk(f.guestPort)) throw bad('forward add: guestPort must be 1..65535');
    return { op, forward: { ...base, guestPort: f.guestPort as number } };
  },
  usb: ({ op, device }) => {
    if (op === 'list') return { op };
    if (op !== 'attach' && op !== 'detach') throw bad(`usb: unknown op ${String(op)}`);
    if (typeof device !== 'string' || !/^([0-9a-fA-F]{4}:[0-9a-fA-F]{4}|\d+-[\d.]+)$/.test(device)) throw bad('usb: device must be vendor:product (hex) or bus-port (1-2.3)');
    return { op, device };
  },
  clipboard: ({ op, text, waitMs }) => {
    if (op === 'get') return { op };
    if (op !== 'set') throw bad(`clipboard: unknown op ${String(op)}`);
    if (typeof text !== 'string') throw bad('clipboard set: text must be a string');
    if (waitMs !== undefined && (typeof waitMs !== 'number' || !(waitMs >= 0 && waitMs <= 600_000))) throw bad('clipboard set: waitMs must be 0..600000 milliseconds');
    return { op, text, waitMs: waitMs as number | undefined };
  },
};

export async function startOwnerServer(path: string, api: OwnerApi): Promise<OwnerServer> {
  try {
    unlinkSync(path); // a stale socket from an owner that died
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
  const server = createServer((sock) => serveClient(sock, api, track));
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

/** Dispatches one decoded request to `api`; the reply to write. Exported for the codec's unit test. */
export async function answer(api: OwnerApi, req: { id: number; method: string; params: unknown } | { bad: string }): Promise<OwnerReply> {
  if (isBad(req)) return { id: -1, ok: false, code: 'EBADREQUEST', message: `malformed request (${req.bad})` };
  if (!(OWNER_METHODS as readonly string[]).includes(req.method)) return { id: req.id, ok: false, code: 'ENOMETHOD', message: `unknown method ${req.method}` };
  const method = req.method as OwnerMethod;
  try {
    const params = CHECK[method](obj(req.params));
    const value = await (api[method] as (p: unknown) => Promise<unknown>)(params);
    return { id: req.id, ok: true, value };
  } catch (err) {
    // A kju error keeps its code and hint across the socket; anything else is the owner's bug.
    if (err instanceof OwnerRequestError) return { id: req.id, ok: false, code: err.wireCode, message: err.message };
    if (err instanceof KjuError) return { id: req.id, ok: false, code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) };
    return { id: req.id, ok: false, code: 'EFAILED', message: (err as Error).message };
  }
}

function serveClient(sock: Socket, api: OwnerApi, track: { begin(): void; end(): void }): void {
  const requests = new OwnerRequestDecoder();
  sock.on('error', () => {});
  sock.on('data', (chunk: Buffer) => {
    let reqs;
    try {
      reqs = requests.push(chunk);
    } catch (err) {
      // not JSON, or an over-long line: say so once, then drop the connection
      sock.end(encodeOwnerMessage({ id: -1, ok: false, code: 'EBADREQUEST', message: (err as Error).message }));
      sock.pause();
      return;
    }
    for (const req of reqs) {
      track.begin();
      void answer(api, req)
        .then((r) => (sock.destroyed || sock.writableEnded ? undefined : new Promise<void>((resolve) => sock.write(encodeOwnerMessage(r), () => resolve()))))
        .finally(track.end);
    }
  });
}

// CLI side of kju.sock: one request, one reply.
import { connect } from 'node:net';
import { LineSplitter, type AnyControlApi, type AnyControlMethod, type ControlReply } from './control-protocol.js';

/** No kju process hosts this VM right now (no socket, or nobody listening on it). */
export class NoHostError extends Error {
  override name = 'NoHostError';
}

export class HostCallError extends Error {
  override name = 'HostCallError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export function callHost<M extends AnyControlMethod>(sockPath: string, method: M, params: AnyControlApi[M]['params'], timeoutMs = 120_000): Promise<AnyControlApi[M]['value']> {
  return new Promise((resolve, reject) => {
    const sock = connect(sockPath);
    const lines = new LineSplitter();
    let connected = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new HostCallError('ETIMEDOUT', `the kju process hosting this VM did not answer '${method}' within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      connected = true;
      sock.write(JSON.stringify({ id: 1, method, params }) + '\n');
    });
    sock.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) {
        const r = JSON.parse(line) as ControlReply;
        if (r.id !== 1) continue;
        clearTimeout(timer);
        sock.end();
        if (r.ok) resolve(r.value as AnyControlApi[M]['value']);
        else reject(new HostCallError(r.code, r.message));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) reject(new NoHostError(`no kju process hosts this VM (${err.code})`));
      else reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      reject(new HostCallError('ECLOSED', `the kju process hosting this VM closed the connection during '${method}'`));
    });
  });
}

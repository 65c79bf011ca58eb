// The caller's side of kju.sock: one request, one reply per connection. Runs on the caller's loop.
import { connect } from 'node:net';
import type { RuntimeDir } from '../qemu/runtime-dir.js';
import { encodeOwnerMessage, isBad, OWNER_METHODS, OwnerReplyDecoder, type OwnerApi, type OwnerMethod, type OwnerMethods } from './owner-protocol.js';
import { OwnerCallError, NoOwnerError } from './session-errors.js';

export function callOwner<M extends OwnerMethod>(sockPath: string, method: M, params: OwnerMethods[M]['params'], timeoutMs = 120_000): Promise<OwnerMethods[M]['value']> {
  return new Promise((resolve, reject) => {
    const sock = connect(sockPath);
    const replies = new OwnerReplyDecoder();
    let connected = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new OwnerCallError('ETIMEDOUT', `the kju process that owns this VM did not answer '${method}' within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    sock.on('connect', () => {
      connected = true;
      sock.write(encodeOwnerMessage({ id: 1, method, params }));
    });
    sock.on('data', (chunk: Buffer) => {
      let msgs;
      try {
        msgs = replies.push(chunk);
      } catch (err) {
        clearTimeout(timer);
        sock.destroy();
        reject(new OwnerCallError('EBADREPLY', `the kju process that owns this VM sent a broken reply to '${method}': ${(err as Error).message}`));
        return;
      }
      for (const r of msgs) {
        if (isBad(r) || r.id !== 1) continue;
        clearTimeout(timer);
        sock.end();
        if (r.ok) resolve(r.value as OwnerMethods[M]['value']);
        else reject(new OwnerCallError(r.code, r.message, r.hint === undefined ? {} : { hint: r.hint }));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) reject(new NoOwnerError(`no kju process owns this VM (${err.code})`));
      else reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      reject(new OwnerCallError('ECLOSED', `the kju process that owns this VM closed the connection during '${method}'`));
    });
  });
}

/** The owner API over kju.sock; each call is one connection. */
export function ownerSocketApi(rt: RuntimeDir): OwnerApi {
  const api: Partial<Record<OwnerMethod, (p: never) => Promise<unknown>>> = {};
  for (const m of OWNER_METHODS) api[m] = (p: never) => callOwner(rt.ownerSocket, m, p, m === 'lifecycle' ? 600_000 : 120_000);
  return api as OwnerApi;
}

/** Whether a kju process answers on the VM's kju.sock (within `timeoutMs`). */
export async function ownerAnswers(rt: RuntimeDir, timeoutMs = 5_000): Promise<boolean> {
  try {
    await callOwner(rt.ownerSocket, 'status', {}, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

// Who may talk to `kju serve`: WebSocket upgrades that carry the token as a subprotocol value
// (common/serve-auth.ts) from pages of the served origin. Static files need no token: they hold no
// secrets. Pure functions over request headers; Node event loop.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { TOKEN_PROTOCOL_PREFIX } from '../../common/serve-auth.js';

/** 32 random bytes, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A token given on the command line must be long enough to resist guessing and safe in a URL fragment and a subprotocol value. */
export function checkTokenFormat(token: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return 'the token may only contain letters, digits, - and _';
  if (token.length < 16) return 'the token must be at least 16 characters long';
  if (token.length > 256) return 'the token must be at most 256 characters long';
  return null;
}

export function tokensEqual(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether the handshake's Sec-WebSocket-Protocol list carries `kju.token.<expected>` (common/serve-auth.ts). */
export function handshakeHasToken(headers: IncomingHttpHeaders, expected: string): boolean {
  const header = headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return false;
  return header
    .split(',')
    .map((p) => p.trim())
    .some((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX) && tokensEqual(p.slice(TOKEN_PROTOCOL_PREFIX.length), expected));
}

/** The upgrade's Origin must be this server as the browser reached it: `http://` + the Host header. */
export function originAllowed(headers: IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  const host = headers.host;
  if (typeof origin !== 'string' || typeof host !== 'string' || !host) return false;
  return origin.toLowerCase() === `http://${host.toLowerCase()}`;
}

/** Hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `fileRoots`: the folders whose files the token can reach (main/backend/host-paths.ts), named in the warning. */
export function exposureWarning(host: string, fileRoots: readonly string[] = []): string | null {
  if (isLoopbackHost(host)) return null;
  const roots = fileRoots.length ? fileRoots.join(', ') : 'the library, your home folder and every --allow folder';
  return (
    `warning: kju serve is listening on ${host}. Anyone who can reach that address and has the token ` +
    `can see and control your VMs, and can read and write your host files in ${roots} ` +
    '(as VM disks, ISOs and kernels). Traffic is not encrypted: use it only on networks you trust, or ' +
    'keep --host 127.0.0.1 and tunnel (e.g. ssh -L).'
  );
}

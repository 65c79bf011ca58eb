// Who may talk to `kju serve`: whoever holds the token (URL query or cookie), and for WebSocket
// upgrades only pages of the served origin. Pure functions over request headers; Node event loop.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** 32 random bytes, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A token given on the command line must be long enough to resist guessing and safe in a URL and a cookie. */
export function checkTokenFormat(token: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return 'the token may only contain letters, digits, - and _';
  if (token.length < 16) return 'the token must be at least 16 characters long';
  if (token.length > 256) return 'the token must be at most 256 characters long';
  return null;
}

/** Cookies are not isolated by port, so two servers on one host need different cookie names. */
export function cookieName(port: number): string {
  return `kju_token_${port}`;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

export function tokensEqual(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type TokenSource = 'query' | 'cookie';

/** Where a valid token came from, or null when the request has none that matches. */
export function findToken(url: URL, headers: IncomingHttpHeaders, expected: string, port: number): TokenSource | null {
  if (tokensEqual(url.searchParams.get('token'), expected)) return 'query';
  if (tokensEqual(parseCookies(headers.cookie).get(cookieName(port)), expected)) return 'cookie';
  return null;
}

export function tokenCookie(token: string, port: number): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
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

export function exposureWarning(host: string): string | null {
  if (isLoopbackHost(host)) return null;
  return (
    `warning: kju serve is listening on ${host}. Anyone who can reach that address and has the token ` +
    'can see and control your VMs. Traffic is not encrypted: use it only on networks you trust, or ' +
    'keep --host 127.0.0.1 and tunnel (e.g. ssh -L).'
  );
}

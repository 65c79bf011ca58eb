// Serves the built renderer (index.html, index.js, css, maps) to the browser: files directly inside
// one folder tree, known types only, no listings, no way out of the root. Node event loop.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * Headers on every response: cross-origin isolation (SharedArrayBuffer), a CSP that allows only
 * this origin's scripts, styles and sockets, and no sniffing, framing or referrers.
 */
export function securityHeaders(host: string | undefined): Record<string, string> {
  // Host goes into the CSP only when it looks like a host[:port]; 'self' covers ws: in CSP3 browsers anyway.
  const ws = host && /^[A-Za-z0-9.\-:[\]]{1,300}$/.test(host) ? ` ws://${host}` : '';
  return {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Content-Security-Policy':
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; ` +
      `connect-src 'self'${ws}; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}

/**
 * Maps a URL path to a file under `root`, or null. '/' is index.html. Rejects encoded or literal
 * dot segments, backslashes, NULs and unknown extensions before touching the file system.
 */
export function resolveStaticPath(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  const rel = decoded === '/' ? 'index.html' : decoded.slice(1);
  const segments = rel.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return null;
  if (!Object.hasOwn(CONTENT_TYPES, extname(rel).toLowerCase())) return null;
  const full = join(root, ...segments);
  return full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : null;
}

/** Answers GET/HEAD for a file of `root`; 404 for anything else under it. `root` must be absolute. */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, root: string, pathname: string, headers: Record<string, string>): Promise<void> {
  const notFound = () => {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  const file = resolveStaticPath(root, pathname);
  if (!file) return notFound();
  try {
    // Symlinks must not lead out of the root either.
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    if (!realFile.startsWith(realRoot + sep)) return notFound();
    const st = await stat(realFile);
    if (!st.isFile()) return notFound();
    res.writeHead(200, { ...headers, 'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()], 'Content-Length': String(st.size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(realFile);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  } catch {
    notFound();
  }
}

// The app:// scheme: kju's pages come from app/out/renderer/ and nowhere else. Every response is
// cross-origin isolated (COOP same-origin + COEP require-corp, so SharedArrayBuffer exists in the
// page), carries a CSP that allows nothing remote, and nosniff. Only host `kju` is served, and a
// path can never leave the root: it is decoded, normalised and then required to stay inside, and
// so is the file it names once symlinks are resolved.
// The request handler uses only fetch-API globals and node:fs, so it is tested under plain Node;
// main.ts passes it to protocol.handle. Runs on the Electron main process's event loop.
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'kju';

/** For protocol.registerSchemesAsPrivileged (before app 'ready'). */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true } as const;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * The file under `root` that `url` names, or null when the URL is not ours or would escape `root`.
 * `app://kju/` and any path without an extension (client-side routes) map to index.html.
 */
export function resolveAppFile(root: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.hostname !== APP_HOST || u.port || u.username || u.password) return null;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  // Backslashes and NULs have no business in our URLs; refusing them closes Windows-style and C-string tricks.
  if (path.includes('\\') || path.includes('\0')) return null;
  if (path === '/' || path === '' || !extname(path)) path = '/index.html';
  const base = resolve(root);
  const file = resolve(base, `.${path}`);
  if (!file.startsWith(base + sep)) return null;
  return file;
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}

/** Serves one app:// request from `root`: GET/HEAD of regular files only. */
export async function handleAppRequest(root: string, request: Request): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'method not allowed');
  const file = resolveAppFile(root, request.url);
  if (!file) return textResponse(404, 'not found');
  try {
    // A symlink inside the root may not lead out of it (serve's static handler refuses the same).
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    if (!realFile.startsWith(realRoot + sep)) return textResponse(404, 'not found');
    const s = await stat(realFile);
    if (!s.isFile()) return textResponse(404, 'not found');
    const body = request.method === 'HEAD' ? null : await readFile(realFile);
    return new Response(body, {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream' },
    });
  } catch {
    return textResponse(404, 'not found');
  }
}

// What every browser test shares: Debian's Chromium with the flags this network needs, and a
// static server for a test page bundled at run time (127.0.0.1 only).
import { readFileSync } from 'node:fs';
import { createServer, type OutgoingHttpHeaders, type Server } from 'node:http';
import { extname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/** Serves the files of `dir` (no subdirectories, no `..`) with `headers` added; resolves with the base URL. */
export async function serveDir(dir: string, headers: OutgoingHttpHeaders = {}): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0].replace(/^\/+/, '') || 'index.html';
    try {
      const body = readFileSync(join(dir, name.replace(/\.\./g, '')));
      res.writeHead(200, { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream', ...headers });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/` };
}

/** Opens the VM window's More menu (view settings, clipboard, USB, fullscreen) unless it is open; returns it. */
export async function openMoreMenu(page: import('playwright-core').Page): Promise<import('playwright-core').Locator> {
  const more = page.getByRole('button', { name: 'More', exact: true });
  if ((await more.getAttribute('aria-expanded')) !== 'true') await more.click();
  const menu = page.getByRole('dialog', { name: 'More controls' });
  await menu.waitFor();
  return menu;
}

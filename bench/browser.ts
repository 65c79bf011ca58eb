// Chromium and the bench pages: one headless Debian Chromium for the whole run (software WebGL),
// pages bundled with esbuild into a temp folder, and a tiny static server for the noVNC page.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { commandLine, processTree } from './proc.js';
import { nodeWall } from './timed-source.js';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CHROMIUM = process.env.KJU_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, handleSIGINT: false, handleSIGTERM: false });
}

/** The pids of Chromium browser processes (no --type=) below this Node process. */
export function chromiumBrowserPids(): number[] {
  return processTree(process.pid)
    .filter((p) => p.kind === 'other' && p.pid !== process.pid && /chrom/.test(commandLine(p.pid)) && !/--type=/.test(commandLine(p.pid)))
    .map((p) => p.pid);
}

/** Bundles `page` (a bench/page/*.tsx) with an index.html into a fresh folder; returns the folder. */
export async function bundlePage(page: string, body: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kju-bench-site-'));
  await build({
    entryPoints: [join(root, 'bench/page', page)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outfile: join(dir, 'index.js'),
    logLevel: 'warning',
  });
  // A stylesheet file, not inline: serve's CSP allows only 'self' styles.
  writeFileSync(join(dir, 'index.css'), 'html,body{margin:0;height:100%;background:#000}canvas{display:block}#screen{width:100%;height:100%}\n');
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>loading</title><link rel="stylesheet" href="index.css"><link rel="icon" href="data:,">${body}<script type="module" src="index.js"></script>`);
  return dir;
}

export function removeSite(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Serves index.html and index.js of `dir` on 127.0.0.1 (the noVNC page needs no headers). */
export async function serveStatic(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const name = req.url?.startsWith('/index.js') ? 'index.js' : req.url?.startsWith('/index.css') ? 'index.css' : 'index.html';
    const type = name.endsWith('.js') ? 'text/javascript' : name.endsWith('.css') ? 'text/css' : 'text/html; charset=utf-8';
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(readFileSync(join(dir, name)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function openPage(browser: Browser, url: string, log: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') log.push(`console ${m.type()}: ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForFunction('document.title === "bench page ready"');
  return page;
}

/**
 * page wall clock − Node wall clock, in ms, from the evaluate round trip with the smallest RTT
 * (the error is at most half that RTT, which is returned too).
 */
export async function clockOffset(page: Page, wallFn: string): Promise<{ offsetMs: number; rttMs: number }> {
  let best = { offsetMs: 0, rttMs: Infinity };
  for (let i = 0; i < 25; i++) {
    const t0 = nodeWall();
    const tp = (await page.evaluate(`window.${wallFn}.wall()`)) as number;
    const t1 = nodeWall();
    if (t1 - t0 < best.rttMs) best = { offsetMs: tp - (t0 + t1) / 2, rttMs: t1 - t0 };
  }
  return best;
}

// Chromium and the bench pages. Every measured page runs in a headless Debian Chromium that the
// bench spawns itself, one per scenario, with no DevTools connection at all: a DevTools client
// (Playwright) turns on the Network domain, and Chromium then mirrors every WebSocket frame to
// it as base64, which inflated the browser's and Node's CPU in the measured window. Pages report
// their figures with console.log lines that Chromium writes to its stderr (wire.ts); kju serve's
// CSP (connect-src 'self') leaves the kju page no other way to reach the bench. Pages are bundled
// with esbuild into a temp folder; a tiny token-checked static server serves the noVNC page.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parseReportLine } from './wire.js';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CHROMIUM = process.env.KJU_CHROMIUM ?? '/usr/bin/chromium';
/** The flags the Playwright-driven harness used, the window it gave pages, and stderr logging for the reports. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--window-size=1920,1080',
  '--enable-logging=stderr',
  '--v=0',
];

/** What every page report carries; the rest is page-specific. */
export interface PageReport {
  /** page wall clock (performance.timeOrigin + now()) when sent, ms */
  t: number;
  /** page wall clock − system clock, ms (wire.ts wallOffset, measured once at load) */
  clock: number;
  [k: string]: unknown;
}

export interface BenchBrowser {
  /** the browser process (root of the tree the bench measures) */
  pid: number;
  reports: PageReport[];
  /** the first report that arrives after this call */
  nextReport(timeoutMs?: number): Promise<PageReport>;
  /** the first report (already received or to come) that satisfies `pred` */
  waitFor(what: string, pred: (r: PageReport) => boolean, timeoutMs: number): Promise<PageReport>;
  close(): Promise<void>;
}

const leftovers = new Set<string>();
/** Removes Chromium profiles that could not be removed when their browser closed. */
export function removeLeftoverProfiles(): string[] {
  const failed: string[] = [];
  for (const dir of leftovers) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
      leftovers.delete(dir);
    } catch (e) {
      failed.push(`could not remove ${dir}: ${(e as Error).message}`);
    }
  }
  return failed;
}

/** Spawns Chromium on `url` (one tab); reports are collected from its stderr. */
export async function openChromium(url: string, log: string[]): Promise<BenchBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'kju-bench-chromium-'));
  const proc = spawn(CHROMIUM, [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, url], { stdio: ['ignore', 'ignore', 'pipe'] });
  const reports: PageReport[] = [];
  const listeners = new Set<(r: PageReport | Error) => void>();
  const seen = new Set<string>();
  let gone: Error | null = null;
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    const r = parseReportLine(line);
    if (r && typeof r === 'object') {
      const rep = r as PageReport;
      reports.push(rep);
      for (const l of [...listeners]) l(rep);
      return;
    }
    // the pages' own console warnings and errors, once each
    const m = /:(WARNING|ERROR):CONSOLE[^\]]*\] "(.*)", source/.exec(line);
    if (m && !seen.has(m[2]) && seen.size < 20) {
      seen.add(m[2]);
      log.push(`console ${m[1].toLowerCase()}: ${m[2]}`);
    }
  });
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', (code, sig) => {
      gone = new Error(`Chromium exited (${sig ?? code})`);
      for (const l of [...listeners]) l(gone);
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    proc.once('spawn', resolve);
    proc.once('error', reject);
  });
  const wait = (what: string, pred: (r: PageReport) => boolean, timeoutMs: number, past: boolean): Promise<PageReport> => {
    if (past) {
      const hit = reports.find(pred);
      if (hit) return Promise.resolve(hit);
    }
    if (gone) return Promise.reject(gone);
    return new Promise((resolve, reject) => {
      const done = (r: PageReport | Error) => {
        if (r instanceof Error) {
          listeners.delete(done);
          clearTimeout(timer);
          reject(r);
        } else if (pred(r)) {
          listeners.delete(done);
          clearTimeout(timer);
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      listeners.add(done);
    });
  };
  let closing: Promise<void> | undefined;
  return {
    pid: proc.pid!,
    reports,
    nextReport: (timeoutMs = 10_000) => wait('the next page report', () => true, timeoutMs, false),
    waitFor: (what, pred, timeoutMs) => wait(what, pred, timeoutMs, true),
    close: () =>
      (closing ??= (async () => {
        if (!gone) proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
        // Chromium's helpers may still be flushing the profile after the browser exits: retry at the end
        try {
          rmSync(profile, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
        } catch {
          leftovers.add(profile);
        }
      })()),
  };
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
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>loading</title><link rel="stylesheet" href="index.css"><link rel="icon" href="data:,">${body}<script type="module" src="index.js"></script>`,
  );
  return dir;
}

export function removeSite(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Serves index.html and index.js of `dir` on 127.0.0.1 under /<token>/ (the noVNC page needs no
 * headers); anything else is 401. `url` ends with the slash, so relative loads carry the token.
 */
export async function serveStatic(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const token = randomBytes(16).toString('hex');
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (!path.startsWith(`/${token}/`)) {
      res.writeHead(401, { 'Content-Type': 'text/plain' });
      res.end('token\n');
      return;
    }
    const rest = path.slice(token.length + 2);
    const name = rest.startsWith('index.js') ? 'index.js' : rest.startsWith('index.css') ? 'index.css' : 'index.html';
    const type = name.endsWith('.js') ? 'text/javascript' : name.endsWith('.css') ? 'text/css' : 'text/html; charset=utf-8';
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(readFileSync(join(dir, name)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/${token}/`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

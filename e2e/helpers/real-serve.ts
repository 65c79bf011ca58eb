// Shared pieces of the real-guest `kju serve` tests (e2e/serve-qemu-*.test.ts): the demo guest under
// TCG with a VmSession, a small ServeBackend that hands out that session's displays, startServe
// with the built renderer (app/out/renderer, the real React app), Chromium through playwright-core,
// and readers for the three views of the screen: QEMU's screendump, kju's Node-side display, and
// the page's canvas (read back through the renderer's `window.__kju` probe, `#/vm/<id>?test=1`).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { BackendArgs, BackendMethod, BackendValue, Result, VmSummary } from '../../common/contract.js';
import type { DbusDisplay } from '../../main/display/dbus-display.js';
import type { DisplaySource } from '../../main/display/display-source.js';
import { decodePpm, diffImages, surfaceToRgb, type RgbImage } from '../../main/display/screenshot.js';
import { screendumpToFile } from '../../main/display/screendump.js';
import type { ServeBackend } from '../../main/backend/backend.js';
import { AudioOut } from '../../main/display/audio-out.js';
import type { GuestClipboard } from '../../main/display/guest-clipboard.js';
import { startServe, type ServeHandle } from '../../main/serve/serve.js';
import { VmSession } from '../../main/session/vm-session.js';
import { bootDemoGuest, type BootedGuest, type BootOptions } from '../../main/testing/guest.js';
import type { QmpClient } from '../../main/qmp/qmp-client.js';

/** The renderer's read-only test probe (renderer/ui/VmView.tsx, registered with `?test=1` in the hash). */
interface KjuTestProbe {
  readPixels(): Uint8Array;
  surfaceSize(): { width: number; height: number } | null;
  frameStats(): { frames: number; latencyMs: number };
}
declare global {
  interface Window {
    __kju?: KjuTestProbe;
  }
}

export const root = fileURLToPath(new URL('../..', import.meta.url));
export { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
export const RENDERER_DIR = join(root, 'app/out/renderer');
export const VM_ID = 'demo';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { until } from '../../main/testing/until.js';

/**
 * A ServeBackend over one booted guest's VmSession: one VM, listVms only, and a fresh listener
 * (DbusDisplay) per openDisplay — serve closes the source it got when its last viewer leaves.
 */
export class GuestBackend implements ServeBackend {
  /** displays handed to serve so far (open or closed) */
  readonly handedOut: DbusDisplay[] = [];
  /** the VM shares its clipboard (sharedClipboard gives the session's, as the session manager does) */
  shareClipboard = false;
  private readonly listeners = new Set<(vms: VmSummary[]) => void>();

  constructor(
    readonly session: VmSession,
    readonly summary: VmSummary,
  ) {}

  async call<M extends BackendMethod>(method: M, _args: BackendArgs<M>): Promise<Result<BackendValue<M>>> {
    if (method === 'listVms') return { ok: true, value: [this.summary] as BackendValue<M> };
    return { ok: false, code: 'unknown-method', message: `${method} is not offered by the test backend` };
  }

  async openDisplay(vmId: string, consoleNo: number): Promise<Result<DisplaySource>> {
    if (vmId !== this.summary.id) return { ok: false, code: 'not-found', message: `no VM ${vmId}` };
    const consoles = await this.session.display.graphicConsoles();
    const id = consoles[consoleNo];
    if (id === undefined) return { ok: false, code: 'not-found', message: `VM ${vmId} has no graphic console ${consoleNo}` };
    const d = await this.session.display.openDisplay(id);
    this.handedOut.push(d);
    return { ok: true, value: d };
  }

  async sharedClipboard(vmId: string): Promise<Result<GuestClipboard | null>> {
    if (vmId !== this.summary.id) return { ok: false, code: 'not-found', message: `no VM ${vmId}` };
    return { ok: true, value: this.shareClipboard ? ((await this.session.sharedClipboard((line) => console.log(`# ${line}`))) ?? null) : null };
  }

  /** The guest's sound (a VM booted with BootOptions.sound); the caller (serve) closes it. */
  async openAudio(vmId: string): Promise<Result<AudioOut>> {
    if (vmId !== this.summary.id) return { ok: false, code: 'not-found', message: `no VM ${vmId}` };
    try {
      return { ok: true, value: await AudioOut.open(this.session.display.control, this.summary.name) };
    } catch (err) {
      return { ok: false, code: 'no-sound', message: (err as Error).message };
    }
  }

  onVmsChanged(cb: (vms: VmSummary[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
}

export interface RealServe {
  guest: BootedGuest;
  session: VmSession;
  backend: GuestBackend;
  serve: ServeHandle;
  /** kju's own Node-side view of the primary console (a listener separate from serve's) */
  display: DbusDisplay;
  browser: Browser;
  /** lines serve logged (refused clients, protocol violations) */
  log: string[];
  /** Closes the browser, serve, the session and QEMU. Idempotent. */
  stop(): Promise<void>;
}

/** Boots the demo guest, attaches a VmSession, starts serve on 127.0.0.1 and launches Chromium. */
export async function startRealServe(boot: BootOptions): Promise<RealServe> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error(`${RENDERER_DIR}/index.html is missing: run node scripts/build.mjs`);
  const guest = await bootDemoGuest(boot);
  let session: VmSession | undefined;
  let serve: ServeHandle | undefined;
  let browser: Browser | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await browser?.close().catch(() => {});
      await serve?.close().catch(() => {});
      session?.display.close('test over');
      await guest.stop();
    })());
  try {
    session = await VmSession.attach({
      name: guest.desc.name,
      runtimeDir: guest.qemu.runtimeDir,
      pid: guest.qemu.pid,
      exited: guest.qemu.exited.then((e) => ({ code: e.code, signal: e.signal, logTail: e.logTail })),
      qmp: guest.qmp,
    });
    const display = await session.primaryDisplay();
    await display.waitForSurface(30_000);
    const backend = new GuestBackend(session, {
      id: VM_ID,
      name: 'Demo',
      state: 'running',
      displayDevice: guest.desc.display ?? 'virtio-vga',
      memoryMiB: guest.desc.memoryMiB,
      cpus: guest.desc.cpus,
      soundDevice: guest.desc.sound ?? 'none',
      ...(guest.desc.clipboard ? { clipboard: true } : {}),
      ...(guest.desc.displays ? { displays: guest.desc.displays } : {}),
    });
    backend.shareClipboard = !!boot.clipboard;
    const log: string[] = [];
    serve = await startServe({ backend, host: '127.0.0.1', staticDir: RENDERER_DIR, log: (l) => log.push(l) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    return { guest, session, backend, serve, display, browser, log, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Opens the real React app's VM view in a new page and waits until its canvas shows a surface. */
export async function openVmPage(
  rs: Pick<RealServe, 'browser' | 'serve'>,
  opts: { viewport?: { width: number; height: number }; errors?: string[]; hashQuery?: string; guestSize?: 'auto' | 'resize' | 'scale'; permissions?: string[] } = {},
): Promise<Page> {
  const page = await rs.browser.newPage({ viewport: opts.viewport ?? { width: 1400, height: 1000 }, ...(opts.permissions ? { permissions: opts.permissions } : {}) });
  // Scale unless the test asks otherwise: tests that compare pixels or click at guest pixels need a
  // guest whose size does not follow the window (auto resizes a virtio-vga guest).
  const guestSize = opts.guestSize ?? 'scale';
  await page.addInitScript((g) => {
    if (!localStorage.getItem('kju.settings')) localStorage.setItem('kju.settings', JSON.stringify({ state: { guestSize: g }, version: 0 }));
  }, guestSize);
  const errors = opts.errors;
  page.on('pageerror', (e) => errors?.push(`pageerror: ${e.message}`));
  // A missing favicon is the browser's business; any other failed request or console error is reported.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors?.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') errors?.push(`HTTP ${r.status()} for ${r.url().replace(/token=[^&#]*/, 'token=…')}`);
  });
  await page.goto(`${rs.serve.origin}/#/vm/${VM_ID}?test=1${opts.hashQuery ?? ''}&token=${rs.serve.token}`);
  await page.waitForFunction(() => !!window.__kju?.surfaceSize(), undefined, { timeout: 30_000 });
  return page;
}

/** The page canvas's surface at 1:1 as RGB (readPixels through the renderer's blitter). */
export async function canvasImage(page: Page): Promise<RgbImage & { frames: number }> {
  const r = await page.evaluate(() => {
    const k = window.__kju;
    const size = k?.surfaceSize();
    if (!k || !size) return null;
    const px = k.readPixels();
    const rgb = new Uint8Array(size.width * size.height * 3);
    for (let i = 0, o = 0; i < px.length; i += 4) {
      rgb[o++] = px[i];
      rgb[o++] = px[i + 1];
      rgb[o++] = px[i + 2];
    }
    let bin = '';
    for (let i = 0; i < rgb.length; i += 0x8000) bin += String.fromCharCode(...rgb.subarray(i, i + 0x8000));
    return { width: size.width, height: size.height, b64: btoa(bin), frames: k.frameStats().frames };
  });
  if (!r) throw new Error('the page shows no surface (window.__kju missing or empty)');
  return { width: r.width, height: r.height, rgb: Buffer.from(r.b64, 'base64'), frames: r.frames };
}

export async function pageFrameStats(page: Page): Promise<{ frames: number; latencyMs: number }> {
  return page.evaluate(() => window.__kju!.frameStats());
}

const dumpDir = mkdtempSync(join(tmpdir(), 'kju-screendump-'));
process.on('exit', () => rmSync(dumpDir, { recursive: true, force: true }));
let dumps = 0;

/** QEMU's own picture of the screen (QMP screendump, PPM). */
export async function screendump(qmp: QmpClient): Promise<RgbImage> {
  const file = join(dumpDir, `dump-${dumps++}.ppm`);
  await screendumpToFile(qmp, file);
  const img = decodePpm(readFileSync(file));
  rmSync(file, { force: true });
  return img;
}

export function nodeImage(d: DbusDisplay): RgbImage {
  if (!d.surface) throw new Error('the Node-side display has no surface');
  return surfaceToRgb(d.surface);
}

export function describeDiff(a: RgbImage, b: RgbImage): string {
  const d = diffImages(a, b);
  return `${a.width}x${a.height} vs ${b.width}x${b.height}: ${d.differing} pixels differ${d.first ? `, first at ${d.first.x},${d.first.y} ${JSON.stringify(d.first.a)} vs ${JSON.stringify(d.first.b)}` : ''}`;
}

export function sameImage(a: RgbImage, b: RgbImage): boolean {
  return a.width === b.width && a.height === b.height && a.rgb.equals(b.rgb);
}

/**
 * Waits until the screen is still and the page's canvas, kju's display and QEMU's screendump hold
 * the same pixels; returns them. "Still" means no damage on kju's display for `quietMs` (given up
 * after 3 s: VGA text mode reports its cursor cell twice a second even with the cursor hidden)
 * and two screendumps `quietMs` apart being equal. The page may lag the display by a frame or
 * two, so the comparison is retried until `ms`.
 */
export async function settledViews(
  rs: Pick<RealServe, 'guest' | 'display'>,
  page: Page,
  ms = 20_000,
  quietMs = 600,
): Promise<{ dump: RgbImage; canvas: RgbImage & { frames: number }; node: RgbImage; tries: number }> {
  const end = Date.now() + ms;
  let tries = 0;
  for (;;) {
    tries++;
    await rs.display.waitForQuiet(quietMs, Math.min(3000, Math.max(1000, end - Date.now()))).catch(() => {});
    const first = await screendump(rs.guest.qmp);
    await sleep(quietMs);
    const dump = await screendump(rs.guest.qmp);
    const node = nodeImage(rs.display);
    const canvas = await canvasImage(page);
    if (sameImage(first, dump) && sameImage(dump, node) && sameImage(dump, canvas)) return { dump, canvas, node, tries };
    const last = `screendump then and now: ${describeDiff(first, dump)}; screendump vs page canvas: ${describeDiff(dump, canvas)}; screendump vs kju display: ${describeDiff(dump, node)}`;
    if (Date.now() > end) throw new Error(`the views did not converge within ${ms} ms (${tries} tries): ${last}`);
    await sleep(200);
  }
}

// US-layout characters -> KeyboardEvent.code, and whether Shift is needed.
const SHIFTED: Record<string, string> = { '>': 'Period', '<': 'Comma', _: 'Minus', '|': 'Backslash', '"': 'Quote', ':': 'Semicolon', '&': 'Digit7', $: 'Digit4', '!': 'Digit1', '+': 'Equal' };
const PLAIN: Record<string, string> = { ' ': 'Space', '-': 'Minus', '.': 'Period', ',': 'Comma', '/': 'Slash', '=': 'Equal', ';': 'Semicolon', "'": 'Quote', '\n': 'Enter' };

function codeFor(ch: string): { code: string; shift: boolean } {
  if (/^[a-z]$/.test(ch)) return { code: `Key${ch.toUpperCase()}`, shift: false };
  if (/^[A-Z]$/.test(ch)) return { code: `Key${ch}`, shift: true };
  if (/^[0-9]$/.test(ch)) return { code: `Digit${ch}`, shift: false };
  if (PLAIN[ch]) return { code: PLAIN[ch], shift: false };
  if (SHIFTED[ch]) return { code: SHIFTED[ch], shift: true };
  throw new Error(`no key for ${JSON.stringify(ch)}`);
}

/**
 * Types `text` into the focused element with real key events (KeyboardEvent.code is what the
 * renderer reads), Shift pressed around shifted characters, `gapMs` between keys so the guest's
 * 16-byte PS/2 queue is never flooded under TCG.
 */
export async function typeKeys(page: Page, text: string, gapMs = 35): Promise<void> {
  for (const ch of text) {
    const { code, shift } = codeFor(ch);
    if (shift) await page.keyboard.down('Shift');
    await page.keyboard.down(code);
    await sleep(gapMs / 2);
    await page.keyboard.up(code);
    if (shift) await page.keyboard.up('Shift');
    await sleep(gapMs);
  }
}

/** VmRSS of a process in KiB, from /proc/<pid>/status. */
export function vmRssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

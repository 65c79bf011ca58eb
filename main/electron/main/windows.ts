// kju's windows: one library window and one window per display head of each VM being viewed
// (head k placed on the host's monitor k, head-placement.ts). Every window loads only
// app://kju/ with contextIsolation, sandbox (see zeroCopy below), no Node integration and web
// security on; navigation away from app://, new windows, webviews and remote requests are refused
// for every webContents the app ever creates (installContentGuards). Closing a VM window leaves
// the VM running; `onVmWindowClosed` lets the display utility go. Main process event loop.
import { BrowserWindow, screen, session, type Session, type WebContents } from 'electron';
import { headWindowBounds } from './head-placement.js';
import { APP_ORIGIN } from '../ipc/channels.js';
import { isAppUrl, permissionAllowed } from './app-origin.js';

const BLOCKED_URLS = ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'ftp://*/*', 'file:///*'];

/** No remote content, no permissions beyond the few a VM viewer needs, for the session's pages. */
export function lockDownSession(s: Session = session.defaultSession): void {
  s.setPermissionRequestHandler((wc, permission, cb) => cb(permissionAllowed(wc.getURL(), permission)));
  s.setPermissionCheckHandler((_wc, permission, origin) => permissionAllowed(origin, permission));
  s.webRequest.onBeforeRequest({ urls: BLOCKED_URLS }, (_details, cb) => cb({ cancel: true }));
}

/** For every webContents: no window.open, no navigation or redirect off app://, no <webview>. */
export function installContentGuards(wc: WebContents): void {
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-navigate', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault();
  });
  wc.on('will-redirect', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault();
  });
  wc.on('will-attach-webview', (e) => e.preventDefault());
}

export interface WindowManagerOptions {
  /** app/out/preload.cjs */
  preloadPath: string;
  /**
   * Zero-copy display (setting, default off). VM windows then get `sandbox: false`: the preload
   * must load the native addon to receive and map QEMU's memfd, and a sandboxed preload cannot
   * load native modules. contextIsolation stays on; the page itself still has no Node.
   */
  zeroCopy: boolean;
  onVmWindowClosed(vmId: string): void;
}

export class WindowManager {
  private library: BrowserWindow | null = null;
  private readonly vmWindows = new Map<string, BrowserWindow>();
  private readonly vmOf = new Map<number, string>();

  constructor(private readonly o: WindowManagerOptions) {}

  showLibrary(): BrowserWindow {
    if (this.library && !this.library.isDestroyed()) {
      this.focus(this.library);
      return this.library;
    }
    const win = this.create({ width: 900, height: 600, title: 'kju' }, true);
    void win.loadURL(`${APP_ORIGIN}/index.html#/`);
    win.on('closed', () => (this.library = null));
    this.library = win;
    return win;
  }

  /**
   * Opens (or focuses) the windows of VM `vmId`: one per display head (`heads`, the VM's displays
   * setting), head k on the host's monitor k when there are several. Returns head 0's window.
   */
  openVm(vmId: string, heads = 1): BrowserWindow {
    const workAreas = heads > 1 ? screen.getAllDisplays().map((d) => d.workArea) : [];
    const wins: BrowserWindow[] = [];
    for (let head = 0; head < Math.max(1, heads); head++) wins.push(this.openHead(vmId, head, workAreas));
    return wins[0];
  }

  private openHead(vmId: string, head: number, workAreas: Electron.Rectangle[]): BrowserWindow {
    const key = `${vmId}\n${head}`;
    const existing = this.vmWindows.get(key);
    if (existing && !existing.isDestroyed()) {
      this.focus(existing);
      return existing;
    }
    const size = { width: 1024, height: 800 };
    const win = this.create({ ...size, ...headWindowBounds(head, workAreas, size), title: 'kju', useContentSize: true }, !this.o.zeroCopy);
    const wcId = win.webContents.id;
    this.vmWindows.set(key, win);
    this.vmOf.set(wcId, vmId);
    win.on('closed', () => {
      this.vmWindows.delete(key);
      this.vmOf.delete(wcId);
      // the display utility goes when the VM's last window closes
      if (![...this.vmOf.values()].includes(vmId)) this.o.onVmWindowClosed(vmId);
    });
    void win.loadURL(`${APP_ORIGIN}/index.html#/vm/${encodeURIComponent(vmId)}${head ? `?head=${head}` : ''}`);
    return win;
  }

  /** The VM whose window `wc` is, or null for the library (or anything else). */
  vmOfWebContents(wc: WebContents): string | null {
    return this.vmOf.get(wc.id) ?? null;
  }

  /** Whether `wc` is a VM window with an unsandboxed preload that may map surfaces itself. */
  isZeroCopy(wc: WebContents): boolean {
    return this.o.zeroCopy && this.vmOf.has(wc.id);
  }

  all(): BrowserWindow[] {
    return [this.library, ...this.vmWindows.values()].filter((w): w is BrowserWindow => !!w && !w.isDestroyed());
  }

  private create(size: Electron.BrowserWindowConstructorOptions, sandbox: boolean): BrowserWindow {
    const win = new BrowserWindow({
      ...size,
      show: false,
      webPreferences: {
        preload: this.o.preloadPath,
        contextIsolation: true,
        sandbox,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        safeDialogs: true,
      },
    });
    win.once('ready-to-show', () => win.show());
    return win;
  }

  private focus(win: BrowserWindow): void {
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  }
}

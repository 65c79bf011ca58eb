// The Electron shell wired to a backend: app:// protocol, windows, backend IPC, display brokering,
// VM list pushes, the quit dialog and `.kju` file opening. main.ts chooses the backend and calls
// startApp before app 'ready'. Everything runs on the Electron main process's event loop.
import { app, BrowserWindow, clipboard, dialog, ipcMain, protocol, type IpcMainInvokeEvent } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from '../../../common/contract.js';
import type { Backend } from '../../backend/backend.js';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, handleAppRequest } from './app-protocol.js';
import { CLIPBOARD_READ, CLIPBOARD_WRITE, OPEN_AUDIO, OPEN_DISPLAY, OP_PROGRESS, VMS_CHANGED, type ClipboardReadResult, type ClipboardWriteResult } from '../ipc/channels.js';
import { readHostClipboard, writeHostClipboard, type ClipboardRequester } from './host-clipboard.js';
import { DisplayUtilities } from './display-utilities.js';
import { forwardingHandlers, isTrustedSender, registerBackendHandlers, type BackendHandlerTable } from './ipc-handlers.js';
import { bundlePathsFromArgv } from './launch-args.js';
import { activeVms, applyQuitChoice, QUIT_BUTTONS, QUIT_CANCEL_INDEX, QUIT_CHOICES, quitMessage } from './quit-flow.js';
import { installContentGuards, lockDownSession, WindowManager } from './windows.js';
import { toFailure } from '../../backend/failure.js';

export interface AppOptions {
  backend: Backend;
  /** zero-copy display for VM windows (default off; see windows.ts and shared-surfaces.ts) */
  zeroCopy?: boolean;
  /** folder of the bundles: app/out (electron-main.js, preload.cjs, display-utility.js, renderer/) */
  outDir?: string;
}

function isOpenDisplayArgs(a: unknown): a is { vmId: string; console: number; requestId: number } {
  if (!a || typeof a !== 'object') return false;
  const o = a as Record<string, unknown>;
  return (
    Object.keys(o).length === 3 &&
    typeof o.vmId === 'string' &&
    o.vmId.length >= 1 &&
    o.vmId.length <= 256 &&
    Number.isInteger(o.console) &&
    (o.console as number) >= 0 &&
    (o.console as number) < 256 &&
    Number.isSafeInteger(o.requestId) &&
    (o.requestId as number) > 0
  );
}

function isOpenAudioArgs(a: unknown): a is { vmId: string; requestId: number } {
  if (!a || typeof a !== 'object') return false;
  const o = a as Record<string, unknown>;
  return Object.keys(o).length === 2 && typeof o.vmId === 'string' && o.vmId.length >= 1 && o.vmId.length <= 256 && Number.isSafeInteger(o.requestId) && (o.requestId as number) > 0;
}

/** Must be called before app 'ready' (scheme registration). Quits at once if another kju runs. */
export function startApp(o: AppOptions): void {
  const outDir = o.outDir ?? dirname(fileURLToPath(import.meta.url));
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);
  const backend = o.backend;
  const displays = new DisplayUtilities(backend);
  const windows = new WindowManager({
    preloadPath: join(outDir, 'preload.cjs'),
    zeroCopy: o.zeroCopy ?? false,
    onVmWindowClosed: (vmId) => void displays.release(vmId),
  });

  // One window per display head of the VM (its displays setting, from the library).
  const openVmWindows = async (vmId: string): Promise<void> => {
    const listed = await backend.call('listVms', {});
    const heads = (listed.ok && listed.value.find((v) => v.id === vmId)?.displays) || 1;
    windows.openVm(vmId, heads);
  };

  const openBundle = async (path: string): Promise<void> => {
    const r = await backend.vmIdForBundle(path);
    if (r.ok) await openVmWindows(r.value);
    else dialog.showErrorBox('kju cannot open this virtual machine', `${path}\n\n${r.message}`);
  };
  const pendingBundles = bundlePathsFromArgv(process.argv, process.cwd());
  // macOS: may arrive before 'ready' (a double-click that launched us).
  app.on('open-file', (e, path) => {
    e.preventDefault();
    if (app.isReady()) void openBundle(path);
    else pendingBundles.push(path);
  });
  app.on('second-instance', (_e, argv, cwd) => {
    const paths = bundlePathsFromArgv(argv, cwd);
    if (paths.length) paths.forEach((p) => void openBundle(p));
    else windows.showLibrary();
  });
  app.on('web-contents-created', (_e, wc) => installContentGuards(wc));

  const handlers: BackendHandlerTable<IpcMainInvokeEvent> = {
    ...forwardingHandlers<IpcMainInvokeEvent>((method, args) => backend.call(method, args)),
    startVm: async (_e, args) => {
      const r = await backend.call('startVm', args);
      if (r.ok) await openVmWindows(args.id);
      return r;
    },
  };

  let quitDecided = false;
  app.on('before-quit', (e) => {
    if (quitDecided) return;
    e.preventDefault();
    void (async () => {
      const listed = await backend.call('listVms', {});
      const active = listed.ok ? activeVms(listed.value) : [];
      let choice = QUIT_CHOICES[0];
      if (active.length) {
        const { message, detail } = quitMessage(active);
        const r = await dialog.showMessageBox({ type: 'question', buttons: [...QUIT_BUTTONS], defaultId: 0, cancelId: QUIT_CANCEL_INDEX, message, detail, noLink: true });
        choice = QUIT_CHOICES[r.response] ?? 'cancel';
      }
      if (choice === 'cancel') return;
      const failures = await applyQuitChoice(choice, active, backend);
      if (failures.length) dialog.showErrorBox('Some virtual machines did not stop', `${failures.join('\n')}\n\nThey may still be running.`);
      await displays.releaseAll();
      quitDecided = true;
      app.quit();
    })();
  });
  // Closing every window does not quit on Linux either: the library reopens from the dock/launcher (second-instance).
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (windows.all().length === 0) windows.showLibrary();
  });

  void app.whenReady().then(() => {
    const rendererRoot = join(outDir, 'renderer');
    protocol.handle(APP_SCHEME, (request) => handleAppRequest(rendererRoot, request));
    lockDownSession();
    registerBackendHandlers(ipcMain, handlers, isTrustedSender);
    ipcMain.handle(OPEN_DISPLAY, async (event, args): Promise<Result<{ requestId: number }>> => {
      if (!isTrustedSender(event)) return { ok: false, code: 'forbidden', message: `${OPEN_DISPLAY} is only for kju's own pages` };
      if (!isOpenDisplayArgs(args)) return { ok: false, code: 'bad-args', message: 'openDisplay needs {vmId, console, requestId}' };
      try {
        const r = await displays.open(args.vmId, args.console, args.requestId, event.sender, windows.isZeroCopy(event.sender));
        return r.ok ? { ok: true, value: { requestId: args.requestId } } : r;
      } catch (err) {
        return toFailure(err, 'openDisplay');
      }
    });
    ipcMain.handle(OPEN_AUDIO, async (event, args): Promise<Result<{ requestId: number }>> => {
      if (!isTrustedSender(event)) return { ok: false, code: 'forbidden', message: `${OPEN_AUDIO} is only for kju's own pages` };
      if (!isOpenAudioArgs(args)) return { ok: false, code: 'bad-args', message: 'openAudio needs {vmId, requestId}' };
      try {
        const r = await displays.openAudio(args.vmId, args.requestId, event.sender);
        return r.ok ? { ok: true, value: { requestId: args.requestId } } : r;
      } catch (err) {
        return toFailure(err, 'openAudio');
      }
    });
    // The host clipboard for VM windows (host-clipboard.ts decides who may and how much).
    const requester = (event: IpcMainInvokeEvent): ClipboardRequester => ({
      vmWindow: isTrustedSender(event) && windows.vmOfWebContents(event.sender) !== null,
      focused: !!BrowserWindow.fromWebContents(event.sender)?.isFocused(),
    });
    ipcMain.handle(CLIPBOARD_READ, (event): Promise<ClipboardReadResult> => readHostClipboard(requester(event), clipboard));
    ipcMain.handle(CLIPBOARD_WRITE, (event, text: unknown): Promise<ClipboardWriteResult> => writeHostClipboard(requester(event), text, clipboard));
    backend.onVmsChanged((vms) => {
      for (const w of windows.all()) w.webContents.send(VMS_CHANGED, vms);
    });
    backend.onProgress?.((p) => {
      for (const w of windows.all()) w.webContents.send(OP_PROGRESS, p);
    });
    windows.showLibrary();
    for (const p of pendingBundles.splice(0)) void openBundle(p);
  });
}

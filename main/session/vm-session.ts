// A kju process attached to one running QEMU: its QMP connection, its D-Bus display connection,
// the primary console's display, its OwnerApi, and kju.sock (the owner socket) when this process
// owns the VM. QEMU does not belong to the session: detaching leaves the VM running; it is stopped
// only when asked. Runs on the Node main thread of its process (app, `kju serve`, `kju run`, the
// app's display utility, a CLI command attached for one call).
import { EventEmitter } from 'node:events';
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { QmpClient } from '../qmp/qmp-client.js';
import type { QemuExit } from '../qemu/launch.js';
import { readRuntimeVmClipboard, type RuntimeDir } from '../qemu/runtime-dir.js';
import type { DbusDisplay } from '../display/dbus-display.js';
import { AudioOut } from '../display/audio-out.js';
import { ClipboardTooLargeError, GuestClipboardRefused, type GuestClipboard } from '../display/guest-clipboard.js';
import { DbusCallError } from '../dbus/peer-connection.js';
import { DisplayConnection } from '../display/display-connection.js';
import { encodePng, surfaceToRgb } from '../display/screenshot.js';
import { thumbnailPng } from '../display/thumbnail.js';
import { writeFileAtomic } from '../library/atomic-write.js';
import { parseChord, sendStrokes, textToStrokes, type KeyStroke } from '../input/text-keys.js';
import { startOwnerServer, type OwnerServer } from './owner-server.js';
import type { OwnerApi, OwnerMethods } from './owner-protocol.js';
import { fitUiInfo } from '../display/ui-info.js';
import { OwnerRequestError, SessionError } from './session-errors.js';
import { addForward, listForwards, removeForward } from './port-forwards.js';
import { runUsbOp } from './usb.js';
import { runLifecycleOp } from './lifecycle.js';

export interface AttachOptions {
  name: string;
  runtimeDir: RuntimeDir;
  /** QEMU's pid, to notice its exit when it is not our child */
  pid: number;
  /** resolves when QEMU exits (from the launcher when we started it; else the pid is polled) */
  exited: Promise<QemuExit>;
  /** an already connected QMP client to use instead of connecting to qmp.sock */
  qmp?: QmpClient;
}

export interface VmSessionEvents {
  'qmp-event': [event: string, data: unknown];
  /** QEMU exited; the reason includes its status and the last lines of its log */
  exit: [info: QemuExit, reason: string];
}

/** The one wording of how QEMU ended, with its log's last lines (naming the log when known). */
export function describeExit(name: string, info: QemuExit, logFile?: string): string {
  const how = info.signal ? `was killed by ${info.signal}` : `exited with status ${info.code}`;
  const tail = info.logTail.length ? `\nlast lines of ${logFile ?? 'its log'}:\n  ${info.logTail.join('\n  ')}` : '';
  return `QEMU for '${name}' ${how}${tail}`;
}

/** Live thumbnails are made at most this often (the library asks about once a second while visible). */
export const THUMBNAIL_INTERVAL_MS = 1_000;
const LAST_SCREEN_WAIT_MS = 1_500;

export class VmSession extends EventEmitter<VmSessionEvents> {
  private primary: Promise<DbusDisplay> | null = null;
  /** displays of heads after the first, opened on demand (head k = the k-th graphic console) */
  private readonly heads = new Map<number, Promise<DbusDisplay>>();
  private ownerServer: OwnerServer | null = null;
  private clipboardOpen: Promise<GuestClipboard | undefined> | null = null;
  private exitReason: string | null = null;
  private lastThumbnail: { at: number; png: Buffer; stale: boolean } | null = null;
  private thumbnailWatch = false;
  /** where stop and suspend keep a thumbnail of the last screen (a library VM's bundle); null: nowhere */
  lastScreenFile: string | null = null;

  private constructor(
    readonly name: string,
    readonly runtimeDir: RuntimeDir,
    readonly pid: number,
    readonly qmp: QmpClient,
    readonly display: DisplayConnection,
    exited: Promise<QemuExit>,
  ) {
    super();
    qmp.on('event', (e: { event: string; data?: unknown }) => this.emit('qmp-event', e.event, e.data));
    // A socket closing is usually QEMU dying: say how it died, if it did within a moment.
    display.explainLoss = (detail) => Promise.race([exited.then((info) => describeExit(name, info)), new Promise<string>((r) => setTimeout(() => r(detail), 3000).unref())]);
    exited.then((info) => {
      this.exitReason = describeExit(name, info);
      this.display.close(this.exitReason);
      this.qmp.close();
      this.ownerServer?.close();
      this.emit('exit', info, this.exitReason);
    });
  }

  static async attach(o: AttachOptions): Promise<VmSession> {
    const qmp = o.qmp ?? (await QmpClient.connect(o.runtimeDir.qmpSocket));
    try {
      const display = await DisplayConnection.open(qmp, o.name);
      return new VmSession(o.name, o.runtimeDir, o.pid, qmp, display, o.exited);
    } catch (err) {
      qmp.close();
      throw err;
    }
  }

  get exited(): boolean {
    return this.exitReason !== null;
  }

  /** The first graphic console's display (registered once, then shared by every consumer here). */
  primaryDisplay(): Promise<DbusDisplay> {
    this.primary ??= (async () => {
      const consoles = await this.display.graphicConsoles();
      if (!consoles.length) throw new Error(`'${this.name}' has no graphic console (display device 'none'?)`);
      return this.display.openDisplay(consoles[0]);
    })();
    this.primary.catch(() => (this.primary = null));
    return this.primary;
  }

  /**
   * The display of head `head` (0 is the primary display): the head-th graphic console, which is
   * one head of a multi-head virtio-vga. Registered once, then shared by every consumer here.
   */
  headDisplay(head: number): Promise<DbusDisplay> {
    if (head === 0) return this.primaryDisplay();
    let d = this.heads.get(head);
    if (!d) {
      d = (async () => {
        const consoles = await this.display.graphicConsoles();
        const id = consoles[head];
        if (id === undefined) throw new SessionError('no-console', `'${this.name}' has no display head ${head} (it has ${consoles.length}; see its displays setting)`);
        return this.display.openDisplay(id);
      })();
      this.heads.set(head, d);
      d.catch(() => this.heads.delete(head));
    }
    return d;
  }

  /**
   * The VM's shared clipboard, one per VM (QEMU keeps one clipboard peer per control connection):
   * registered on the first call, then the same for every viewer of every head. Only for a VM whose
   * config shares it (the caller knows the config); undefined when QEMU refused the registration
   * (said once through `log`).
   */
  sharedClipboard(log: (line: string) => void): Promise<GuestClipboard | undefined> {
    this.clipboardOpen ??= this.display.clipboard(log).catch((err: Error) => {
      log(`clipboard not shared: QEMU refused the registration (${err.message})`);
      return undefined;
    });
    return this.clipboardOpen;
  }

  /**
   * The clipboard for a one-off get or set (`kju clipboard`, over kju.sock or here): the same
   * shared clipboard the viewers use, for a VM launched sharing it (its runtime vm.json says so);
   * else SessionError no-clipboard naming the switch that turns it on.
   */
  async clipboardCall(p: OwnerMethods['clipboard']['params']): Promise<OwnerMethods['clipboard']['value']> {
    const turnOn = `turn it on with "kju edit ${this.name} --clipboard" and restart the VM`;
    if (!readRuntimeVmClipboard(this.runtimeDir)) throw new SessionError('no-clipboard', `VM "${this.name}" does not share its clipboard; ${turnOn}`);
    const clipboard = await this.sharedClipboard((line) => process.stderr.write(`kju: ${this.name}: ${line}\n`));
    if (!clipboard) throw new SessionError('no-clipboard', `QEMU refused kju's clipboard for VM "${this.name}" (see the log above); ${turnOn}`);
    if (p.op === 'get') {
      try {
        return { text: await clipboard.currentText() };
      } catch (err) {
        if (err instanceof GuestClipboardRefused) throw new SessionError('clipboard-refused', err.message, { cause: err });
        throw err;
      }
    }
    // listen before the grab: the guest's agent may fetch it at once
    let timer: NodeJS.Timeout | undefined;
    let onDelivered = () => {};
    const delivered = new Promise<boolean>((resolve) => {
      onDelivered = () => resolve(true);
      clipboard.once('delivered', onDelivered);
      if (p.waitMs) timer = setTimeout(() => resolve(false), p.waitMs);
      else resolve(false);
    });
    try {
      await clipboard.setHostText(p.text);
      return { delivered: await delivered };
    } catch (err) {
      // kju's size limit, checked by the clipboard itself before anything reaches QEMU
      if (err instanceof ClipboardTooLargeError) throw new SessionError('clipboard-refused', err.message, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
      clipboard.off('delivered', onDelivered);
    }
  }

  /**
   * The guest's sound: a new out-listener (QEMU allows several), one per viewer; the caller owns it
   * and closes it. SessionError no-sound when the VM runs without a sound card.
   */
  async openAudio(): Promise<AudioOut> {
    try {
      return await AudioOut.open(this.display.control, this.name);
    } catch (err) {
      if (!(err instanceof DbusCallError)) throw err;
      throw new SessionError('no-sound', `VM "${this.name}" has no sound card (${err.message}); give it one with "kju edit ${this.name} --sound intel-hda" and restart it`, { cause: err });
    }
  }

  /** PNG of head `head`'s current surface, written atomically to `path`. */
  async screenshot(path: string, head = 0): Promise<{ path: string; width: number; height: number; head: number }> {
    const d = await this.headDisplay(head);
    const s = await d.waitForSurface(30_000);
    const png = encodePng(surfaceToRgb(s));
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, png);
    await rename(tmp, path);
    return { path, width: s.width, height: s.height, head };
  }

  /**
   * Asks the guest to take a size on one head (SetUIInfo; absurd sizes clamped, non-sizes refused)
   * and waits up to `timeoutMs` for that head's surface to take it. A guest with nothing that sets
   * modes on hotplug keeps its size: `surface` then says what it has.
   */
  async resize(width: number, height: number, head = 0, timeoutMs = 5_000): Promise<OwnerMethods['resize']['value']> {
    const fit = fitUiInfo(width, height);
    if ('refused' in fit) throw new OwnerRequestError('EINVAL', fit.refused);
    // the reply's `clamped` is the one report of it: the caller says it (a log line here would repeat it)
    const d = await this.headDisplay(head);
    await d.inputCall({ t: 'uiInfo', width: fit.width, height: fit.height });
    const taken = () => d.surface !== null && d.surface.width === fit.width && d.surface.height === fit.height;
    if (!taken() && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          d.off('surface', check);
          resolve();
        };
        const check = () => taken() && done();
        const timer = setTimeout(done, timeoutMs);
        d.on('surface', check);
      });
    }
    const s = d.surface;
    return { head, requested: { width: fit.width, height: fit.height }, clamped: fit.clamped, surface: s ? { width: s.width, height: s.height } : null };
  }

  /**
   * A small PNG (thumbnail.ts) of the current screen, or null before the guest has one. A new one is
   * made only when the screen changed since the last, and at most once per THUMBNAIL_INTERVAL_MS:
   * callers in between get the last one. Node loop.
   */
  async thumbnail(): Promise<Buffer | null> {
    const t = this.lastThumbnail;
    if (t && (!t.stale || Date.now() - t.at < THUMBNAIL_INTERVAL_MS)) return t.png; // a still screen costs nothing
    const d = await this.primaryDisplay().catch(() => null);
    const s = d?.surface;
    if (!d || !s) return null;
    if (!this.thumbnailWatch) {
      // damage or a new surface makes the last thumbnail stale; until then it is the screen
      const stale = () => this.lastThumbnail && (this.lastThumbnail.stale = true);
      d.on('damage', stale);
      d.on('surface', stale);
      this.thumbnailWatch = true;
    }
    const png = thumbnailPng(s);
    this.lastThumbnail = { at: Date.now(), png, stale: false };
    return png;
  }

  /**
   * Keeps a thumbnail of the current screen in `lastScreenFile` (atomically, 0600) before a stop or
   * suspend. Best effort and bounded: a VM without a screen, or a hung display, keeps the old one.
   */
  async saveLastScreen(): Promise<void> {
    const file = this.lastScreenFile;
    if (!file || this.exited) return;
    const save = (async () => {
      const d = await this.primaryDisplay();
      const s = d.surface ?? (await d.waitForSurface(LAST_SCREEN_WAIT_MS));
      const png = thumbnailPng(s);
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFileAtomic(file, png, { backup: false, mode: 0o600 });
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, LAST_SCREEN_WAIT_MS + 500)));
    await Promise.race([save.catch(() => {}), late]).finally(() => clearTimeout(timer));
  }

  async sendStrokes(strokes: KeyStroke[]): Promise<number> {
    const d = await this.primaryDisplay();
    await sendStrokes(strokes, (qnum, down) => d.inputCall({ t: 'key', qnum, down }));
    return strokes.length;
  }

  typeText(text: string): Promise<number> {
    return this.sendStrokes(textToStrokes(text));
  }

  sendChord(chord: string): Promise<number> {
    return this.sendStrokes([parseChord(chord)]);
  }

  /**
   * force: QMP quit (like pulling the plug). Otherwise the ACPI power button (a paused guest is
   * resumed first, or it could not see it), then waits up to `timeoutMs` for the guest to power
   * off; returns false if it did not.
   */
  async stop(force: boolean, timeoutMs = 30_000): Promise<boolean> {
    if (this.exited) return true;
    await this.saveLastScreen();
    const gone = new Promise<true>((resolve) => this.once('exit', () => resolve(true)));
    // QEMU's exit may be noticed only by an unref'd pid poll: a CLI command must stay alive to see it.
    const keepAlive = setInterval(() => {}, 1_000);
    try {
      if (force) {
        // QEMU may close the socket before replying; a hung one never answers: the caller then kills it
        await this.qmp.execute('quit').catch(() => {});
        let quitTimer: NodeJS.Timeout | undefined;
        const late = new Promise<false>((resolve) => (quitTimer = setTimeout(() => resolve(false), timeoutMs)));
        return await Promise.race([gone, late]).finally(() => clearTimeout(quitTimer));
      }
      // a paused guest cannot see the button: every road to stop (CLI, app, owner socket) comes here
      if ((await this.qmp.execute('query-status')).status === 'paused') await this.qmp.execute('cont');
      await this.qmp.execute('system_powerdown');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      return await Promise.race([gone, timeout]).finally(() => clearTimeout(timer));
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** The owner API answered by this session directly (stop and lifecycle without any bookkeeping). */
  ownerApi(): OwnerApi {
    return {
      status: async () => {
        const d = this.primary ? await this.primary.catch(() => null) : null;
        const s = d?.surface;
        return { name: this.name, pid: this.pid, ownerPid: process.pid, surface: s ? { width: s.width, height: s.height, transport: s.transport } : null };
      },
      screenshot: ({ path, head }) => this.screenshot(path, head),
      resize: ({ width, height, head, timeoutMs }) => this.resize(width, height, head, timeoutMs),
      type: async ({ text }) => ({ keys: await this.typeText(text) }),
      key: async ({ chord }) => ({ keys: await this.sendChord(chord) }),
      stop: async ({ force, timeoutMs }) => ({ stopped: await this.stop(force, timeoutMs) }),
      lifecycle: (p) => runLifecycleOp(this.qmp, p),
      forward: async (p) => ({
        forwards: p.op === 'list' ? await listForwards(this.qmp) : p.op === 'add' ? await addForward(this.qmp, p.forward) : await removeForward(this.qmp, p.forward),
      }),
      usb: (p) => runUsbOp(this.qmp, p),
      clipboard: (p) => this.clipboardCall(p),
    };
  }

  /**
   * Serves kju.sock so that other kju processes reach this VM: `api` (default: ownerApi()); an owner
   * that keeps books (the session manager) passes its own. Closed on detach and when QEMU exits.
   */
  async serveOwnerSocket(api: OwnerApi = this.ownerApi()): Promise<OwnerServer> {
    this.ownerServer?.close();
    this.ownerServer = await startOwnerServer(this.runtimeDir.ownerSocket, api);
    return this.ownerServer;
  }

  /** Resolves once every kju.sock request received so far has been answered (before exiting). */
  drainOwnerSocket(): Promise<void> {
    return this.ownerServer?.drain() ?? Promise.resolve();
  }

  /** Leaves QEMU running; closes our connections. */
  detach(): void {
    this.ownerServer?.close();
    this.display.close('detached');
    this.qmp.close();
  }
}

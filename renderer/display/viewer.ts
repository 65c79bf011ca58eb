// Viewer: one open display of one VM. Glues a DisplayStream to the blitter, the local cursor and
// input. Pull-based: at most one frame batch in flight, pulled again as soon as the previous one is
// uploaded (never held for an unrelated animation frame); only a window that stops presenting
// (hidden, stalled) stops pulling, and the sender merges damage meanwhile. Main thread only.
import { decodeFramePacket, FramePacketError } from '../../common/frame-packet.js';
import type { DisplayMessage, DisplayStream, InputMessage, SurfaceInfo, TextClipboard, Transport } from '../../common/contract.js';
import { Blitter, type BlitterOptions, type FrameStats } from './blitter.js';
import { Canvas2dBlitter } from './canvas2d-blitter.js';
import { chooseBlitter, webglRenderer, type BlitterChoice, type BlitterSetting, type DisplayBlitter } from './display-blitter.js';
import { CursorOverlay } from './cursor.js';
import { withSharedViews } from './shared-views.js';
import { ClipboardShare, type ClipboardShareState } from './clipboard-share.js';
import type { ScaleMode } from './scaling.js';
import { attachKeyboard, KeyboardState } from '../input/keyboard.js';
import { attachMouse, MouseState } from '../input/mouse.js';
import { KEY_COMBOS, sendCombo } from '../input/combos.js';

/** Slow-changing facts about the display, for the UI's store. A new object on every change. */
export interface ViewerState {
  surface?: { width: number; height: number; transport: Transport };
  absolute: boolean;
  grabbed: boolean;
  disabled: boolean;
  closed?: string;
  /** malformed packets dropped so far */
  badPackets: number;
  /** which blitter draws and why (undefined when the caller made its own) */
  blitter?: BlitterChoice;
  /** clipboard sharing of this viewer (off until setClipboardShared(true)) */
  clipboard?: ClipboardShareState;
}

/** Fast-changing figures, for subscribe(). One object, reused: copy what you keep. */
export interface ViewerFigures {
  /** frames drawn per second over the last second */
  fps: number;
  /** ms from a batch's arrival to the end of its upload, for the latest batch; NaN before one */
  latencyMs: number;
  /** pixel bytes uploaded over the last second */
  bytesPerSecond: number;
}

export interface ViewerOptions {
  canvas: HTMLCanvasElement;
  stream: DisplayStream;
  onState?: (s: ViewerState) => void;
  /** the grab hotkey fired or the grab changed otherwise */
  onGrabChange?: (grabbed: boolean) => void;
  /** the host's clipboard (KjuBridge.clipboard); navigator.clipboard when absent */
  clipboard?: TextClipboard;
  /** which blitter to use (default 'auto': WebGL2 on a GPU, Canvas 2D where WebGL is software) */
  blitter?: BlitterSetting;
  /** makes the blitter instead (tests pass one that records what it draws) */
  createBlitter?: (canvas: HTMLCanvasElement, opts: BlitterOptions) => DisplayBlitter;
}

/**
 * Batches uploaded but not yet presented after which the next pull waits for the blitter's next
 * present: a window presents at its refresh rate, and batches arrive at ~125/s at most (the
 * listener's 8 ms batching), so only a window that stopped presenting (hidden, stalled) gets here;
 * what it could not have shown anyway is then merged by the sender.
 */
export const MAX_UNPRESENTED_BATCHES = 8;

export class Viewer {
  readonly blitter: DisplayBlitter;
  private readonly cursor: CursorOverlay;
  private readonly keyboard: KeyboardState;
  private readonly mouse: MouseState;
  private readonly detach: Array<() => void> = [];
  private surface: SurfaceInfo | undefined;
  private state: ViewerState = { absolute: true, grabbed: false, disabled: false, badPackets: 0 };
  private readonly figures: ViewerFigures = { fps: 0, latencyMs: NaN, bytesPerSecond: 0 };
  private readonly listeners = new Set<(f: Readonly<ViewerFigures>) => void>();
  /** batches uploaded since the blitter's last present */
  private unpresented = 0;
  private pullAfterPresent = false;
  private frameCount = 0;
  private byteCount = 0;
  private windowStart = performance.now();
  private readonly timer: ReturnType<typeof setInterval>;
  private destroyed = false;
  private warnedNoPixels = false;
  private readonly clipboardShare: ClipboardShare;

  constructor(private readonly opts: ViewerOptions) {
    // Zero-copy streams get surfacePixels from the views the preload posts to this window.
    this.opts = { ...opts, stream: withSharedViews(opts.stream) };
    const { canvas, stream } = this.opts;
    const blitterOpts: BlitterOptions = { onContextRestored: () => this.onContextRestored() };
    if (opts.createBlitter) {
      this.blitter = opts.createBlitter(canvas, blitterOpts);
    } else {
      const choice = chooseBlitter(opts.blitter ?? 'auto', webglRenderer());
      this.blitter = choice.kind === 'webgl' ? new Blitter(canvas, blitterOpts) : new Canvas2dBlitter(canvas, blitterOpts);
      this.state = { ...this.state, blitter: choice };
    }
    this.cursor = new CursorOverlay(canvas);
    const send = (input: InputMessage) => {
      if (!this.state.closed) stream.sendInput(input);
    };
    this.keyboard = new KeyboardState(send, () => this.setGrab(!this.state.grabbed));
    this.mouse = new MouseState(send, {
      surface: () => this.blitter.surfaceSize(),
      placement: () => this.blitter.placement(),
      devicePixelRatio: () => this.blitter.devicePixelRatio(),
      absolute: () => this.state.absolute,
      locked: () => document.pointerLockElement === canvas,
      requestGrab: () => this.setGrab(true),
    });
    this.detach.push(attachKeyboard(canvas, this.keyboard), attachMouse(canvas, this.mouse));
    this.detach.push(this.blitter.subscribe((s) => this.onDraw(s)));
    const onLockChange = () => this.onPointerLockChange();
    document.addEventListener('pointerlockchange', onLockChange);
    this.detach.push(() => document.removeEventListener('pointerlockchange', onLockChange));
    this.timer = setInterval(() => this.rollFigures(), 1000);
    this.clipboardShare = new ClipboardShare(stream, opts.clipboard ?? (typeof navigator !== 'undefined' ? navigator.clipboard : undefined), (c) => this.patch({ clipboard: c }));
    this.state = { ...this.state, clipboard: this.clipboardShare.current };
    stream.onMessage((m) => this.onMessage(m));
    stream.onFrame((buf) => this.onFrame(buf));
    this.requestNext();
  }

  setScaling(mode: ScaleMode, integer: boolean): void {
    this.blitter.setScaling(mode, integer);
    this.syncCursor();
  }

  /** Grab: pointer lock in relative mode (needs a recent user gesture). Release also drops held keys. */
  setGrab(on: boolean): void {
    if (on === this.state.grabbed) return;
    const canvas = this.opts.canvas;
    if (on) {
      if (!this.state.absolute) {
        const p = canvas.requestPointerLock() as unknown as Promise<void> | undefined;
        p?.catch?.(() => this.patch({ grabbed: false }));
      }
      canvas.focus();
    } else {
      if (document.pointerLockElement === canvas) document.exitPointerLock();
      this.mouse.releaseAll();
    }
    this.patch({ grabbed: on });
    this.opts.onGrabChange?.(on);
  }

  /** Asks the guest to take this size in device pixels (Console.SetUIInfo; only virtio-vga follows). */
  requestGuestSize(width: number, height: number): void {
    if (!this.state.closed) this.opts.stream.sendInput({ t: 'uiInfo', width, height });
  }

  /** Sends one of KEY_COMBOS by id, paced. */
  sendCombo(id: string): Promise<void> {
    const combo = KEY_COMBOS.find((c) => c.id === id);
    if (!combo) return Promise.reject(new Error(`no key combo ${id}`));
    return sendCombo(combo, (m) => {
      if (!this.state.closed) this.opts.stream.sendInput(m);
    });
  }

  getState(): ViewerState {
    return this.state;
  }

  /** Subscribes to fps/latency figures (on every draw and once a second); returns unsubscribe. */
  subscribe(cb: (f: Readonly<ViewerFigures>) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearInterval(this.timer);
    for (const d of this.detach.splice(0)) d();
    if (document.pointerLockElement === this.opts.canvas) document.exitPointerLock();
    this.cursor.destroy();
    this.blitter.destroy();
    this.listeners.clear();
    this.clipboardShare.destroy();
    this.opts.stream.close();
  }

  /** Turns clipboard sharing with the guest on or off (the page's clipboard is read on focus). */
  setClipboardShared(on: boolean): void {
    if (!this.state.closed) this.clipboardShare.setShared(on);
  }

  private onMessage(m: DisplayMessage): void {
    if (this.destroyed) return;
    if (this.clipboardShare.onMessage(m)) return;
    switch (m.t) {
      case 'surface':
        this.surface = m.surface;
        this.blitter.setSurface(m.surface.width, m.surface.height);
        this.mouse.resetPosition();
        this.patch({ surface: { width: m.surface.width, height: m.surface.height, transport: m.surface.transport }, disabled: false });
        this.syncCursor();
        break;
      case 'cursor':
        this.cursor.define(m.cursor);
        break;
      case 'mouse':
        this.cursor.moveGuest(m.x, m.y, m.visible);
        break;
      case 'input-mode':
        if (m.absolute && document.pointerLockElement === this.opts.canvas) document.exitPointerLock();
        this.patch({ absolute: m.absolute });
        this.syncCursor();
        break;
      case 'disabled':
        this.patch({ disabled: true });
        break;
      case 'closed':
        this.keyboard.releaseAll();
        this.mouse.releaseAll();
        this.patch({ closed: m.reason, grabbed: false });
        if (document.pointerLockElement === this.opts.canvas) document.exitPointerLock();
        break;
    }
  }

  private onFrame(buf: ArrayBuffer): void {
    if (this.destroyed) return;
    const arrivedAt = performance.now();
    const surface = this.surface;
    let uploaded = false;
    try {
      if (!surface) throw new FramePacketError('frame packet before any surface');
      const frame = decodeFramePacket(buf, surface);
      if (frame.surfaceId !== surface.id) return; // stale: damage of a surface that is gone
      if (frame.pixels) {
        this.blitter.uploadPacked(frame.rects, frame.pixels, arrivedAt);
        uploaded = true;
      } else {
        const view = this.opts.stream.surfacePixels?.(surface.id);
        if (view) {
          this.blitter.uploadFromSurface(frame.rects, view, surface.stride, arrivedAt);
          uploaded = true;
        } else if (!this.warnedNoPixels) {
          this.warnedNoPixels = true;
          console.warn('kju viewer: rect-only frame packets but no surface memory to read; nothing drawn');
        }
      }
      for (const r of frame.rects) this.byteCount += r.w * r.h * 4;
    } catch (e) {
      // A bad packet is dropped; the next good one must still draw.
      this.patch({ badPackets: this.state.badPackets + 1 });
      console.warn('kju viewer: dropped a frame packet:', (e as Error).message);
    } finally {
      // Only an upload asks the blitter for a present; a dropped packet must not hold the next pull.
      if (uploaded) this.unpresented++;
      this.requestNext();
    }
  }

  // Pull at once after each batch, unless MAX_UNPRESENTED_BATCHES wait for a present.
  private requestNext(): void {
    if (this.destroyed || this.state.closed) return;
    if (this.unpresented >= MAX_UNPRESENTED_BATCHES) {
      this.pullAfterPresent = true;
      return;
    }
    this.opts.stream.pull();
  }

  /** The blitter presented what was uploaded: a held pull goes out now. */
  private presented(): void {
    this.unpresented = 0;
    if (this.pullAfterPresent) {
      this.pullAfterPresent = false;
      this.requestNext();
    }
  }

  private onDraw(s: Readonly<FrameStats>): void {
    this.presented();
    this.frameCount++;
    this.figures.latencyMs = s.latencyMs;
    this.syncCursor();
    this.emitFigures();
  }

  private rollFigures(): void {
    const now = performance.now();
    const dt = (now - this.windowStart) / 1000;
    this.figures.fps = Math.round(this.frameCount / dt);
    this.figures.bytesPerSecond = Math.round(this.byteCount / dt);
    this.frameCount = 0;
    this.byteCount = 0;
    this.windowStart = now;
    this.emitFigures();
  }

  private emitFigures(): void {
    for (const cb of this.listeners) cb(this.figures);
  }

  private onContextRestored(): void {
    this.presented(); // no present came while the context was lost: the refresh below must find a pull
    const s = this.surface;
    const view = s && this.opts.stream.surfacePixels?.(s.id);
    if (s && view) this.blitter.uploadFromSurface([{ x: 0, y: 0, w: s.width, h: s.height }], view, s.stride);
    else this.opts.stream.refresh();
  }

  private onPointerLockChange(): void {
    const locked = document.pointerLockElement === this.opts.canvas;
    if (!locked && this.state.grabbed && !this.state.absolute) {
      // The browser ended the lock (Escape, focus change): the grab is over.
      this.mouse.releaseAll();
      this.patch({ grabbed: false });
      this.opts.onGrabChange?.(false);
    }
    this.syncCursor();
  }

  private syncCursor(): void {
    this.cursor.setMode(this.state.absolute, document.pointerLockElement === this.opts.canvas);
    this.cursor.setPlacement(this.blitter.placement(), this.blitter.surfaceSize(), this.blitter.devicePixelRatio());
  }

  private patch(p: Partial<ViewerState>): void {
    this.state = { ...this.state, ...p };
    this.opts.onState?.(this.state);
  }
}

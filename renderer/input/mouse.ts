// Mouse input: DOM pointer and wheel events -> QEMU D-Bus mouse messages. Pure mapping helpers plus
// the DOM glue; runs on the renderer's main thread.
import { MouseButtons, type InputMessage, type MouseButton } from '../../common/contract.js';
import { boxToGuest, type Placement, type Size } from '../display/scaling.js';

/** DOM MouseEvent.button -> QEMU button: 0 left, 1 middle, 2 right, 3 back -> side, 4 forward -> extra. */
export function qemuButton(domButton: number): MouseButton | undefined {
  switch (domButton) {
    case 0:
      return MouseButtons.left;
    case 1:
      return MouseButtons.middle;
    case 2:
      return MouseButtons.right;
    case 3:
      return MouseButtons.side;
    case 4:
      return MouseButtons.extra;
    default:
      return undefined;
  }
}

/** Pixels of wheel travel per guest wheel click (Chromium reports 100-120 px per notch). */
export const WHEEL_STEP_PX = 100;
const LINE_PX = WHEEL_STEP_PX / 3; // Firefox reports 3 lines per notch
const MAX_CLICKS_PER_EVENT = 10;

/**
 * Turns wheel deltas into guest wheel clicks, carrying the remainder so a touchpad's many small
 * deltas add up instead of being lost. Reversing direction drops the remainder.
 */
export class WheelAccumulator {
  private ax = 0;
  private ay = 0;

  /** Returns the buttons to click (press+release each), vertical first. */
  feed(deltaX: number, deltaY: number, deltaMode = 0, pagePx = 800): MouseButton[] {
    const unit = deltaMode === 1 ? LINE_PX : deltaMode === 2 ? pagePx : 1;
    const out: MouseButton[] = [];
    this.ay = this.add(this.ay, deltaY * unit, MouseButtons.wheelUp, MouseButtons.wheelDown, out);
    this.ax = this.add(this.ax, deltaX * unit, MouseButtons.wheelLeft, MouseButtons.wheelRight, out);
    return out;
  }

  reset(): void {
    this.ax = this.ay = 0;
  }

  private add(acc: number, d: number, neg: MouseButton, pos: MouseButton, out: MouseButton[]): number {
    if (d === 0) return acc;
    if (Math.sign(d) !== Math.sign(acc)) acc = 0;
    acc += d;
    let clicks = Math.trunc(acc / WHEEL_STEP_PX);
    acc -= clicks * WHEEL_STEP_PX;
    clicks = Math.max(-MAX_CLICKS_PER_EVENT, Math.min(MAX_CLICKS_PER_EVENT, clicks));
    for (let i = 0; i < Math.abs(clicks); i++) out.push(clicks < 0 ? neg : pos);
    return acc;
  }
}

/**
 * Relative motion in guest pixels from pointer-locked movement in CSS pixels, scaled by how big a
 * guest pixel is on screen, carrying fractions so slow moves are not rounded away.
 */
export class RelativeMotion {
  private fx = 0;
  private fy = 0;

  /** `guestPerCss`: guest pixels per CSS pixel (surface width / displayed CSS width). */
  feed(movementX: number, movementY: number, guestPerCss: number): { dx: number; dy: number } | undefined {
    this.fx += movementX * guestPerCss;
    this.fy += movementY * guestPerCss;
    const dx = Math.trunc(this.fx);
    const dy = Math.trunc(this.fy);
    this.fx -= dx;
    this.fy -= dy;
    return dx || dy ? { dx, dy } : undefined;
  }
}

/** What the mouse needs to know about the display, read at event time. */
export interface MouseView {
  /** the guest surface size, or undefined before the first surface */
  surface(): Size | undefined;
  /** where the surface is drawn, in device pixels relative to the element */
  placement(): Placement | undefined;
  /** device pixels per CSS pixel of the element's backing store */
  devicePixelRatio(): number;
  absolute(): boolean;
  /** pointer lock is held (relative mode only sends motion then) */
  locked(): boolean;
  /** called on a click in relative mode while not locked: the viewer requests the grab */
  requestGrab(): void;
}

/** Mouse state that does not depend on the DOM: button tracking and the event -> message mapping. */
export class MouseState {
  private readonly held = new Set<MouseButton>();
  private lastX = -1;
  private lastY = -1;
  readonly wheel = new WheelAccumulator();
  readonly rel = new RelativeMotion();

  constructor(
    private readonly send: (m: InputMessage) => void,
    private readonly view: MouseView,
  ) {}

  /** `cssX/cssY` relative to the element; returns the guest position sent (absolute mode) */
  move(cssX: number, cssY: number, movementX: number, movementY: number): { x: number; y: number } | undefined {
    const surface = this.view.surface();
    const place = this.view.placement();
    if (!surface || !place) return undefined;
    if (this.view.absolute()) {
      const dpr = this.view.devicePixelRatio();
      const p = boxToGuest(cssX * dpr, cssY * dpr, place, surface);
      if (p.x !== this.lastX || p.y !== this.lastY) {
        this.lastX = p.x;
        this.lastY = p.y;
        this.send({ t: 'abs', x: p.x, y: p.y });
      }
      return p;
    }
    if (!this.view.locked()) return undefined;
    const guestPerCss = (surface.width / place.w) * this.view.devicePixelRatio();
    const d = this.rel.feed(movementX, movementY, guestPerCss);
    if (d) this.send({ t: 'rel', dx: d.dx, dy: d.dy });
    return undefined;
  }

  /** Returns true when the event was for the guest. */
  button(domButton: number, down: boolean): boolean {
    if (!this.view.absolute() && !this.view.locked()) {
      if (down && domButton === 0) this.view.requestGrab();
      return false;
    }
    const b = qemuButton(domButton);
    if (b === undefined) return false;
    if (down) this.held.add(b);
    else if (!this.held.delete(b)) return true; // release of a press the guest never saw
    this.send({ t: 'button', down, button: b });
    return true;
  }

  wheelEvent(deltaX: number, deltaY: number, deltaMode: number): boolean {
    if (!this.view.absolute() && !this.view.locked()) return false;
    for (const b of this.wheel.feed(deltaX, deltaY, deltaMode)) {
      this.send({ t: 'button', down: true, button: b });
      this.send({ t: 'button', down: false, button: b });
    }
    return true;
  }

  releaseAll(): void {
    for (const b of this.held) this.send({ t: 'button', down: false, button: b });
    this.held.clear();
    this.wheel.reset();
  }

  /** Absolute mode: a drag that leaves the element keeps reporting to it. */
  capturesPointer(): boolean {
    return this.view.absolute();
  }

  /** Forgets the last absolute position (surface changed), so the next move is sent. */
  resetPosition(): void {
    this.lastX = this.lastY = -1;
  }
}

/**
 * Connects MouseState to the display element. In absolute mode the pointer is captured while a
 * button is down so drags that leave the element keep going. `onLocalMove` gets every absolute
 * guest position, for local cursor drawing. Returns a function that detaches everything.
 */
export function attachMouse(target: HTMLElement, state: MouseState, onLocalMove?: (x: number, y: number) => void): () => void {
  const local = (e: MouseEvent) => {
    const r = target.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top] as const;
  };
  const onMove = (e: PointerEvent) => {
    const [x, y] = local(e);
    const p = state.move(x, y, e.movementX, e.movementY);
    if (p && onLocalMove) onLocalMove(p.x, p.y);
  };
  // Buttons come from mouse events: pointerdown/up fire only for the first and last of a chord.
  const onPointerDown = (e: PointerEvent) => {
    target.focus();
    if (state.capturesPointer()) target.setPointerCapture?.(e.pointerId);
  };
  const onDown = (e: MouseEvent) => {
    const [x, y] = local(e);
    state.move(x, y, 0, 0);
    if (state.button(e.button, true)) e.preventDefault();
  };
  const onUp = (e: MouseEvent) => {
    if (state.button(e.button, false)) e.preventDefault();
  };
  const onWheel = (e: WheelEvent) => {
    if (state.wheelEvent(e.deltaX, e.deltaY, e.deltaMode)) e.preventDefault();
  };
  const onContext = (e: Event) => e.preventDefault();
  const onBlur = () => state.releaseAll();
  target.addEventListener('pointermove', onMove);
  target.addEventListener('pointerdown', onPointerDown);
  target.addEventListener('mousedown', onDown);
  target.addEventListener('mouseup', onUp);
  target.addEventListener('wheel', onWheel, { passive: false });
  target.addEventListener('contextmenu', onContext);
  window.addEventListener('blur', onBlur);
  return () => {
    state.releaseAll();
    target.removeEventListener('pointermove', onMove);
    target.removeEventListener('pointerdown', onPointerDown);
    target.removeEventListener('mousedown', onDown);
    target.removeEventListener('mouseup', onUp);
    target.removeEventListener('wheel', onWheel);
    target.removeEventListener('contextmenu', onContext);
    window.removeEventListener('blur', onBlur);
  };
}

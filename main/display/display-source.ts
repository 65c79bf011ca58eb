// What every consumer of a guest screen on the Node side (kju serve, the Electron utility process,
// `kju screenshot`, the bench) sees: the current surface, damage, cursor, and an input sink.
// Implemented by the D-Bus display (real QEMU) and by SyntheticDisplay (scripted damage for tests
// of consumers and for benchmarks; the real-QEMU tests stay the proof).
import type { EventEmitter } from 'node:events';
import type { CursorShape, InputMessage, Rect, SurfaceInfo } from '../../common/contract.js';

/** A surface plus its pixels. `pixels` is `stride * height` bytes, B,G,R,X per pixel. */
export interface Surface extends SurfaceInfo {
  /** Map transport: a view over QEMU's memfd (SharedArrayBuffer). Copy: a buffer kju owns. Valid until the next 'surface' event. */
  pixels: Uint8Array;
}

export interface DisplaySourceEvents {
  /** a new surface replaces the old one atomically; a full-surface damage follows implicitly */
  surface: [surface: Surface];
  /** rects within the current surface whose pixels changed; already bounds-checked */
  damage: [rects: Rect[]];
  cursor: [cursor: CursorShape];
  mouse: [x: number, y: number, visible: boolean];
  'input-mode': [absolute: boolean, modifiers: number];
  disabled: [];
  /** the source is gone (QEMU exited, connection lost); the reason is user-readable */
  closed: [reason: string];
}

/** Events are emitted on the Node event loop of the thread that created the source. */
export interface DisplaySource extends EventEmitter<DisplaySourceEvents> {
  readonly surface: Surface | null;
  readonly cursor: CursorShape | null;
  readonly absolute: boolean;
  /** keyboard modifier state as of the last 'input-mode' event (QEMU's Keyboard.Modifiers), for viewers that join later */
  readonly modifiers: number;
  /** Fire-and-forget; errors are reported through 'closed' if the link died. */
  sendInput(input: InputMessage): void;
  close(): void;
}

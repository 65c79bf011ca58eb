// What the viewer draws through (the WebGL2 Blitter or the Canvas 2D one), and which of the two a
// window gets: WebGL2 on a real GPU, Canvas 2D where WebGL is software (a software GL canvas is
// read back on every draw: 40–60% of a core in SwiftShader, against ~2% for Canvas 2D). Main thread.
import type { Rect } from '../../common/contract.js';
import type { FrameStats } from './blitter.js';
import type { Placement, ScaleMode, Size } from './scaling.js';

export type BlitterKind = 'webgl' | 'canvas2d';
/** the user's setting: 'auto' decides from the GL renderer; the others force one blitter */
export type BlitterSetting = 'auto' | BlitterKind;
export const BLITTER_SETTINGS: readonly BlitterSetting[] = ['auto', 'webgl', 'canvas2d'];

/** Which blitter a window uses and why, in words for the status bar. */
export interface BlitterChoice {
  kind: BlitterKind;
  reason: string;
}

/** The drawing half of a viewer; every method runs on the renderer's main thread. */
export interface DisplayBlitter {
  readonly kind?: BlitterKind;
  surfaceSize(): Size | undefined;
  setSurface(width: number, height: number): void;
  /** damage read in place from a whole-surface B,G,R,X buffer, `stride` bytes per row */
  uploadFromSurface(rects: readonly Rect[], pixels: Uint8Array, stride: number, arrivedAt?: number): void;
  /** damage packed per rect (FramePacket layout) */
  uploadPacked(rects: readonly Rect[], pixels: readonly Uint8Array[], arrivedAt?: number): void;
  setScaling(mode: ScaleMode, integer: boolean): void;
  placement(): Placement | undefined;
  devicePixelRatio(): number;
  resize(): void;
  subscribe(cb: (s: Readonly<FrameStats>) => void): () => void;
  isContextLost(): boolean;
  /** the surface at 1:1, RGBA, top row first; allocates (tests, screenshots) */
  readPixels(): Uint8Array;
  finish(): void;
  destroy(): void;
}

const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The renderer string WebGL reports (unmasked where the browser allows), or undefined without WebGL2. */
export function webglRenderer(): string | undefined {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl2');
  if (!gl) return undefined;
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext(); // give the probe's context back at once
  return name;
}

/** Decides the blitter for `setting`; `renderer` is webglRenderer()'s answer (passed in for tests). */
export function chooseBlitter(setting: BlitterSetting, renderer: string | undefined): BlitterChoice {
  if (setting === 'canvas2d') return { kind: 'canvas2d', reason: 'Canvas 2D: set in the settings' };
  if (renderer === undefined) return { kind: 'canvas2d', reason: 'Canvas 2D: WebGL2 is not available' };
  if (setting === 'webgl') return { kind: 'webgl', reason: `WebGL2: set in the settings (${renderer})` };
  return SOFTWARE_GL.test(renderer) ? { kind: 'canvas2d', reason: `Canvas 2D: WebGL is software here (${renderer})` } : { kind: 'webgl', reason: `WebGL2: GPU ${renderer}` };
}

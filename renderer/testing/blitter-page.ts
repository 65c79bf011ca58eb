// Test page for e2e/renderer-blitter.test.ts: exposes the blitter, the viewer and the frame packet
// codec to Playwright, plus helpers that build synthetic BGRX surfaces. Not part of the app bundle.
import { Blitter } from '../display/blitter.js';
import { Canvas2dBlitter } from '../display/canvas2d-blitter.js';
import { chooseBlitter, webglRenderer, type DisplayBlitter } from '../display/display-blitter.js';
import { Viewer } from '../display/viewer.js';
import { encodeFramePacket, decodeFramePacket } from '../../common/frame-packet.js';
import type { DisplayMessage, DisplayStream, InputMessage, Rect } from '../../common/contract.js';

/** A BGRX surface whose pixel (x,y) depends on `seed`; X is junk so alpha forcing is tested. */
export function makeSurface(w: number, h: number, seed: number, stride = w * 4, shared = false): Uint8Array {
  const buf = shared ? new SharedArrayBuffer(stride * h) : new ArrayBuffer(stride * h);
  const px = new Uint8Array(buf);
  for (let y = 0; y < h; y++) paintRow(px, stride, 0, y, w, seed);
  return px;
}

function paintRow(px: Uint8Array, stride: number, x0: number, y: number, w: number, seed: number): void {
  for (let x = x0; x < x0 + w; x++) {
    const o = y * stride + x * 4;
    px[o] = (x * 7 + seed) & 255; // B
    px[o + 1] = (y * 13 + seed * 3) & 255; // G
    px[o + 2] = (x + y * 3 + seed * 5) & 255; // R
    px[o + 3] = (x * y + seed) & 127; // X: junk, never 255
  }
}

/** Repaints `rects` of a surface with a new seed. */
export function paintRects(px: Uint8Array, stride: number, rects: readonly Rect[], seed: number): void {
  for (const r of rects) for (let y = r.y; y < r.y + r.h; y++) paintRow(px, stride, r.x, y, r.w, seed);
}

/** What the screen must show for a BGRX surface: RGBA with alpha 255. */
export function expectedRgba(px: Uint8Array, w: number, h: number, stride: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = y * stride + x * 4;
      const d = (y * w + x) * 4;
      out[d] = px[s + 2];
      out[d + 1] = px[s + 1];
      out[d + 2] = px[s];
      out[d + 3] = 255;
    }
  }
  return out;
}

/** undefined when equal, else where they first differ. */
export function firstDifference(a: Uint8Array, b: Uint8Array, w: number): string | undefined {
  if (a.length !== b.length) return `lengths differ: ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const p = i >> 2;
      return `pixel ${p % w},${Math.floor(p / w)} channel ${i & 3}: got ${a[i]}, want ${b[i]}`;
    }
  }
  return undefined;
}

export function makeCanvas(cssW = 320, cssH = 240): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.style.width = `${cssW}px`;
  c.style.height = `${cssH}px`;
  c.style.display = 'block';
  const holder = document.createElement('div');
  holder.style.position = 'relative';
  holder.appendChild(c);
  document.body.appendChild(holder);
  return c;
}

/** A DisplayStream the test drives: push messages and frames in, see pulls and input come out. */
export function makeFakeStream() {
  let onMsg: (m: DisplayMessage) => void = () => {};
  let onFrame: (b: ArrayBuffer) => void = () => {};
  const log = { pulls: 0, inputs: [] as InputMessage[], refreshes: 0, closed: false };
  const stream: DisplayStream = {
    onMessage: (cb) => {
      onMsg = cb;
    },
    onFrame: (cb) => {
      onFrame = cb;
    },
    pull: () => {
      log.pulls++;
    },
    sendInput: (i) => {
      log.inputs.push(i);
    },
    close: () => {
      log.closed = true;
    },
    refresh: () => {
      log.refreshes++;
    },
  };
  return { stream, log, message: (m: DisplayMessage) => onMsg(m), frame: (b: ArrayBuffer) => onFrame(b) };
}

/** Rejects when `p` has not settled within `ms`, naming what was awaited. */
export function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`no ${what} within ${ms} ms`)), ms))]);
}

/** Median/min/max ms of uploading `rect` of a w×h SAB surface and waiting for the GPU, n times. */
export function timeUpload(b: DisplayBlitter, w: number, h: number, rect: Rect, n: number) {
  b.setSurface(w, h);
  const px = makeSurface(w, h, 1, w * 4, true);
  b.uploadFromSurface([rect], px, w * 4);
  b.finish();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    b.uploadFromSurface([rect], px, w * 4);
    b.finish();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, c) => a - c);
  return { median: samples[n >> 1], min: samples[0], max: samples[n - 1] };
}

export function glRendererName(): string {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return 'none';
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

/** every blitter, by kind: the exact-pixel tests run on each */
const blitters = { webgl: Blitter, canvas2d: Canvas2dBlitter };
const api = {
  Blitter,
  blitters,
  chooseBlitter,
  webglRenderer,
  Viewer,
  encodeFramePacket,
  decodeFramePacket,
  makeSurface,
  paintRects,
  expectedRgba,
  firstDifference,
  makeCanvas,
  makeFakeStream,
  within,
  timeUpload,
  glRendererName,
};
export type BlitterPageApi = typeof api;
(window as unknown as { kju: BlitterPageApi }).kju = api;
document.title = 'ready';

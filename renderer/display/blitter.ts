// WebGL2 blitter: one RGBA8 texture per guest surface, damage uploaded straight from the caller's
// bytes (B,G,R,X; the shader swizzles), drawn on requestAnimationFrame only when something changed.
// An imperative object owned by the viewer; React never sees it or its pixels. Everything runs on
// the renderer's main thread.
import type { Rect } from '../../common/contract.js';
import type { Placement, ScaleMode, Size } from './scaling.js';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { CanvasFit, type FrameStats } from './canvas-fit.js';

export type { FrameStats } from './canvas-fit.js';

export interface BlitterOptions {
  /** called after the GL context came back; pixels are gone, the caller should ask for a full refresh */
  onContextRestored?: () => void;
  /** letterbox colour, 0..1 RGB */
  background?: [number, number, number];
}

const VERTEX = `#version 300 es
out vec2 v_uv;
void main() {
  vec2 p = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));
  v_uv = vec2(p.x, 1.0 - p.y); // texture row 0 is the guest's top row
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

// QEMU's x8r8g8b8 is B,G,R,X in memory; uploaded as RGBA it reads back as .bgr, X is ignored.
const FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D u_tex;
in vec2 v_uv;
out vec4 o_color;
void main() {
  o_color = vec4(texture(u_tex, v_uv).bgr, 1.0);
}`;

export class BlitterError extends KjuError {
  override name = 'BlitterError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('webgl-failed', message, options);
  }
}

export class Blitter {
  private gl: WebGL2RenderingContext;
  private program: WebGLProgram | null = null;
  private vao: WebGLVertexArrayObject | null = null;
  private texture: WebGLTexture | null = null;
  private lost = false;
  /** backing size, placement, frame stats and draw scheduling, shared with the Canvas 2D blitter */
  private readonly fit: CanvasFit;
  private readonly bg: [number, number, number];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly opts: BlitterOptions = {},
  ) {
    const gl = canvas.getContext('webgl2', {
      alpha: false,
      antialias: false,
      depth: false,
      stencil: false,
      premultipliedAlpha: false,
      preserveDrawingBuffer: false,
    });
    if (!gl) throw new BlitterError('WebGL2 is not available in this window');
    this.gl = gl;
    this.bg = opts.background ?? [0.09, 0.09, 0.1];
    canvas.addEventListener('webglcontextlost', this.onLost);
    canvas.addEventListener('webglcontextrestored', this.onRestored);
    this.initResources();
    this.fit = new CanvasFit(canvas, {
      backingSizeSet: () => this.fit.requestDraw(),
      paint: this.draw,
      mayDraw: () => !this.lost, // no frames while the context is lost; onRestored asks again
    });
    this.fit.resize();
  }

  /** the fit holds the surface's size (it places it); read here by the upload checks */
  private get surface(): Size | undefined {
    return this.fit.surfaceSize();
  }

  /** The current surface size, or undefined before the first setSurface. */
  surfaceSize(): Size | undefined {
    return this.fit.surfaceSize();
  }

  /** Allocates the texture for a new surface (its old pixels are dropped; the area shows black). */
  setSurface(width: number, height: number): void {
    if (!(width > 0 && height > 0)) throw new BlitterError(`surface ${width}x${height} is empty`);
    const max = this.gl.getParameter(this.gl.MAX_TEXTURE_SIZE) as number;
    if (width > max || height > max) throw new BlitterError(`surface ${width}x${height} exceeds this GPU's ${max}px texture limit`);
    this.fit.setSurface({ width, height });
    this.allocateTexture();
    this.fit.requestDraw();
  }

  /**
   * Uploads damage from a whole-surface buffer (e.g. a SharedArrayBuffer view of QEMU's memfd)
   * in place: WebGL reads each rect through UNPACK_ROW_LENGTH/SKIP_*, no copy on our side.
   * `stride` is bytes per row; `arrivedAt` is performance.now() when the damage reached the renderer.
   */
  uploadFromSurface(rects: readonly Rect[], pixels: Uint8Array, stride: number, arrivedAt = NaN): void {
    if (!this.texture || !this.surface || this.lost) return;
    if (stride % 4 !== 0 || stride < this.surface.width * 4) throw new BlitterError(`stride ${stride} does not fit a ${this.surface.width}px wide surface`);
    if (pixels.byteLength < stride * (this.surface.height - 1) + this.surface.width * 4) throw new BlitterError('surface buffer is smaller than the surface');
    const gl = this.gl;
    const t0 = performance.now();
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.pixelStorei(gl.UNPACK_ROW_LENGTH, stride / 4);
    for (let i = 0; i < rects.length; i++) {
      const r = rects[i];
      if (!this.inside(r)) throw new BlitterError(`rect ${r.x},${r.y} ${r.w}x${r.h} lies outside the surface`);
      gl.pixelStorei(gl.UNPACK_SKIP_PIXELS, r.x);
      gl.pixelStorei(gl.UNPACK_SKIP_ROWS, r.y);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, r.x, r.y, r.w, r.h, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
      this.fit.stats.bytes += r.w * r.h * 4;
    }
    this.resetUnpack();
    this.fit.afterUpload(rects.length, t0, arrivedAt);
  }

  /** Uploads damage whose pixels come packed per rect (FramePacket layout: w*4 bytes per row). */
  uploadPacked(rects: readonly Rect[], pixels: readonly Uint8Array[], arrivedAt = NaN): void {
    if (!this.texture || !this.surface || this.lost) return;
    if (pixels.length !== rects.length) throw new BlitterError(`${rects.length} rects but ${pixels.length} pixel blocks`);
    const gl = this.gl;
    const t0 = performance.now();
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    for (let i = 0; i < rects.length; i++) {
      const r = rects[i];
      if (!this.inside(r)) throw new BlitterError(`rect ${r.x},${r.y} ${r.w}x${r.h} lies outside the surface`);
      if (pixels[i].byteLength < r.w * r.h * 4) throw new BlitterError(`rect ${i} has ${pixels[i].byteLength} bytes, needs ${r.w * r.h * 4}`);
      gl.pixelStorei(gl.UNPACK_ROW_LENGTH, r.w);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, r.x, r.y, r.w, r.h, gl.RGBA, gl.UNSIGNED_BYTE, pixels[i]);
      this.fit.stats.bytes += r.w * r.h * 4;
    }
    this.resetUnpack();
    this.fit.afterUpload(rects.length, t0, arrivedAt);
  }

  setScaling(mode: ScaleMode, integer: boolean): void {
    this.fit.setScaling(mode, integer);
    this.fit.requestDraw();
  }

  /** Where the surface is drawn, in device pixels relative to the canvas; undefined without a surface. */
  placement(): Placement | undefined {
    return this.fit.placement();
  }

  /** Device pixels per CSS pixel of the canvas backing store. */
  devicePixelRatio(): number {
    return this.fit.devicePixelRatio();
  }

  /** Re-reads the canvas's CSS size and devicePixelRatio (the ResizeObserver calls this itself). */
  resize(): void {
    this.fit.resize();
  }

  /** Subscribes to per-frame stats, called from the draw callback; returns the unsubscribe function. */
  subscribe(cb: (s: Readonly<FrameStats>) => void): () => void {
    return this.fit.subscribe(cb);
  }

  isContextLost(): boolean {
    return this.lost;
  }

  /**
   * The guest surface as drawn at 1:1 (after the swizzle and alpha), RGBA, top row first.
   * For tests and screenshots: allocates, and waits for the GPU.
   */
  readPixels(): Uint8Array {
    const gl = this.gl;
    if (!this.surface || !this.texture || this.lost) return new Uint8Array(0);
    const { width: w, height: h } = this.surface;
    const target = gl.createTexture();
    const fb = gl.createFramebuffer();
    gl.bindTexture(gl.TEXTURE_2D, target);
    gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA8, w, h);
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, target, 0);
    gl.viewport(0, 0, w, h);
    this.drawQuad();
    const raw = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, raw);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.deleteFramebuffer(fb);
    gl.deleteTexture(target);
    const out = new Uint8Array(raw.length);
    const row = w * 4;
    for (let y = 0; y < h; y++) out.set(raw.subarray((h - 1 - y) * row, (h - y) * row), y * row);
    this.fit.requestDraw();
    return out;
  }

  /** Blocks until the GPU has done all submitted work. For measurements only. */
  finish(): void {
    const px = new Uint8Array(4);
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, px);
  }

  destroy(): void {
    this.fit.destroy();
    this.canvas.removeEventListener('webglcontextlost', this.onLost);
    this.canvas.removeEventListener('webglcontextrestored', this.onRestored);
    const gl = this.gl;
    if (!this.lost) {
      gl.deleteTexture(this.texture);
      gl.deleteProgram(this.program);
      gl.deleteVertexArray(this.vao);
    }
    this.texture = this.program = this.vao = null;
  }

  private initResources(): void {
    const gl = this.gl;
    const compile = (type: number, src: string) => {
      const s = gl.createShader(type);
      if (!s) throw new BlitterError('could not create a shader');
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new BlitterError(`shader: ${gl.getShaderInfoLog(s)}`);
      return s;
    };
    const vs = compile(gl.VERTEX_SHADER, VERTEX);
    const fs = compile(gl.FRAGMENT_SHADER, FRAGMENT);
    const p = gl.createProgram();
    if (!p) throw new BlitterError('could not create a program');
    gl.attachShader(p, vs);
    gl.attachShader(p, fs);
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new BlitterError(`program: ${gl.getProgramInfoLog(p)}`);
    gl.deleteShader(vs);
    gl.deleteShader(fs);
    this.program = p;
    this.vao = gl.createVertexArray();
    gl.useProgram(p);
    gl.uniform1i(gl.getUniformLocation(p, 'u_tex'), 0);
    gl.disable(gl.BLEND);
    gl.disable(gl.DEPTH_TEST);
  }

  private allocateTexture(): void {
    const gl = this.gl;
    if (!this.surface || this.lost) return;
    // texStorage2D is immutable: a new size needs a new texture.
    if (this.texture) gl.deleteTexture(this.texture);
    this.texture = gl.createTexture();
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA8, this.surface.width, this.surface.height);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  }

  private inside(r: Rect): boolean {
    const s = this.surface!;
    return r.w > 0 && r.h > 0 && r.x >= 0 && r.y >= 0 && r.x + r.w <= s.width && r.y + r.h <= s.height;
  }

  private resetUnpack(): void {
    const gl = this.gl;
    gl.pixelStorei(gl.UNPACK_ROW_LENGTH, 0);
    gl.pixelStorei(gl.UNPACK_SKIP_PIXELS, 0);
    gl.pixelStorei(gl.UNPACK_SKIP_ROWS, 0);
  }

  /** The animation-frame paint: the whole canvas, letterbox and surface (WebGL has no partial redraw here). */
  private readonly draw = (): boolean => {
    if (this.lost) return false;
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(this.bg[0], this.bg[1], this.bg[2], 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    const p = this.fit.placement();
    if (p && this.texture) {
      gl.viewport(p.x, this.canvas.height - p.y - p.h, p.w, p.h);
      this.drawQuad();
    }
    return true;
  };

  private drawQuad(): void {
    const gl = this.gl;
    gl.useProgram(this.program);
    gl.bindVertexArray(this.vao);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  private readonly onLost = (e: Event): void => {
    e.preventDefault(); // without this the context never comes back
    this.lost = true;
    this.fit.cancelDraw();
    this.texture = this.program = this.vao = null;
  };

  private readonly onRestored = (): void => {
    this.lost = false;
    this.initResources();
    this.allocateTexture();
    this.fit.requestDraw();
    this.opts.onContextRestored?.();
  };
}

#!/usr/bin/env node
// Draws kju's icon with pngjs: a rounded dark "screen" with a glowing Q-like ring and a play
// wedge. Writes build/icon.png (512x512) and build/icons/<size>x<size>.png for Linux.
// Regenerate with: node build/make-icons.mjs
import { PNG } from 'pngjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Coverage of the shapes at (x, y) in unit coordinates (0..1), as [r, g, b, a] 0..1. */
function shade(x, y) {
  const inRoundRect = (px, py, x0, y0, x1, y1, r) => {
    const cx = Math.min(Math.max(px, x0 + r), x1 - r);
    const cy = Math.min(Math.max(py, y0 + r), y1 - r);
    return Math.hypot(px - cx, py - cy) <= r;
  };
  if (!inRoundRect(x, y, 0.06, 0.06, 0.94, 0.94, 0.2)) return [0, 0, 0, 0];
  // background: vertical gradient, deep blue to near black
  let c = [0.1 - 0.06 * y, 0.16 - 0.08 * y, 0.3 - 0.14 * y];
  const d = Math.hypot(x - 0.47, y - 0.47);
  const ring = Math.abs(d - 0.25) < 0.055;
  // the Q's tail, a slanted bar toward the lower right
  const t = (x - 0.6 + (y - 0.6)) / 2;
  const off = Math.abs(x - 0.6 - (y - 0.6)) / Math.SQRT2;
  const tail = t > -0.02 && t < 0.14 && off < 0.05;
  // play wedge inside the ring
  const inWedge = x > 0.39 && x < 0.6 && Math.abs(y - 0.47) < (0.6 - x) * 0.62;
  if (ring || tail) c = [0.36 + 0.3 * (1 - y), 0.78, 0.98];
  else if (inWedge) c = [0.98, 0.98, 1];
  return [...c, 1];
}

function render(size) {
  const png = new PNG({ width: size, height: size });
  const ss = 4; // 4x4 supersampling for smooth edges
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const [cr, cg, cb, ca] = shade((px + (sx + 0.5) / ss) / size, (py + (sy + 0.5) / ss) / size);
          r += cr * ca;
          g += cg * ca;
          b += cb * ca;
          a += ca;
        }
      }
      const i = (py * size + px) * 4;
      png.data[i] = a ? Math.round((r / a) * 255) : 0;
      png.data[i + 1] = a ? Math.round((g / a) * 255) : 0;
      png.data[i + 2] = a ? Math.round((b / a) * 255) : 0;
      png.data[i + 3] = Math.round((a / (ss * ss)) * 255);
    }
  }
  return PNG.sync.write(png);
}

mkdirSync(join(root, 'build/icons'), { recursive: true });
writeFileSync(join(root, 'build/icon.png'), render(512));
for (const size of [16, 32, 48, 64, 128, 256, 512]) writeFileSync(join(root, `build/icons/${size}x${size}.png`), render(size));
console.log('make-icons: build/icon.png and build/icons/*.png written');

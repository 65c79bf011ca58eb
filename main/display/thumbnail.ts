// A guest screen as a small PNG for the library's VM rows: scaled down from the surface (B,G,R,X)
// by averaging each destination pixel's source box, so a colour block stays its colour. Runs on the
// Node loop of the caller; cost is one pass over the surface's pixels.
import type { Surface } from './display-source.js';
import { encodePng, type RgbImage } from './screenshot.js';

/** Width of a thumbnail in pixels (the height keeps the guest's aspect ratio). */
export const THUMBNAIL_WIDTH = 192;

/** The surface scaled to at most `maxWidth` wide (never up), as packed RGB. */
export function scaleSurface(s: Pick<Surface, 'width' | 'height' | 'stride' | 'pixels'>, maxWidth = THUMBNAIL_WIDTH): RgbImage {
  const width = Math.max(1, Math.min(maxWidth, s.width));
  const height = Math.max(1, Math.round((s.height * width) / s.width));
  const rgb = Buffer.alloc(width * height * 3);
  const px = s.pixels;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor((y * s.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * s.height) / height));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * s.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * s.width) / width));
      let r = 0,
        g = 0,
        b = 0;
      for (let sy = y0; sy < y1; sy++) {
        let i = sy * s.stride + x0 * 4;
        for (let sx = x0; sx < x1; sx++, i += 4) {
          b += px[i];
          g += px[i + 1];
          r += px[i + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      rgb[o++] = Math.round(r / n);
      rgb[o++] = Math.round(g / n);
      rgb[o++] = Math.round(b / n);
    }
  }
  return { width, height, rgb };
}

/** PNG bytes of the surface scaled down to a thumbnail. */
export function thumbnailPng(s: Pick<Surface, 'width' | 'height' | 'stride' | 'pixels'>, maxWidth = THUMBNAIL_WIDTH): Buffer {
  return encodePng(scaleSurface(s, maxWidth));
}

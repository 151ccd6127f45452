/**
 * `Image.convert('RGB')` from each source mode, as Pillow 9.4's `Convert.c` does it:
 * alpha is dropped without compositing, CMYK uses Pillow's naive formula (no ICC), mode `I`
 * clips to 0–255, mode `F` goes through `L` (`f2l`: clipped, truncated), grey is replicated.
 */
import type { RawImage } from './image.js';

/** Pillow's `MULDIV255`: a·b/255 rounded, with integer ops. */
export function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** `cmyk2rgb`: each channel `nk − c·nk/255` with `nk = 255 − K`. */
export function cmykToRgb(c: number, m: number, y: number, k: number, out: Uint8Array, o: number): void {
  const nk = 255 - k;
  const clip = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  out[o] = clip(nk - mulDiv255(c, nk));
  out[o + 1] = clip(nk - mulDiv255(m, nk));
  out[o + 2] = clip(nk - mulDiv255(y, nk));
}

/** `convert('RGB')` of `img` → [height, width, 3] bytes (RGB and P data is returned as is, not copied). */
export function toRgb(img: RawImage): Uint8Array {
  const n = img.width * img.height;
  const src = img.data;
  if (img.mode === 'RGB' || img.mode === 'P') return src as Uint8Array; // P is stored as palette colours already
  const out = new Uint8Array(n * 3);
  switch (img.mode) {
    case 'RGBA':
      for (let i = 0; i < n; i++) {
        out[i * 3] = src[i * 4];
        out[i * 3 + 1] = src[i * 4 + 1];
        out[i * 3 + 2] = src[i * 4 + 2];
      }
      return out;
    case 'L':
    case '1':
    case 'LA': {
      const ch = img.channels;
      for (let i = 0; i < n; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = src[i * ch];
      return out;
    }
    case 'I':
      for (let i = 0; i < n; i++) {
        const v = src[i];
        out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v <= 0 ? 0 : v >= 255 ? 255 : v;
      }
      return out;
    case 'F':
      for (let i = 0; i < n; i++) {
        const v = src[i];
        out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
      }
      return out;
    case 'CMYK':
      for (let i = 0; i < n; i++) cmykToRgb(src[i * 4], src[i * 4 + 1], src[i * 4 + 2], src[i * 4 + 3], out, i * 3);
      return out;
  }
}

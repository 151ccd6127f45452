/**
 * The whole CLIP image transform: decode → resize in the source mode → centre crop (or pad) →
 * `convert('RGB')` → ToTensor → Normalize, reproducing OpenAI `clip/clip.py` `_transform` under
 * Pillow 9.4 / torchvision 0.14 byte for byte.
 */
import type { PreprocessConfig } from './config.js';
import { OPENAI_CLIP_CONFIG, validateConfig } from './config.js';
import { toRgb } from './convert.js';
import { holdOn, processDecodeBudget } from './decode-budget.js';
import { decodeImage, type DecodeOptions } from './decode.js';
import { planCrop } from './geometry.js';
import type { RawImage } from './image.js';
import type { Filter, Window } from './resample.js';
import { cropSamples, premultiplyAlpha, resampleConvolution, resampleNearest, unpremultiplyAlpha } from './resample.js';
import { normalizeChwSimd } from './simd.js';

/** Options of a single call beyond the transform config. */
export interface PreprocessCallOptions {
  /** Name for error messages when the input is a buffer. */
  name?: string;
}

/**
 * Resize `img` to `outW×outH` as `Image.resize(size, filter)` in Pillow 9.4 would, computing
 * only `win`: `P` and `1` always use nearest, `RGBA`/`LA` are resampled premultiplied (except
 * with nearest), and an unchanged size is a plain copy.
 */
export function resizeWindow(img: RawImage, outW: number, outH: number, interpolation: Filter, win: Window, into?: Uint8Array): RawImage {
  const { width, height, channels: ch, mode } = img;
  const filter: Filter = mode === 'P' || mode === '1' ? 'nearest' : interpolation;
  let data: Uint8Array | Int32Array | Float32Array;
  if (outW === width && outH === height) {
    data = cropSamples(img.data, width, ch, win);
  } else if (filter === 'nearest') {
    data = resampleNearest(img.data, width, height, ch, outW, outH, win);
  } else if ((mode === 'RGBA' || mode === 'LA') && img.data instanceof Uint8Array) {
    const alphaCh = ch as 2 | 4;
    const pre = premultiplyAlpha(img.data, alphaCh);
    data = unpremultiplyAlpha(resampleConvolution(pre, width, height, ch, outW, outH, filter, win), alphaCh);
  } else {
    data = resampleConvolution(img.data, width, height, ch, outW, outH, filter, win, img.data instanceof Uint8Array ? into : undefined);
  }
  return { width: win.width, height: win.height, channels: ch, mode, data };
}

function fillRgb(cfg: PreprocessConfig): [number, number, number] {
  const f = cfg.fillColor;
  return typeof f === 'number' ? [f, f, f] : [f[0], f[1], f[2]];
}

/**
 * The 8-bit RGB crop for a decoded image: [size, size, 3] bytes, row-major (what the reference
 * hashes as `rgb_u8_sha256`). Where the crop is larger than the resized image, the border is
 * `cfg.fillColor` (RGB; torchvision pads in the source mode, which differs only for P/CMYK sources).
 */
export function transformDecoded(img: RawImage, cfg: PreprocessConfig = OPENAI_CLIP_CONFIG): Uint8Array {
  return cropToRgb(img, cfg, false);
}

/** Reused RGB crop for `preprocessImage`, which normalises it right away (see `resample.ts` on why). */
let rgbScratch = new Uint8Array(0);

/** The image without `b` pixels on every edge (as `Image.crop((b, b, w − b, h − b))`); unchanged when too small to trim. */
export function trimBorder(img: RawImage, b: number): RawImage {
  if (b === 0 || img.width <= 2 * b || img.height <= 2 * b) return img;
  const win: Window = { left: b, top: b, width: img.width - 2 * b, height: img.height - 2 * b };
  return { ...img, width: win.width, height: win.height, data: cropSamples(img.data, img.width, img.channels, win) };
}

function cropToRgb(decoded: RawImage, cfg: PreprocessConfig, reuse: boolean): Uint8Array {
  const img = cfg.trimBorder ? trimBorder(decoded, cfg.trimBorder) : decoded;
  const src: RawImage = cfg.convertRgbFirst && img.mode !== 'RGB' ? { width: img.width, height: img.height, channels: 3, mode: 'RGB', data: toRgb(img) } : img;
  // torchvision's Resize reads the size before PIL loads (and orients) the image; converting or trimming first loads it.
  const planned = !cfg.convertRgbFirst && !cfg.trimBorder && decoded.openedSize ? decoded.openedSize : src;
  const plan = planCrop(planned.width, planned.height, cfg);
  const S = plan.size;
  const { width: rw, height: rh } = plan.resized;
  // The part of the crop that lies inside the resized image.
  const x0 = Math.max(0, plan.left);
  const y0 = Math.max(0, plan.top);
  const x1 = Math.min(rw, plan.left + S);
  const y1 = Math.min(rh, plan.top + S);
  const win: Window = { left: x0, top: y0, width: x1 - x0, height: y1 - y0 };
  let into: Uint8Array | undefined;
  if (reuse && src.mode === 'RGB' && win.width === S && win.height === S) {
    if (rgbScratch.length !== S * S * 3) rgbScratch = new Uint8Array(S * S * 3);
    into = rgbScratch;
  }
  const rgb = toRgb(resizeWindow(src, rw, rh, cfg.interpolation, win, into));
  if (win.width === S && win.height === S) return rgb;

  const out = new Uint8Array(S * S * 3);
  const fill = fillRgb(cfg);
  for (let i = 0; i < S * S; i++) out.set(fill, i * 3);
  const dx = x0 - plan.left;
  const dy = y0 - plan.top;
  for (let y = 0; y < win.height; y++) out.set(rgb.subarray(y * win.width * 3, (y + 1) * win.width * 3), ((dy + y) * S + dx) * 3);
  return out;
}

/**
 * ToTensor + Normalize on an 8-bit RGB image ([size, size, 3]) → float32 CHW [3, size, size].
 * Same float32 steps as torch: `(v / 255 − mean) / std`, each rounded to float32. With `valueScale`
 * (Hugging Face `rescale_factor`, 1 for `do_rescale: false`) the first step is numpy's `v · valueScale`
 * in float64, rounded to float32. `normalization: 'immich'` gives Immich's steps instead (see `PreprocessConfig`).
 */
export function normalizeToChw(rgb: Uint8Array, size: number, mean: readonly number[], std: readonly number[], valueScale?: number, normalization: 'torch' | 'immich' = 'torch'): Float32Array {
  const plane = size * size;
  if (rgb.length !== plane * 3) throw new RangeError(`expected ${plane * 3} RGB bytes, got ${rgb.length}`);
  // One 256-entry table per channel: the float32 result for each byte value.
  const lut = new Float32Array(768);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    // Immich (numpy float32): img *= 1/std; img -= mean/std. One double op rounded to float32 is numpy's float32 op.
    const inv = Math.fround(1 / s);
    const shift = Math.fround(m / s);
    for (let v = 0; v < 256; v++) {
      lut[c * 256 + v] =
        normalization === 'immich'
          ? Math.fround(Math.fround(Math.fround(v / 255) * inv) - shift)
          : Math.fround(Math.fround(Math.fround(valueScale === undefined ? v / 255 : v * valueScale) - m) / s);
    }
  }
  const fast = normalizeChwSimd(rgb, lut); // the same lookups, ~3× faster than this loop in V8
  if (fast) return fast;
  const out = new Float32Array(plane * 3);
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    out[i] = lut[rgb[j]];
    out[plane + i] = lut[256 + rgb[j + 1]];
    out[2 * plane + i] = lut[512 + rgb[j + 2]];
  }
  return out;
}

/**
 * Decode `input` within the process-wide decode budget and run `use` on the pixels; the budget is
 * held until `use` returns (the transform's copies are counted too: `convert('RGB')` first, the trim).
 */
async function withDecoded<T>(input: string | Uint8Array, cfg: PreprocessConfig, name: string | undefined, use: (img: RawImage) => T): Promise<T> {
  const hold = holdOn(processDecodeBudget());
  try {
    const admit = (bytes: number, pixels: number) => hold.admit(bytes + (cfg.convertRgbFirst ? 3 * pixels : 0) + (cfg.trimBorder ? bytes : 0));
    // In its own frame, so that nothing here still refers to the pixels when the hold is released.
    return await decodeAndUse(input, { maxPixels: cfg.maxPixels, applyExifOrientation: cfg.applyExifOrientation, name, admit }, use);
  } finally {
    hold.release();
  }
}

async function decodeAndUse<T>(input: string | Uint8Array, opts: DecodeOptions, use: (img: RawImage) => T): Promise<T> {
  return use(await decodeImage(input, opts));
}

/** Decode and transform to the 8-bit RGB crop: [size, size, 3] bytes. */
export async function preprocessToRgbU8(input: string | Uint8Array, cfg: PreprocessConfig = OPENAI_CLIP_CONFIG, opts: PreprocessCallOptions = {}): Promise<Uint8Array> {
  validateConfig(cfg);
  return withDecoded(input, cfg, opts.name, (img) => transformDecoded(img, cfg));
}

/**
 * The model input for one image: float32 CHW [3, size, size], normalised.
 * Throws `UsageError` naming the file for unreadable, corrupt, unsupported or oversized images.
 */
export async function preprocessImage(input: string | Uint8Array | RawImage, cfg: PreprocessConfig = OPENAI_CLIP_CONFIG, opts: PreprocessCallOptions = {}): Promise<Float32Array> {
  validateConfig(cfg);
  // No await between the crop and its normalisation: the reused crop buffer cannot be clobbered.
  const transform = (img: RawImage) => normalizeToChw(cropToRgb(img, cfg, true), cfg.size, cfg.mean, cfg.std, cfg.valueScale, cfg.normalization);
  return isRawImage(input) ? transform(input) : withDecoded(input, cfg, opts.name, transform);
}

/** Pixels already decoded (array datasets such as CIFAR: what `Image.fromarray` gives PIL) rather than a file or encoded bytes. */
export function isRawImage(input: unknown): input is RawImage {
  return typeof input === 'object' && input !== null && !(input instanceof Uint8Array) && 'mode' in input && 'data' in input;
}

/**
 * A port of Pillow's resampling (`libImaging/Resample.c` and, for NEAREST, `Geometry.c`
 * `ImagingScaleAffine`), as Pillow 9.4 runs it under `Image.resize`. Every arithmetic step is
 * kept in Pillow's order and precision so the output is byte-identical:
 * - separable convolution, horizontal pass first, over only the input rows the vertical pass reads;
 * - filter support scaled by the reduction factor, coefficients normalised to sum 1 in double;
 * - 8-bit images: coefficients as 22-bit fixed point (PRECISION_BITS = 32 - 8 - 2), rounding
 *   bias 2^21, and the intermediate image clipped to 8 bits between the two passes;
 * - 32-bit integer images (mode `I`): double accumulation, rounded half away from zero, no clip;
 * - 32-bit float images (mode `F`): double accumulation, stored as float32.
 *
 * Each output pixel depends only on its own coefficients, so computing just a window of the
 * resized image (the centre crop) gives the same bytes as resizing everything and cropping —
 * which keeps a 3000×5 → 134400×224 resize cheap.
 *
 * The 8-bit passes normally run as WebAssembly SIMD kernels (`simd.ts`) doing this same
 * integer arithmetic; the JavaScript passes here are the reference they are tested against and
 * the fallback where the kernels cannot run.
 *
 * All images here are interleaved [height, width, channels] typed arrays.
 */

import { mulDiv255 } from './convert.js';
import { convolve8Simd, identityCoeffs } from './simd.js';

export type Filter = 'bicubic' | 'bilinear' | 'nearest';

/** A rectangle of the resized image, in resized-image pixel coordinates. */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Filter weights of one axis for a run of output positions. */
export interface Coeffs {
  /** Coefficients per output position (stride `ksize`). */
  ksize: number;
  /** Per output position: first input index and number of taps. */
  bounds: Int32Array;
  /** Normalised weights, `ksize` per output position, unused tail zero. */
  kk: Float64Array;
}

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const ONE = 1 << PRECISION_BITS;

/** Pillow's bicubic kernel with a = -0.5 (Keys), evaluated in its operation order. */
export function bicubicKernel(x: number): number {
  const a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/** Pillow's triangle kernel. */
export function bilinearKernel(x: number): number {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

const KERNELS = {
  bicubic: { fn: bicubicKernel, support: 2.0 },
  bilinear: { fn: bilinearKernel, support: 1.0 },
} as const;

/**
 * `precompute_coeffs` for output positions `first .. first+count-1` of an `inSize → outSize`
 * resize (box = whole input). Index 0 of the result is output position `first`.
 */
export function precomputeCoeffs(inSize: number, outSize: number, filter: 'bicubic' | 'bilinear', first = 0, count = outSize): Coeffs {
  const { fn, support: baseSupport } = KERNELS[filter];
  const scale = inSize / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = baseSupport * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const kk = new Float64Array(count * ksize);
  const bounds = new Int32Array(count * 2);
  const ss = 1.0 / filterscale;
  for (let i = 0; i < count; i++) {
    const xx = first + i;
    const center = (xx + 0.5) * scale; // in0 = 0
    // C casts truncate toward zero, then clamp
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const k0 = i * ksize;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = fn((x + xmin - center + 0.5) * ss);
      kk[k0 + x] = w;
      ww += w;
    }
    if (ww !== 0.0) for (let x = 0; x < xmax; x++) kk[k0 + x] /= ww;
    bounds[i * 2] = xmin;
    bounds[i * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

/** `normalize_coeffs_8bpc`: weights to 22-bit fixed point, rounded half away from zero. */
export function normalizeCoeffs8(kk: Float64Array): Int32Array {
  const out = new Int32Array(kk.length);
  for (let i = 0; i < kk.length; i++) {
    const v = kk[i];
    out[i] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
  }
  return out;
}

/** Pillow's `clip8` for a fixed-point accumulator. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** C `ROUND_UP`: round half away from zero, then truncate to int. */
function roundUp(f: number): number {
  return Math.trunc(f >= 0.0 ? f + 0.5 : f - 0.5);
}

/** `into` (when given and large enough, trimmed to `n`) or a new array. */
function outputBuffer(n: number, into?: Uint8Array): Uint8Array {
  if (!into) return new Uint8Array(n);
  if (into.length < n) throw new RangeError(`output buffer holds ${into.length} samples, need ${n}`);
  return into.length === n ? into : into.subarray(0, n);
}

/**
 * Reused storage for the 8-bit intermediate between the two passes. Fresh large typed arrays
 * cost page faults and zeroing (about 1 ms per ImageNet image here); the passes run
 * synchronously, so one buffer per thread is safe.
 */
let scratch = new Uint8Array(0);
const SCRATCH_MAX = 16 << 20;

function intermediate(n: number): Uint8Array | undefined {
  if (n > SCRATCH_MAX) return undefined;
  if (scratch.length < n) scratch = new Uint8Array(n);
  return scratch.subarray(0, n);
}

/**
 * Horizontal 8-bit pass: rows `rowFirst .. rowFirst+rowCount-1` of `src` ([h, srcW, ch]) →
 * [rowCount, outCount, ch], output columns described by `c` (already windowed).
 * Pillow sums in int32 and never overflows (samples ≤ 255, weights sum to 2^22 with small
 * negative lobes), so int32 arithmetic (`Math.imul`, `| 0`) gives the same numbers.
 */
export function horizontalPass8(src: Uint8Array, srcW: number, ch: number, rowFirst: number, rowCount: number, c: Coeffs, into?: Uint8Array): Uint8Array {
  const out = outputBuffer(rowCount * (c.bounds.length / 2) * ch, into);
  if (ch === 3) horizontalRgb(src, srcW, rowFirst, rowCount, c, out);
  else horizontalAny(src, srcW, ch, rowFirst, rowCount, c, out);
  return out;
}

/** The RGB hot path: three rows per sweep share each column's weights (fewer loads: ~1.3× faster in V8 than one row). */
function horizontalRgb(src: Uint8Array, srcW: number, rowFirst: number, rowCount: number, c: Coeffs, out: Uint8Array): void {
  const outW = c.bounds.length / 2;
  const k = normalizeCoeffs8(c.kk);
  const { ksize, bounds } = c;
  const srcRow = srcW * 3;
  const outRow = outW * 3;
  let yy = 0;
  for (; yy + 2 < rowCount; yy += 3) {
    const r0 = (yy + rowFirst) * srcRow;
    let o0 = yy * outRow;
    let o1 = o0 + outRow;
    let o2 = o1 + outRow;
    for (let xx = 0; xx < outW; xx++) {
      const n = bounds[xx * 2 + 1];
      const k0 = xx * ksize;
      let a0 = HALF;
      let a1 = HALF;
      let a2 = HALF;
      let b0 = HALF;
      let b1 = HALF;
      let b2 = HALF;
      let c0 = HALF;
      let c1 = HALF;
      let c2 = HALF;
      let p = r0 + bounds[xx * 2] * 3;
      for (let x = 0; x < n; x++, p += 3) {
        const w = k[k0 + x];
        const q = p + srcRow;
        const r = q + srcRow;
        a0 = (a0 + Math.imul(src[p], w)) | 0;
        a1 = (a1 + Math.imul(src[p + 1], w)) | 0;
        a2 = (a2 + Math.imul(src[p + 2], w)) | 0;
        b0 = (b0 + Math.imul(src[q], w)) | 0;
        b1 = (b1 + Math.imul(src[q + 1], w)) | 0;
        b2 = (b2 + Math.imul(src[q + 2], w)) | 0;
        c0 = (c0 + Math.imul(src[r], w)) | 0;
        c1 = (c1 + Math.imul(src[r + 1], w)) | 0;
        c2 = (c2 + Math.imul(src[r + 2], w)) | 0;
      }
      out[o0++] = clip8(a0);
      out[o0++] = clip8(a1);
      out[o0++] = clip8(a2);
      out[o1++] = clip8(b0);
      out[o1++] = clip8(b1);
      out[o1++] = clip8(b2);
      out[o2++] = clip8(c0);
      out[o2++] = clip8(c1);
      out[o2++] = clip8(c2);
    }
  }
  if (yy < rowCount) horizontalAny(src, srcW, 3, rowFirst + yy, rowCount - yy, c, out.subarray(yy * outRow));
}

/** Any channel count, one channel at a time. */
function horizontalAny(src: Uint8Array, srcW: number, ch: number, rowFirst: number, rowCount: number, c: Coeffs, out: Uint8Array): void {
  const outW = c.bounds.length / 2;
  const k = normalizeCoeffs8(c.kk);
  const { ksize, bounds } = c;
  for (let yy = 0; yy < rowCount; yy++) {
    const rowBase = (yy + rowFirst) * srcW;
    for (let b = 0; b < ch; b++) {
      for (let xx = 0; xx < outW; xx++) {
        const n = bounds[xx * 2 + 1];
        const k0 = xx * ksize;
        let ss = HALF;
        let p = (rowBase + bounds[xx * 2]) * ch + b;
        for (let x = 0; x < n; x++, p += ch) ss = (ss + Math.imul(src[p], k[k0 + x])) | 0;
        out[(yy * outW + xx) * ch + b] = clip8(ss);
      }
    }
  }
}

/**
 * Vertical 8-bit pass over `src` ([rows, width, ch]) whose row 0 is input row `rowOffset`;
 * output rows described by `c` (already windowed) → [outCount, width, ch]. Samples are
 * independent here, so rows are swept six samples at a time sharing the row weights.
 */
export function verticalPass8(src: Uint8Array, width: number, ch: number, rowOffset: number, c: Coeffs, into?: Uint8Array): Uint8Array {
  const outH = c.bounds.length / 2;
  const k = normalizeCoeffs8(c.kk);
  const { ksize, bounds } = c;
  const rowLen = width * ch;
  const out = outputBuffer(outH * rowLen, into);
  for (let yy = 0; yy < outH; yy++) {
    const first = (bounds[yy * 2] - rowOffset) * rowLen;
    const n = bounds[yy * 2 + 1];
    const k0 = yy * ksize;
    const o = yy * rowLen;
    let i = 0;
    for (; i + 6 <= rowLen; i += 6) {
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let s3 = HALF;
      let s4 = HALF;
      let s5 = HALF;
      let p = first + i;
      for (let y = 0; y < n; y++, p += rowLen) {
        const w = k[k0 + y];
        s0 = (s0 + Math.imul(src[p], w)) | 0;
        s1 = (s1 + Math.imul(src[p + 1], w)) | 0;
        s2 = (s2 + Math.imul(src[p + 2], w)) | 0;
        s3 = (s3 + Math.imul(src[p + 3], w)) | 0;
        s4 = (s4 + Math.imul(src[p + 4], w)) | 0;
        s5 = (s5 + Math.imul(src[p + 5], w)) | 0;
      }
      out[o + i] = clip8(s0);
      out[o + i + 1] = clip8(s1);
      out[o + i + 2] = clip8(s2);
      out[o + i + 3] = clip8(s3);
      out[o + i + 4] = clip8(s4);
      out[o + i + 5] = clip8(s5);
    }
    for (; i < rowLen; i++) {
      let ss = HALF;
      let p = first + i;
      for (let y = 0; y < n; y++, p += rowLen) ss = (ss + Math.imul(src[p], k[k0 + y])) | 0;
      out[o + i] = clip8(ss);
    }
  }
  return out;
}

/** Mode `I` (int32) or `F` (float32) samples: Pillow's `_32bpc` passes. */
type Samples32 = Int32Array | Float32Array;

/** Mode `I` rounds each sum (ROUND_UP); mode `F` stores it as float32. Neither clips. */
function store32(out: Samples32): (ss: number) => number {
  return out instanceof Int32Array ? roundUp : (ss) => ss;
}

/** Horizontal pass for mode `I`/`F` (double weights, no clipping). */
export function horizontalPass32<T extends Samples32>(src: T, srcW: number, rowFirst: number, rowCount: number, c: Coeffs): T {
  const outW = c.bounds.length / 2;
  const { ksize, bounds, kk } = c;
  const out = new (src.constructor as new (n: number) => T)(rowCount * outW);
  const store = store32(out);
  for (let yy = 0; yy < rowCount; yy++) {
    const rowBase = (yy + rowFirst) * srcW;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = bounds[xx * 2];
      const n = bounds[xx * 2 + 1];
      let ss = 0.0;
      for (let x = 0; x < n; x++) ss += src[rowBase + xmin + x] * kk[xx * ksize + x];
      out[yy * outW + xx] = store(ss);
    }
  }
  return out;
}

/** Vertical pass for mode `I`/`F`; `src` row 0 is input row `rowOffset`. */
export function verticalPass32<T extends Samples32>(src: T, width: number, rowOffset: number, c: Coeffs): T {
  const outH = c.bounds.length / 2;
  const { ksize, bounds, kk } = c;
  const out = new (src.constructor as new (n: number) => T)(outH * width);
  const store = store32(out);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2] - rowOffset;
    const n = bounds[yy * 2 + 1];
    for (let xx = 0; xx < width; xx++) {
      let ss = 0.0;
      for (let y = 0; y < n; y++) ss += src[(ymin + y) * width + xx] * kk[yy * ksize + y];
      out[yy * width + xx] = store(ss);
    }
  }
  return out;
}

type Samples = Uint8Array | Samples32;

/** Copy a window out of an image that needs no resampling along either axis. */
export function cropSamples<T extends Samples>(src: T, srcW: number, ch: number, win: Window): T {
  const out = new (src.constructor as new (n: number) => T)(win.width * win.height * ch);
  for (let y = 0; y < win.height; y++) {
    const from = ((win.top + y) * srcW + win.left) * ch;
    out.set(src.subarray(from, from + win.width * ch) as never, y * win.width * ch);
  }
  return out;
}

/**
 * `ImagingResampleInner` restricted to `win`: resize `src` ([srcH, srcW, ch]) to outW×outH with
 * a convolution filter and return only the window, [win.height, win.width, ch].
 * Uint8Array input takes the 8-bit fixed-point path, Int32Array/Float32Array the mode-`I`/`F` path.
 * `into` optionally receives the 8-bit result (it must hold at least the window).
 */
export function resampleConvolution<T extends Samples>(
  src: T,
  srcW: number,
  srcH: number,
  ch: number,
  outW: number,
  outH: number,
  filter: 'bicubic' | 'bilinear',
  win: Window,
  into?: Uint8Array,
): T {
  const is8 = src instanceof Uint8Array;
  if (!is8 && ch !== 1) throw new Error('resample: int32 and float32 images must have one channel');
  const needH = outW !== srcW;
  const needV = outH !== srcH;
  if (!needH && !needV) return cropSamples(src, srcW, ch, win);

  const cv = needV ? precomputeCoeffs(srcH, outH, filter, win.top, win.height) : null;
  // Input rows the vertical pass reads (Pillow's ybox), or exactly the window rows.
  const rowFirst = cv ? cv.bounds[0] : win.top;
  const rowEnd = cv ? cv.bounds[cv.bounds.length - 2] + cv.bounds[cv.bounds.length - 1] : win.top + win.height;
  const rows = rowEnd - rowFirst;

  const chh = needH ? precomputeCoeffs(srcW, outW, filter, win.left, win.width) : null;
  if (is8) {
    const out = resample8Simd(src as Uint8Array, srcW, ch, win, rowFirst, rows, chh, cv, into);
    if (out) return out as T;
  }

  let mid: Samples;
  if (chh) {
    mid = is8
      ? horizontalPass8(src as Uint8Array, srcW, ch, rowFirst, rows, chh, cv ? intermediate(rows * win.width * ch) : into)
      : horizontalPass32(src as Samples32, srcW, rowFirst, rows, chh);
  } else {
    // No horizontal pass: the vertical pass reads the window's source columns directly.
    mid = cropSamples(src, srcW, ch, { left: win.left, top: rowFirst, width: win.width, height: rows });
  }
  if (!cv) return mid as T;
  return (is8 ? verticalPass8(mid as Uint8Array, win.width, ch, rowFirst, cv, into) : verticalPass32(mid as Samples32, win.width, rowFirst, cv)) as T;
}

/**
 * Both 8-bit passes through the WebAssembly SIMD kernels (`simd.ts`), a skipped pass as the
 * identity; null where they cannot run, and the JavaScript passes take over.
 */
function resample8Simd(src: Uint8Array, srcW: number, ch: number, win: Window, rowFirst: number, rows: number, chh: Coeffs | null, cv: Coeffs | null, into?: Uint8Array): Uint8Array | null {
  const h = chh ? { c: chh, k: normalizeCoeffs8(chh.kk) } : identityCoeffs(win.left, win.width);
  const v = cv ? { c: cv, k: normalizeCoeffs8(cv.kk) } : identityCoeffs(win.top, win.height);
  return convolve8Simd(src, srcW, ch, rowFirst, rows, h.c, h.k, v.c, v.k, into);
}

/**
 * Pillow's NEAREST resize (`ImagingScaleAffine` with a = [in/out, 0, 0, 0, in/out, 0]):
 * source positions accumulate in double from the first output pixel, as Pillow does, so
 * rounding drift matches; positions that fall outside the source stay 0.
 */
export function nearestIndices(inSize: number, outSize: number): Int32Array {
  const a = inSize / outSize;
  const tab = new Int32Array(outSize);
  let xo = a * 0.5;
  for (let x = 0; x < outSize; x++) {
    const xin = xo < 0.0 ? -1 : Math.trunc(xo);
    tab[x] = xin >= 0 && xin < inSize ? xin : -1;
    xo += a;
  }
  return tab;
}

/** NEAREST resize of `src` ([srcH, srcW, ch]) to outW×outH, returning only `win`. */
export function resampleNearest<T extends Samples>(src: T, srcW: number, srcH: number, ch: number, outW: number, outH: number, win: Window): T {
  if (outW === srcW && outH === srcH) return cropSamples(src, srcW, ch, win);
  const xs = nearestIndices(srcW, outW);
  const ys = nearestIndices(srcH, outH);
  const out = new (src.constructor as new (n: number) => T)(win.width * win.height * ch);
  for (let y = 0; y < win.height; y++) {
    const yi = ys[win.top + y];
    if (yi < 0) continue;
    for (let x = 0; x < win.width; x++) {
      const xi = xs[win.left + x];
      if (xi < 0) continue;
      const p = (yi * srcW + xi) * ch;
      const o = (y * win.width + x) * ch;
      for (let b = 0; b < ch; b++) out[o + b] = src[p + b];
    }
  }
  return out;
}

/**
 * RGBA→RGBa / LA→La (`rgbA2rgba`, `lA2la` in Convert.c): colour channels times alpha/255.
 * Alpha is the last channel; works in place on a copy.
 */
export function premultiplyAlpha(src: Uint8Array, ch: 2 | 4): Uint8Array {
  const out = src.slice();
  for (let p = 0; p < out.length; p += ch) {
    const a = out[p + ch - 1];
    for (let b = 0; b < ch - 1; b++) out[p + b] = mulDiv255(out[p + b], a);
  }
  return out;
}

/** RGBa→RGBA / La→LA (`rgba2rgbA`, `la2lA`): integer 255·c/alpha, clipped; alpha 0 and 255 pass through. */
export function unpremultiplyAlpha(src: Uint8Array, ch: 2 | 4): Uint8Array {
  const out = src.slice();
  for (let p = 0; p < out.length; p += ch) {
    const a = out[p + ch - 1];
    if (a === 255 || a === 0) continue;
    for (let b = 0; b < ch - 1; b++) {
      const v = Math.trunc((255 * out[p + b]) / a);
      out[p + b] = v > 255 ? 255 : v;
    }
  }
  return out;
}

/**
 * Resize and centre-crop geometry, following torchvision 0.14 (`Resize`, `CenterCrop`) and
 * open_clip (`ResizeKeepRatio`, `CenterCropOrPad`) with Python's float and rounding semantics.
 */

export type ResizeMode = 'shortest' | 'longest' | 'squash';
export type CropRounding = 'half-even' | 'floor';
/**
 * How `shortest` computes the long side: torchvision's `int(size·long/short)`, or Immich's
 * `int((long/short)·size)` (`transforms.py` `resize_pil`), which rounds the ratio first and so is one
 * pixel short where size·long/short is a whole number the ratio cannot hold (14×61 at 28: 121, not 122).
 */
export type LongSideRule = 'torchvision' | 'immich';

export interface Size {
  width: number;
  height: number;
}

/** Python 3 `round(x)` for finite x: nearest integer, ties to even (2.5 → 2, 3.5 → 4). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Size after the resize step.
 * - `shortest` (torchvision `Resize(int)`): short side → `size`, long side → `int(size·long/short)`
 *   (float division, truncation).
 * - `longest` (open_clip `ResizeKeepRatio(longest=1)`): divide both sides by the larger of the
 *   two ratios and `round()` half to even.
 * - `squash`: exactly size×size.
 */
export function resizedSize(width: number, height: number, size: number, mode: ResizeMode, longSide: LongSideRule = 'torchvision'): Size {
  if (!(width > 0 && height > 0)) throw new RangeError(`image size must be positive, got ${width}x${height}`);
  if (mode === 'squash') return { width: size, height: size };
  if (mode === 'longest') {
    const ratio = Math.max(height / size, width / size);
    return { width: Math.max(1, roundHalfEven(width / ratio)), height: Math.max(1, roundHalfEven(height / ratio)) };
  }
  const long = (l: number, short: number) => Math.trunc(longSide === 'immich' ? (l / short) * size : (size * l) / short);
  if (width <= height) return { width: size, height: long(height, width) };
  return { width: long(width, height), height: size };
}

/**
 * Offset of a `crop`-long window on an axis of length `length`.
 * Crop larger than the image: the image is padded first (torchvision pads `(crop-len)//2` before),
 * giving a negative offset. Otherwise `round((len-crop)/2)` half-even (torchvision) or floor
 * (Hugging Face `CLIPImageProcessor`; also Immich's `int(len/2 − crop/2)`, the same for len ≥ crop).
 */
export function cropOffset(length: number, crop: number, rounding: CropRounding): number {
  if (crop > length) return -Math.floor((crop - length) / 2);
  return rounding === 'half-even' ? roundHalfEven((length - crop) / 2) : Math.floor((length - crop) / 2);
}

/** Where the output crop sits in the resized image (left/top may be negative: padding). */
export interface CropPlan {
  resized: Size;
  left: number;
  top: number;
  /** Output side length (square). */
  size: number;
}

/** Resize then centre-crop (or pad) geometry for a `width×height` source. */
export function planCrop(
  width: number,
  height: number,
  opts: { size: number; resizeSize?: number; resizeMode: ResizeMode; cropRounding: CropRounding; longSide?: LongSideRule },
): CropPlan {
  const resized = resizedSize(width, height, opts.resizeSize ?? opts.size, opts.resizeMode, opts.longSide);
  return {
    resized,
    left: cropOffset(resized.width, opts.size, opts.cropRounding),
    top: cropOffset(resized.height, opts.size, opts.cropRounding),
    size: opts.size,
  };
}

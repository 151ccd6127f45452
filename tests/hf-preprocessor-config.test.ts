/**
 * Hugging Face `preprocessor_config.json`: every key transformers' CLIP and SigLIP image processors read is
 * honoured with the class's own defaults, and anything else is refused. The pixel checks compute the
 * expected tensor independently: the image is already model-sized (resizing is the identity), so
 * transformers' pipeline reduces to `(v · rescale − mean) / std` per byte, written out here.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { fromHfPreprocessorConfig, preprocessImage, type PreprocessConfig } from '../src/models/preprocess/index.js';

const SIDE = 16;

/** A SIDE×SIDE RGB image whose bytes cover 0–255 in each channel. */
async function fullRangePng(width = SIDE, height = SIDE): Promise<{ png: Buffer; rgb: Uint8Array }> {
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7919 + (i % 3) * 85) & 255);
  const png = await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { png, rgb };
}

/** transformers: `rescale` (float64 multiply, cast to float32) then `normalize` in float32; CHW out. */
function transformersPixels(rgb: Uint8Array, plane: number, o: { rescale: number | null; mean: number[] | null; std: number[] | null }): Float32Array {
  const out = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      let v = rgb[i * 3 + c];
      v = o.rescale === null ? v : Math.fround(v * o.rescale);
      if (o.mean && o.std) v = Math.fround(Math.fround(v - Math.fround(o.mean[c])) / Math.fround(o.std[c]));
      out[c * plane + i] = v;
    }
  }
  return out;
}

async function pixels(cfg: PreprocessConfig, png: Buffer): Promise<Float32Array> {
  return preprocessImage(new Uint8Array(png), cfg);
}

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

describe('Hugging Face preprocessor_config.json semantics (transformers image processors)', () => {
  const base = { image_processor_type: 'CLIPImageProcessor', resample: 3, size: { shortest_edge: SIDE }, crop_size: { height: SIDE, width: SIDE } };

  it('do_normalize: false gives the rescaled values without mean/std', async () => {
    const { png, rgb } = await fullRangePng();
    const got = await pixels(fromHfPreprocessorConfig({ ...base, do_normalize: false }), png);
    // torch's v / 255 is the reference's rescale step (1/255 as a factor differs in the last bit for some v)
    const want = Float32Array.from({ length: SIDE * SIDE * 3 }, (_, k) => Math.fround(rgb[(k % (SIDE * SIDE)) * 3 + Math.floor(k / (SIDE * SIDE))] / 255));
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('do_rescale: false normalises the 0–255 values themselves', async () => {
    const { png, rgb } = await fullRangePng();
    const got = await pixels(fromHfPreprocessorConfig({ ...base, do_rescale: false }), png);
    expect(Array.from(got)).toEqual(Array.from(transformersPixels(rgb, SIDE * SIDE, { rescale: null, mean: CLIP_MEAN, std: CLIP_STD })));
    const both = await pixels(fromHfPreprocessorConfig({ ...base, do_rescale: false, do_normalize: false }), png);
    expect(Array.from(both)).toEqual(Array.from(transformersPixels(rgb, SIDE * SIDE, { rescale: null, mean: null, std: null })));
  });

  it('a rescale_factor other than 1/255 is applied (here 1/127.5 with mean 1, std 1: values in [-1, 1])', async () => {
    const { png, rgb } = await fullRangePng();
    const got = await pixels(fromHfPreprocessorConfig({ ...base, rescale_factor: 1 / 127.5, image_mean: [1, 1, 1], image_std: [1, 1, 1] }), png);
    expect(Array.from(got)).toEqual(Array.from(transformersPixels(rgb, SIDE * SIDE, { rescale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1] })));
  });

  it("SiglipImageProcessor's own defaults: size×size without a crop, mean/std 0.5", async () => {
    const cfg = fromHfPreprocessorConfig({ image_processor_type: 'SiglipImageProcessor', resample: 2, size: { height: SIDE, width: SIDE } });
    expect(cfg).toMatchObject({ size: SIDE, interpolation: 'bilinear', resizeMode: 'squash', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(cfg.resizeSize).toBeUndefined();
    // a 2:1 image keeps both halves (squash), a crop would keep the middle only
    const wide = Buffer.alloc(SIDE * 2 * SIDE * 3);
    for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE * 2; x++) wide[(y * SIDE * 2 + x) * 3 + (x < SIDE ? 0 : 2)] = 255;
    const png = await sharp(wide, { raw: { width: SIDE * 2, height: SIDE, channels: 3 } }).png().toBuffer();
    const out = await pixels(cfg, png);
    const plane = SIDE * SIDE;
    expect(out[0]).toBe(1); // red at the left edge: (1 − 0.5) / 0.5
    expect(out[2 * plane + SIDE - 1]).toBe(1); // blue at the right edge
    // the default size is 224×224
    expect(fromHfPreprocessorConfig({ image_processor_type: 'SiglipImageProcessor', resample: 3 })).toMatchObject({ size: 224, resizeMode: 'squash', interpolation: 'bicubic' });
  });

  it("CLIPImageProcessor's own defaults: shortest_edge 224, centre crop 224, even when size is larger", () => {
    expect(fromHfPreprocessorConfig({ image_processor_type: 'CLIPImageProcessor', resample: 3 })).toMatchObject({ size: 224, interpolation: 'bicubic', resizeMode: 'shortest' });
    // transformers' crop_size default is 224 whatever size says
    expect(fromHfPreprocessorConfig({ size: { shortest_edge: 256 }, resample: 2 })).toMatchObject({ size: 224, resizeSize: 256, interpolation: 'bilinear' });
  });

  it.each([
    [{ ...base, crop_pct: 0.875 }, /crop_pct/],
    [{ image_processor_type: 'ConvNextImageProcessor', resample: 3 }, /unsupported image processor class "ConvNextImageProcessor"/],
    // transformers defaults both classes to bicubic, transformers.js every class to bilinear
    [{ image_processor_type: 'SiglipImageProcessor', size: { height: 224, width: 224 } }, /"resample" is not stated: transformers' SiglipImageProcessor defaults to 3 \(bicubic\), transformers\.js to 2 \(bilinear\)/],
    [{ image_processor_type: 'CLIPImageProcessor' }, /"resample" is not stated/],
    [{ image_processor_type: 'SiglipImageProcessor', resample: 2, size: { height: 224, width: 224 }, do_center_crop: true }, /do_center_crop/],
    [{ image_processor_type: 'SiglipImageProcessor', resample: 2, size: { shortest_edge: 224 } }, /height/],
    [{ ...base, do_rescale: 'no' }, /do_rescale must be true or false/],
    [{ ...base, rescale_factor: 0 }, /rescale_factor/],
  ])('refused with one line, never ignored: %j', (json, message) => {
    let err: unknown;
    try {
      fromHfPreprocessorConfig(json, 'preprocessor_config.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });
});

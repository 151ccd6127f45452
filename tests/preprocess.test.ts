import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { mulberry32 } from '../src/fixtures/random.js';
import { packageRoot } from '../src/paths.js';
import {
  OPENAI_CLIP_CONFIG,
  createPreprocessPool,
  cropOffset,
  decodeImage,
  fromHfPreprocessorConfig,
  fromOpenClipPreprocessCfg,
  loadPreprocessConfigFromDir,
  makePreprocessConfig,
  nearestIndices,
  normalizeCoeffs8,
  normalizeToChw,
  planCrop,
  precomputeCoeffs,
  preprocessImage,
  preprocessToRgbU8,
  resampleConvolution,
  resizedSize,
  roundHalfEven,
  type RawImage,
} from '../src/models/preprocess/index.js';
import { cropSamples, horizontalPass8, verticalPass8, type Coeffs, type Window } from '../src/models/preprocess/resample.js';
import { simdAvailable } from '../src/models/preprocess/simd.js';
import { reference } from './support/reference.js';

const preprocessRef = reference('preprocess/preprocess.json', 'preprocessing parity with OpenAI CLIP _transform');
const refDir = path.dirname(preprocessRef.path);
const haveRef = preprocessRef.present;

interface RefImage {
  file: string;
  pil_mode: string;
  size_wh: [number, number];
  resized_wh: [number, number];
  crop_left_top: [number, number];
  rgb_u8_sha256: string;
  sha256: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

describe.skipIf(!haveRef)('reference parity with OpenAI CLIP _transform under Pillow 9.4 (all reference images)', () => {
  const images: RefImage[] = haveRef ? JSON.parse(readFileSync(path.join(refDir, 'preprocess.json'), 'utf8')).images : [];

  it('every image within 0.01 max / 0.0005 mean abs difference; prints the per-image table', async () => {
    expect(images.length).toBe(25);
    const rows: string[] = [];
    const failures: string[] = [];
    let exact = 0;
    for (const im of images) {
      const file = path.join(refDir, im.file);
      const rgb = await preprocessToRgbU8(file, OPENAI_CLIP_CONFIG);
      const got = normalizeToChw(rgb, 224, OPENAI_CLIP_CONFIG.mean, OPENAI_CLIP_CONFIG.std);
      const want = readF32(`${file}.f32`);
      expect(got.length).toBe(want.length);
      let max = 0;
      let sum = 0;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(got[i] - want[i]);
        if (d > max) max = d;
        sum += d;
      }
      const mean = sum / want.length;
      const u8 = sha256(rgb) === im.rgb_u8_sha256;
      if (u8) exact++;
      rows.push(`${im.file.padEnd(28)} ${im.pil_mode.padEnd(5)} ${max.toFixed(6).padStart(9)} ${mean.toFixed(7).padStart(10)}  ${u8 ? 'yes' : 'NO'}`);
      if (!(max <= 0.01 && mean <= 0.0005)) failures.push(`${im.file}: max ${max}, mean ${mean}`);
    }
    console.log(
      ['preprocess parity vs reference (normalised units; one grey level ≈ 0.015)', `${'image'.padEnd(28)} ${'mode'.padEnd(5)} ${'max diff'.padStart(9)} ${'mean diff'.padStart(10)}  u8 sha match`, ...rows, `exact 8-bit crops: ${exact}/${images.length}`].join('\n'),
    );
    expect(failures).toEqual([]);
  });

  it('the float32 tensor from preprocessImage is bit-identical to the reference file (sha256) on every image', async () => {
    const mismatched: string[] = [];
    for (const im of images) {
      const t = await preprocessImage(path.join(refDir, im.file));
      if (sha256(new Uint8Array(t.buffer)) !== im.sha256) mismatched.push(im.file);
    }
    expect(mismatched).toEqual([]);
  });

  it('resize and crop geometry agree with the reference metadata', () => {
    for (const im of images) {
      const plan = planCrop(im.size_wh[0], im.size_wh[1], OPENAI_CLIP_CONFIG);
      expect([plan.resized.width, plan.resized.height], im.file).toEqual(im.resized_wh);
      expect([plan.left, plan.top], im.file).toEqual(im.crop_left_top);
    }
  });

  it('EXIF orientation is ignored by default and applied on request', async () => {
    const file = path.join(refDir, 'jpeg_exif_orientation6.jpg');
    const plain = await decodeImage(file);
    const oriented = await decodeImage(file, { applyExifOrientation: true });
    expect([plain.width, plain.height]).toEqual([400, 300]);
    expect([oriented.width, oriented.height]).toEqual([300, 400]);
    const a = await preprocessToRgbU8(file, makePreprocessConfig({ applyExifOrientation: true }));
    expect(sha256(a)).not.toBe(sha256(await preprocessToRgbU8(file)));
  });
});

describe('geometry', () => {
  it('Python round(): halves go to the even neighbour', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 1.2, 1.7].map((x) => roundHalfEven(x) + 0)).toEqual([0, 2, 2, 4, 0, -2, 1, 2]);
  });

  it('centre-crop offsets use half-to-even: 227 → 2, 229 → 2, 231 → 4, 225 → 0', () => {
    expect([225, 227, 229, 231, 233, 224].map((n) => cropOffset(n, 224, 'half-even'))).toEqual([0, 2, 2, 4, 4, 0]);
    expect([225, 227, 229, 231].map((n) => cropOffset(n, 224, 'floor'))).toEqual([0, 1, 2, 3]);
    // crop larger than the image: pad (crop − len) // 2 before
    expect(cropOffset(168, 224, 'half-even')).toBe(-28);
    expect(cropOffset(223, 224, 'half-even') + 0).toBe(0);
  });

  it('shortest-side resize truncates int(224 · long / short)', () => {
    expect(resizedSize(640, 480, 224, 'shortest')).toEqual({ width: 298, height: 224 });
    expect(resizedSize(300, 400, 224, 'shortest')).toEqual({ width: 224, height: 298 });
    expect(resizedSize(3000, 5, 224, 'shortest')).toEqual({ width: 134400, height: 224 });
    expect(resizedSize(1, 1, 224, 'shortest')).toEqual({ width: 224, height: 224 });
    expect(resizedSize(500, 333, 224, 'shortest')).toEqual({ width: 336, height: 224 }); // 336.336… → 336
  });

  it('longest and squash modes, with padding offsets for longest', () => {
    expect(resizedSize(640, 480, 224, 'longest')).toEqual({ width: 224, height: 168 });
    expect(resizedSize(640, 480, 224, 'squash')).toEqual({ width: 224, height: 224 });
    const plan = planCrop(640, 480, { size: 224, resizeMode: 'longest', cropRounding: 'half-even' });
    expect(plan).toEqual({ resized: { width: 224, height: 168 }, left: 0, top: -28, size: 224 });
  });
});

describe('PIL resampling port', () => {
  it('4×1 → 2×1 bicubic downscale matches hand-computed coefficients and pixels', () => {
    // scale 2 → support 2·2 = 4 taps each side; centre of output 0 is input 1.0, of output 1 is 3.0.
    // Kernel args (x + 0.5 − centre) / 2: output 0 → −0.25, 0.25, 0.75, 1.25; output 1 mirrored.
    // Keys a = −0.5: k(0.25) = 111/128, k(0.75) = 29/128, k(1.25) = −9/128; row sum 242/128.
    const c = precomputeCoeffs(4, 2, 'bicubic');
    expect(c.ksize).toBe(9);
    expect(Array.from(c.bounds)).toEqual([0, 4, 0, 4]);
    const w0 = [111, 111, 29, -9].map((v) => v / 242);
    const w1 = [-9, 29, 111, 111].map((v) => v / 242);
    for (let i = 0; i < 4; i++) {
      expect(c.kk[i]).toBeCloseTo(w0[i], 15);
      expect(c.kk[9 + i]).toBeCloseTo(w1[i], 15);
    }
    // 22-bit fixed point, rounded half away from zero: 111·2^22/242 = 1923833.65…, 29·2^22/242 = 502623.21…, −9·2^22/242 = −155986.51…
    const k = normalizeCoeffs8(c.kk);
    expect(Array.from(k.subarray(0, 4))).toEqual([1923834, 1923834, 502623, -155987]);
    // Pixels 10, 50, 200, 255: (2^21 + Σ p·k) >> 22 → 42 (exact 42.004) and 214 (exact 214.32)
    const src = Uint8Array.from([10, 50, 200, 255]);
    const out = resampleConvolution(src, 4, 1, 1, 2, 1, 'bicubic', { left: 0, top: 0, width: 2, height: 1 });
    expect((2 ** 21 + 10 * 1923834 + 50 * 1923834 + 200 * 502623 + 255 * -155987) >> 22).toBe(42);
    expect(Array.from(out)).toEqual([42, 214]);
  });

  it('computing only a window gives the same bytes as resizing everything and cropping', () => {
    const rand = mulberry32(5);
    const src = Uint8Array.from({ length: 37 * 23 * 3 }, () => Math.floor(rand() * 256));
    const full = resampleConvolution(src, 37, 23, 3, 29, 61, 'bicubic', { left: 0, top: 0, width: 29, height: 61 });
    const win = resampleConvolution(src, 37, 23, 3, 29, 61, 'bicubic', { left: 5, top: 17, width: 11, height: 13 });
    for (let y = 0; y < 13; y++) {
      for (let x = 0; x < 11 * 3; x++) expect(win[y * 33 + x]).toBe(full[(y + 17) * 29 * 3 + 5 * 3 + x]);
    }
  });

  it('nearest neighbour samples pixel centres as Pillow does', () => {
    expect(Array.from(nearestIndices(4, 2))).toEqual([1, 3]);
    expect(Array.from(nearestIndices(2, 5))).toEqual([0, 0, 1, 1, 1]);
    // 300 → 336: positions accumulate 0.446…, 1.339…, …, 4.910… → one source column repeats
    expect(Array.from(nearestIndices(300, 336)).slice(0, 7)).toEqual([0, 1, 2, 3, 4, 4, 5]);
  });
});

/** Random pixels of a given channel count. */
function randomPixels(w: number, h: number, ch: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  return Uint8Array.from({ length: w * h * ch }, () => Math.floor(rand() * 256));
}

async function pngOf(px: Uint8Array, w: number, h: number, ch: 1 | 3): Promise<Buffer> {
  const img = sharp(Buffer.from(px), { raw: { width: w, height: h, channels: ch } });
  return (ch === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
}

function bmpFile(w: number, h: number, bits: number, rows: (y: number) => Uint8Array, opts: { topDown?: boolean; palette?: Uint8Array; compression?: number; masks?: number[] } = {}): Buffer {
  const stride = ((bits * w + 31) >>> 5) * 4;
  const paletteBytes = opts.palette ? opts.palette.length : 0;
  const maskBytes = opts.masks ? opts.masks.length * 4 : 0;
  const dib = opts.masks && opts.masks.length === 4 ? 108 : 40;
  const offset = 14 + dib + (dib === 40 ? maskBytes : 0) + paletteBytes;
  const buf = Buffer.alloc(offset + stride * h);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset, 10);
  buf.writeUInt32LE(dib, 14);
  buf.writeInt32LE(w, 18);
  buf.writeInt32LE(opts.topDown ? -h : h, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bits, 28);
  buf.writeUInt32LE(opts.compression ?? 0, 30);
  buf.writeUInt32LE(opts.palette ? opts.palette.length / 4 : 0, 46);
  opts.masks?.forEach((m, i) => buf.writeUInt32LE(m >>> 0, 54 + i * 4));
  if (opts.palette) buf.set(opts.palette, 14 + dib + (dib === 40 ? maskBytes : 0));
  for (let y = 0; y < h; y++) buf.set(rows(y), offset + (opts.topDown ? y : h - 1 - y) * stride);
  return buf;
}

describe('own decoders: Netpbm and BMP against sharp-decoded PNGs of the same pixels', () => {
  const W = 13;
  const H = 7;
  const rgb = randomPixels(W, H, 3, 11);
  const grey = randomPixels(W, H, 1, 12);
  let rgbPng: RawImage;
  let greyPng: RawImage;
  beforeAll(async () => {
    rgbPng = await decodeImage(await pngOf(rgb, W, H, 3));
    greyPng = await decodeImage(await pngOf(grey, W, H, 1));
  });

  const same = (a: RawImage, b: RawImage) => {
    expect([a.width, a.height, a.channels, a.mode]).toEqual([b.width, b.height, b.channels, b.mode]);
    expect(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength))).toBe(true);
  };

  it('P6 and P3 (with a comment) decode to the PNG pixels; P5 and P2 to the grey PNG', async () => {
    same(await decodeImage(Buffer.concat([Buffer.from(`P6\n${W} ${H}\n255\n`), Buffer.from(rgb)])), rgbPng);
    same(await decodeImage(Buffer.from(`P3\n# made by a test\n${W} ${H}\n255\n${Array.from(rgb).join(' ')}\n`)), rgbPng);
    same(await decodeImage(Buffer.concat([Buffer.from(`P5 ${W} ${H} 255\n`), Buffer.from(grey)])), greyPng);
    same(await decodeImage(Buffer.from(`P2\n${W} ${H}\n255\n${Array.from(grey).join('\n')}`)), greyPng);
    // and the whole transform agrees too
    const viaPpm = await preprocessImage(Buffer.concat([Buffer.from(`P6\n${W} ${H}\n255\n`), Buffer.from(rgb)]));
    const viaPng = await preprocessImage(await pngOf(rgb, W, H, 3));
    expect(sha256(new Uint8Array(viaPpm.buffer))).toBe(sha256(new Uint8Array(viaPng.buffer)));
  });

  it('Netpbm maxval scaling, 16-bit grey as mode I, and bitmaps as mode 1', async () => {
    const scaled = await decodeImage(Buffer.from('P2 4 1 100 0 50 99 100'));
    expect(Array.from(scaled.data)).toEqual([0, 128, 252, 255]); // round(v / 100 · 255), half to even (127.5 → 128)
    const deep = await decodeImage(Buffer.concat([Buffer.from('P5 2 1 65535\n'), Buffer.from([0x12, 0x34, 0xff, 0xff])]));
    expect(deep.mode).toBe('I');
    expect(Array.from(deep.data)).toEqual([0x1234, 65535]);
    const pbm = await decodeImage(Buffer.concat([Buffer.from('P4 10 1\n'), Buffer.from([0b10110000, 0b01000000])]));
    expect(pbm.mode).toBe('1');
    expect(Array.from(pbm.data)).toEqual([0, 255, 0, 0, 255, 255, 255, 255, 255, 0]);
    expect(Array.from((await decodeImage(Buffer.from('P1 3 1 101'))).data)).toEqual([0, 255, 0]);
  });

  it('24-bit BMP bottom-up and top-down, 32-bit BI_RGB and BGRA bitfields', async () => {
    const bgrRow = (y: number) => {
      const r = new Uint8Array(W * 3);
      for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) r[x * 3 + c] = rgb[(y * W + x) * 3 + 2 - c];
      return r;
    };
    same(await decodeImage(bmpFile(W, H, 24, bgrRow)), rgbPng);
    same(await decodeImage(bmpFile(W, H, 24, bgrRow, { topDown: true })), rgbPng);
    const bgrxRow = (y: number) => {
      const r = new Uint8Array(W * 4);
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < 3; c++) r[x * 4 + c] = rgb[(y * W + x) * 3 + 2 - c];
        r[x * 4 + 3] = 7 * x; // ignored by Pillow for BI_RGB
      }
      return r;
    };
    same(await decodeImage(bmpFile(W, H, 32, bgrxRow)), rgbPng);
    const bgra = await decodeImage(bmpFile(W, H, 32, bgrxRow, { compression: 3, masks: [0xff0000, 0xff00, 0xff, 0xff000000] }));
    expect([bgra.mode, bgra.channels]).toEqual(['RGBA', 4]);
    expect(bgra.data[3 * 4 + 3]).toBe(21);
    expect(Array.from(bgra.data.subarray(0, 3))).toEqual(Array.from(rgb.subarray(0, 3)));
  });

  it('8-bit palette BMP → P with the palette colours; grey-ramp palette → L; 1-bit black/white → 1', async () => {
    const palette = new Uint8Array(256 * 4);
    const colours = randomPixels(256, 1, 3, 13);
    for (let i = 0; i < 256; i++) {
      palette[i * 4] = colours[i * 3 + 2];
      palette[i * 4 + 1] = colours[i * 3 + 1];
      palette[i * 4 + 2] = colours[i * 3];
    }
    const indexRow = (y: number) => {
      const r = new Uint8Array(W);
      for (let x = 0; x < W; x++) r[x] = grey[y * W + x];
      return r;
    };
    const pal = await decodeImage(bmpFile(W, H, 8, indexRow, { palette }));
    expect([pal.mode, pal.channels]).toEqual(['P', 3]);
    const expanded = new Uint8Array(W * H * 3);
    for (let i = 0; i < W * H; i++) expanded.set(colours.subarray(grey[i] * 3, grey[i] * 3 + 3), i * 3);
    same(pal, { ...(await decodeImage(await pngOf(expanded, W, H, 3))), mode: 'P' });

    const ramp = new Uint8Array(256 * 4);
    for (let i = 0; i < 256; i++) ramp.fill(i, i * 4, i * 4 + 3);
    same(await decodeImage(bmpFile(W, H, 8, indexRow, { palette: ramp })), greyPng);

    const bw = Uint8Array.from([0, 0, 0, 0, 255, 255, 255, 0]);
    const one = await decodeImage(bmpFile(10, 1, 1, () => Uint8Array.from([0b10110000, 0b01000000]), { palette: bw }));
    expect(one.mode).toBe('1');
    expect(Array.from(one.data)).toEqual([255, 0, 255, 255, 0, 0, 0, 0, 0, 255]);
  });

  it('a PNG with a tRNS colour key stays RGB / L, as PIL opens it (libvips would add alpha)', async () => {
    /** Insert a chunk right after IHDR. */
    const withChunk = (png: Buffer, type: string, data: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(zlib.crc32(body) >>> 0);
      return Buffer.concat([png.subarray(0, 33), len, body, crc, png.subarray(33)]);
    };
    const keyed = withChunk(await pngOf(rgb, W, H, 3), 'tRNS', Buffer.from([0, rgb[0], 0, rgb[1], 0, rgb[2]]));
    expect((await sharp(keyed).metadata()).channels).toBe(4);
    same(await decodeImage(keyed), rgbPng);
    same(await decodeImage(withChunk(await pngOf(grey, W, H, 1), 'tRNS', Buffer.from([0, grey[0]]))), greyPng);
  });

  it('corrupt, truncated, missing and oversized images throw UsageError naming the file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'clip-bench-preprocess-test-'));
    try {
      const cases: [string, Uint8Array][] = [
        ['short.ppm', Buffer.concat([Buffer.from('P6 4 4 255\n'), Buffer.alloc(10)])],
        ['bad.bmp', Buffer.from('BM\0\0\0\0')],
        ['garbage.jpg', Buffer.from('not an image at all')],
        ['truncated.jpg', (await sharp(Buffer.from(rgb), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer()).subarray(0, 200)],
        ['empty.png', new Uint8Array(0)],
        ['drawing.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="20000" height="20000"><rect width="10" height="10"/></svg>')],
      ];
      for (const [name, bytes] of cases) {
        const file = path.join(dir, name);
        await writeFile(file, bytes);
        const err = await preprocessImage(file).catch((e: unknown) => e);
        expect(err, name).toBeInstanceOf(UsageError);
        expect((err as UsageError).file).toBe(file);
        expect((err as UsageError).oneLine()).toContain(name);
      }
      const missing = await preprocessImage(path.join(dir, 'nope.jpg')).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(UsageError);
      expect((missing as UsageError).message).toContain('no such file');

      const big = path.join(dir, 'big.png');
      await writeFile(big, await sharp({ create: { width: 300, height: 200, channels: 3, background: '#336699' } }).png().toBuffer());
      const bomb = await preprocessImage(big, makePreprocessConfig({ maxPixels: 50_000 })).catch((e: unknown) => e);
      expect(bomb).toBeInstanceOf(UsageError);
      expect((bomb as UsageError).message).toMatch(/300x200 = 60000 pixels, above the limit of 50000/);
      expect((bomb as UsageError).fix).toMatch(/maxPixels/);
      const ppmBomb = await preprocessImage(Buffer.from('P6 100000 100000 255\n'), OPENAI_CLIP_CONFIG, { name: 'bomb.ppm' }).catch((e: unknown) => e);
      expect((ppmBomb as UsageError).file).toBe('bomb.ppm');
      expect((ppmBomb as UsageError).message).toMatch(/decompression-bomb/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('transform configuration parsers', () => {
  it('open_clip / Immich preprocess_cfg.json', () => {
    const immich = { size: [224, 224], mode: 'RGB', mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], interpolation: 'bicubic', resize_mode: 'shortest', fill_color: 0 };
    expect(fromOpenClipPreprocessCfg(immich)).toEqual({ ...OPENAI_CLIP_CONFIG });
    const siglip = fromOpenClipPreprocessCfg({ size: 384, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bilinear', resize_mode: 'squash' });
    expect(siglip).toMatchObject({ size: 384, mean: [0.5, 0.5, 0.5], interpolation: 'bilinear', resizeMode: 'squash', cropRounding: 'half-even' });
    expect(fromOpenClipPreprocessCfg({ size: 224, resize_mode: 'longest', fill_color: 128 })).toMatchObject({ resizeMode: 'longest', fillColor: 128 });
    expect(() => fromOpenClipPreprocessCfg({ size: [224, 256] })).toThrow(UsageError);
    expect(() => fromOpenClipPreprocessCfg({ interpolation: 'random' })).toThrow(/unsupported interpolation/);
  });

  it('Hugging Face preprocessor_config.json (old int sizes and new dict sizes)', () => {
    const old = { crop_size: 224, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'CLIPFeatureExtractor', image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711], resample: 3, size: 224 };
    // the reference's conventions by default; transformers' own (floor crop offsets, RGB before resizing) on request
    expect(fromHfPreprocessorConfig(old)).toEqual({ ...OPENAI_CLIP_CONFIG });
    expect(fromHfPreprocessorConfig(old, undefined, { convention: 'exporter' })).toEqual({ ...OPENAI_CLIP_CONFIG, cropRounding: 'floor', convertRgbFirst: true });
    const modern = { crop_size: { height: 336, width: 336 }, do_convert_rgb: true, image_mean: [0.1, 0.2, 0.3], image_std: [0.4, 0.5, 0.6], resample: 2, rescale_factor: 1 / 255, size: { shortest_edge: 384 } };
    expect(fromHfPreprocessorConfig(modern)).toMatchObject({ size: 336, resizeSize: 384, interpolation: 'bilinear', resizeMode: 'shortest', mean: [0.1, 0.2, 0.3], std: [0.4, 0.5, 0.6] });
    expect(fromHfPreprocessorConfig({ size: { height: 224, width: 224 }, do_center_crop: false, resample: 0 })).toMatchObject({ size: 224, resizeMode: 'squash', interpolation: 'nearest' });
    expect(() => fromHfPreprocessorConfig({ resample: 1 })).toThrow(/lanczos/);
    expect(() => fromHfPreprocessorConfig({ size: { shortest_edge: 224 }, do_center_crop: false })).toThrow(UsageError);
  });

  it('loadPreprocessConfigFromDir prefers visual/preprocess_cfg.json, then preprocessor_config.json, else OpenAI defaults', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'clip-bench-preprocess-cfg-'));
    try {
      expect(loadPreprocessConfigFromDir(dir)).toEqual({ ...OPENAI_CLIP_CONFIG });
      await writeFile(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ size: 256, crop_size: 256, resample: 2 }));
      expect(loadPreprocessConfigFromDir(dir)).toMatchObject({ size: 256, interpolation: 'bilinear', cropRounding: 'half-even' });
      expect(loadPreprocessConfigFromDir(dir, { convention: 'exporter' })).toMatchObject({ cropRounding: 'floor', convertRgbFirst: true });
      await mkdir(path.join(dir, 'visual'));
      await writeFile(path.join(dir, 'visual', 'preprocess_cfg.json'), JSON.stringify({ size: [288, 288], interpolation: 'bicubic' }));
      expect(loadPreprocessConfigFromDir(dir)).toMatchObject({ size: 288, interpolation: 'bicubic', cropRounding: 'half-even' });
      await writeFile(path.join(dir, 'visual', 'preprocess_cfg.json'), '{ not json');
      expect(() => loadPreprocessConfigFromDir(dir)).toThrow(UsageError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('longest mode pads with the fill colour', async () => {
    const png = await sharp({ create: { width: 64, height: 32, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();
    const rgbOut = await preprocessToRgbU8(png, makePreprocessConfig({ size: 32, resizeMode: 'longest', fillColor: [200, 100, 50] }));
    // 64×32 → 32×16, centred: rows 0–7 and 24–31 are fill, 8–23 the image
    expect(Array.from(rgbOut.subarray(0, 3))).toEqual([200, 100, 50]);
    expect(Array.from(rgbOut.subarray(8 * 32 * 3, 8 * 32 * 3 + 3))).toEqual([10, 20, 30]);
    expect(Array.from(rgbOut.subarray(24 * 32 * 3, 24 * 32 * 3 + 3))).toEqual([200, 100, 50]);
  });
});

const workerBuilt = existsSync(path.join(packageRoot, 'dist', 'src', 'models', 'preprocess', 'worker.js'));
if (!workerBuilt) console.warn('preprocess pool tests SKIPPED: worker not compiled — run `npm run build` (npm test does)');

describe.skipIf(!workerBuilt)('worker pool', () => {
  const dir = path.join(os.tmpdir(), `clip-bench-pool-test-${process.pid}`);
  const files: string[] = [];
  beforeAll(async () => {
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < 8; i++) {
      const f = path.join(dir, `img${i}.jpg`);
      const w = 200 + 37 * i;
      const h = 150 + 23 * i;
      await writeFile(f, await sharp(Buffer.from(randomPixels(w, h, 3, 100 + i)), { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer());
      files.push(f);
    }
    if (haveRef) files.push(path.join(refDir, 'png_rgba.png'), path.join(refDir, 'jpeg_cmyk.jpg'), path.join(refDir, 'png_gray16.png'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('2 threads give exactly the single-thread results, for paths and buffers; errors come back as UsageError', async () => {
    const pool = createPreprocessPool({ threads: 2, cfg: OPENAI_CLIP_CONFIG });
    try {
      const viaPool = await Promise.all(files.map((f) => pool.run(f)));
      const bytes = readFileSync(files[0]);
      const fromBuffer = await pool.run(bytes);
      expect(bytes.length).toBeGreaterThan(0); // the caller's buffer is not detached
      for (let i = 0; i < files.length; i++) {
        const single = await preprocessImage(files[i]);
        expect(viaPool[i].length).toBe(3 * 224 * 224);
        expect(sha256(new Uint8Array(viaPool[i].buffer)), files[i]).toBe(sha256(new Uint8Array(single.buffer)));
      }
      expect(sha256(new Uint8Array(fromBuffer.buffer))).toBe(sha256(new Uint8Array(viaPool[0].buffer)));
      const missing = path.join(dir, 'missing.jpg');
      const err = await pool.run(missing).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).file).toBe(missing);
    } finally {
      await pool.close();
    }
    await expect(pool.run(files[0])).rejects.toThrow(/closed/);
  });
});

describe('WebAssembly SIMD resampling and normalisation equal the JavaScript passes', () => {
  /** The 8-bit two-pass resize through the JavaScript passes only (Pillow's order, windowed). */
  function resizeJs(src: Uint8Array, srcW: number, srcH: number, ch: number, outW: number, outH: number, filter: 'bicubic' | 'bilinear', win: Window): Uint8Array {
    const cv: Coeffs | null = outH !== srcH ? precomputeCoeffs(srcH, outH, filter, win.top, win.height) : null;
    const rowFirst = cv ? cv.bounds[0] : win.top;
    const rows = cv ? cv.bounds[cv.bounds.length - 2] + cv.bounds[cv.bounds.length - 1] - rowFirst : win.height;
    const mid =
      outW !== srcW
        ? horizontalPass8(src, srcW, ch, rowFirst, rows, precomputeCoeffs(srcW, outW, filter, win.left, win.width))
        : cropSamples(src, srcW, ch, { left: win.left, top: rowFirst, width: win.width, height: rows });
    return cv ? verticalPass8(mid, win.width, ch, rowFirst, cv) : mid;
  }

  it('the kernels assemble and run on this Node (a silent fallback would hide a broken module)', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('byte-identical on noise images: 1 to 4 channels, both filters, down/up-scales, skipped passes, windows, odd sizes, several bands', () => {
    const rand = mulberry32(11);
    // [srcW, srcH, outW, outH, window or null for all]
    const cases: [number, number, number, number, Window | null][] = [
      [500, 375, 298, 224, { left: 37, top: 0, width: 224, height: 224 }],
      [375, 500, 224, 298, { left: 0, top: 37, width: 224, height: 224 }],
      [37, 23, 29, 61, null],
      [37, 23, 29, 61, { left: 5, top: 17, width: 11, height: 13 }],
      [32, 32, 224, 224, null], // upscale
      [3000, 5, 134400, 224, { left: 67088, top: 0, width: 224, height: 224 }], // extreme upscale, 5 source rows
      [227, 224, 224, 224, null], // horizontal pass only
      [224, 231, 224, 224, null], // vertical pass only
      [61, 3001, 7, 345, { left: 1, top: 2, width: 5, height: 341 }], // tall: rows stream through several bands, odd remainder
      [1, 1, 224, 224, null],
      [7, 5, 1, 1, null],
    ];
    for (const [srcW, srcH, outW, outH, w] of cases) {
      for (const ch of [1, 2, 3, 4]) {
        // Noise with saturated runs, so bicubic overshoot exercises the clipping.
        const src = Uint8Array.from({ length: srcW * srcH * ch }, () => (rand() < 0.2 ? (rand() < 0.5 ? 0 : 255) : Math.floor(rand() * 256)));
        for (const filter of ['bicubic', 'bilinear'] as const) {
          const win = w ?? { left: 0, top: 0, width: outW, height: outH };
          const simd = resampleConvolution(src, srcW, srcH, ch, outW, outH, filter, win);
          const js = resizeJs(src, srcW, srcH, ch, outW, outH, filter, win);
          expect(simd.length, `${srcW}x${srcH}→${outW}x${outH} ch${ch} ${filter}`).toBe(win.width * win.height * ch);
          expect(sha256(simd), `${srcW}x${srcH}→${outW}x${outH} ch${ch} ${filter}`).toBe(sha256(js));
        }
      }
    }
  });

  it('the result lands in the caller\'s buffer when one is given, and a short one is refused', () => {
    const rand = mulberry32(12);
    const src = Uint8Array.from({ length: 50 * 40 * 3 }, () => Math.floor(rand() * 256));
    const win = { left: 0, top: 0, width: 20, height: 16 };
    const into = new Uint8Array(20 * 16 * 3 + 7);
    const out = resampleConvolution(src, 50, 40, 3, 20, 16, 'bicubic', win, into);
    expect(out.buffer).toBe(into.buffer);
    expect(sha256(out)).toBe(sha256(resizeJs(src, 50, 40, 3, 20, 16, 'bicubic', win)));
    expect(() => resampleConvolution(src, 50, 40, 3, 20, 16, 'bicubic', win, new Uint8Array(10))).toThrow(RangeError);
  });

  it('normalizeToChw gives torch\'s float32 (v/255 − mean)/std for every byte value in every channel', () => {
    const size = 23; // 529 pixels: each channel sees all 256 values
    const rgb = Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 7919) & 255);
    const { mean, std } = OPENAI_CLIP_CONFIG;
    const out = normalizeToChw(rgb, size, mean, std);
    const plane = size * size;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) {
        const v = rgb[i * 3 + c];
        const want = Math.fround(Math.fround(Math.fround(v / 255) - Math.fround(mean[c])) / Math.fround(std[c]));
        if (out[c * plane + i] !== want) expect(out[c * plane + i], `pixel ${i} channel ${c} value ${v}`).toBe(want);
      }
    }
  });
});

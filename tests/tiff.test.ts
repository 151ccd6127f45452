/**
 * The TIFF reader and decoder (src/models/preprocess/tiff.ts) on TIFFs written here: tags and
 * defaults, our decoding checked against libtiff's (through sharp) and against values worked out
 * by hand, PIL's Orientation on load, and the refusals with their reasons.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp, { type TiffOptions } from 'sharp';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { writeDemo } from '../src/fixtures/demo.js';
import { packageRoot } from '../src/paths.js';
import { decodeImage, makePreprocessConfig, preprocessToRgbU8 } from '../src/models/preprocess/index.js';
import { decodeTiffPixels, lzwDecode, packBitsDecode, planTiff, readTiffIfd, readTiffSamples } from '../src/models/preprocess/tiff.js';
import { u16Bytes, writeTiff } from './support/tiff-writer.js';

/** A W×H RGB test pattern where every sample differs from its neighbours. */
function pattern(w: number, h: number, ch = 3): Uint8Array {
  const px = new Uint8Array(w * h * ch);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37 + Math.floor(i / 7) * 11) & 255;
  return px;
}

/** Split interleaved samples into planes, each cut into tiles of tw×th (zero-padded). */
function planarTiles(px: Uint8Array, w: number, h: number, ch: number, tw: number, th: number): Uint8Array[] {
  const tiles: Uint8Array[] = [];
  for (let c = 0; c < ch; c++) {
    for (let ty = 0; ty < h; ty += th) {
      for (let tx = 0; tx < w; tx += tw) {
        const t = new Uint8Array(tw * th);
        for (let y = 0; y < th && ty + y < h; y++) for (let x = 0; x < tw && tx + x < w; x++) t[y * tw + x] = px[((ty + y) * w + tx + x) * ch + c];
        tiles.push(t);
      }
    }
  }
  return tiles;
}

const rgbTags = (w: number, h: number, extra: Record<number, number[]> = {}) => ({ 256: [w], 257: [h], 258: [8, 8, 8], 259: [1], 262: [2], 277: [3], ...extra });

describe('readTiffIfd', () => {
  it('reads both byte orders, repeats a single BitsPerSample and fills TIFF defaults', () => {
    for (const littleEndian of [true, false]) {
      const f = writeTiff({ littleEndian, tags: { 256: [70000], 257: [3], 258: [8], 262: [2], 277: [3], 278: [1] }, chunks: [new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)] });
      const ifd = readTiffIfd(f);
      expect(ifd.littleEndian).toBe(littleEndian);
      expect([ifd.width, ifd.height]).toEqual([70000, 3]);
      expect(ifd.bitsPerSample).toEqual([8, 8, 8]);
      expect([ifd.compression, ifd.orientation, ifd.planar, ifd.predictor, ifd.fillOrder]).toEqual([1, 1, 1, 1, 1]);
      expect(ifd.chunks).toMatchObject({ tiled: false, width: 70000, height: 1, byteCounts: [1, 1, 1] });
    }
  });

  it('rejects a directory offset past the end of the file as malformed, not as a variant', () => {
    const f = writeTiff({ tags: rgbTags(1, 1), chunks: [new Uint8Array(3)] });
    new DataView(f.buffer).setUint32(4, f.length + 10, true);
    expect(() => readTiffIfd(f)).toThrow(/beyond the end of the file/);
  });
});

describe('our TIFF decoding agrees with libtiff (through sharp) on files libtiff wrote', () => {
  const w = 37;
  const h = 23;
  const px = pattern(w, h);
  const variants: [string, TiffOptions][] = [
    ['uncompressed strips', { compression: 'none' }],
    ['LZW', { compression: 'lzw' }],
    ['LZW with horizontal predictor', { compression: 'lzw', predictor: 'horizontal' }],
    ['Deflate with horizontal predictor', { compression: 'deflate', predictor: 'horizontal' }],
    ['Deflate, 16×16 tiles', { compression: 'deflate', tile: true, tileWidth: 16, tileHeight: 16 }],
    ['PackBits', { compression: 'packbits' }],
  ];
  it.each(variants)('%s', async (_name, options) => {
    const file = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).tiff(options).toBuffer();
    const viaLibtiff = await sharp(file).raw().toBuffer();
    const ifd = readTiffIfd(file);
    expect(Buffer.from(readTiffSamples(file, ifd) as Uint8Array).equals(viaLibtiff)).toBe(true);
  });

  it('LZW: a long run exercises the KwKwK case and every code width up to 12 bits', async () => {
    const big = new Uint8Array(300 * 200 * 3);
    for (let i = 0; i < big.length; i++) big[i] = i % 5000 < 2500 ? 7 : (i * 131) & 255;
    const file = await sharp(big, { raw: { width: 300, height: 200, channels: 3 } }).tiff({ compression: 'lzw' }).toBuffer();
    expect(Buffer.from(readTiffSamples(file, readTiffIfd(file)) as Uint8Array).equals(Buffer.from(big))).toBe(true);
  });

  it('planar tiles (raw and Deflate, edge tiles partly outside) decode to the same pixels as the chunky file', async () => {
    const chunky = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).tiff({ compression: 'none' }).toBuffer();
    const want = await sharp(chunky).raw().toBuffer();
    const tiles = planarTiles(px, w, h, 3, 16, 16);
    for (const [compression, chunks] of [
      [1, tiles],
      [8, tiles.map((t) => new Uint8Array(deflateSync(t)))],
    ] as const) {
      const f = writeTiff({ tiled: true, tags: rgbTags(w, h, { 259: [compression], 284: [2], 322: [16], 323: [16] }), chunks: [...chunks] });
      const img = await decodeImage(f);
      expect(img.mode).toBe('RGB');
      expect(Buffer.from(img.data as Uint8Array).equals(want)).toBe(true);
    }
  });
});

describe('PIL unpackers', () => {
  it('PackBits: the worked example of Apple Technical Note TN1023', () => {
    const packed = Uint8Array.from([0xfe, 0xaa, 0x02, 0x80, 0x00, 0x2a, 0xfd, 0xaa, 0x03, 0x80, 0x00, 0x2a, 0x22, 0xf7, 0xaa]);
    const unpacked = [0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0xaa, 0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0x22, ...new Array(10).fill(0xaa)];
    expect([...packBitsDecode(packed, 24)]).toEqual(unpacked);
  });

  it('LZW: the codes for "ABABABA" (literal, literal, new entries 258/259 with the KwKwK case)', () => {
    // Clear, 'A', 'B', 258 ("AB"), 260 ("ABA", defined by its own use), EOI — 9 bits each, MSB first.
    const codes = [256, 65, 66, 258, 260, 257];
    let bits = '';
    for (const c of codes) bits += c.toString(2).padStart(9, '0');
    bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
    const bytes = Uint8Array.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
    expect(new TextDecoder().decode(lzwDecode(bytes, 7))).toBe('ABABABA');
  });

  it('signed 16-bit grey (I;16S) keeps negative values in mode I; convert("RGB") clips them to 0', async () => {
    const values = [-32768, -1, 0, 1, 200, 300, 32767, -200];
    const f = writeTiff({ tags: { 256: [4], 257: [2], 258: [16], 259: [1], 262: [1], 277: [1], 339: [2] }, chunks: [u16Bytes(values)] });
    const img = await decodeImage(f);
    expect(img.mode).toBe('I');
    expect([...img.data]).toEqual(values);
  });

  it('premultiplied alpha (RGBa, 8 and 16 bits) is un-premultiplied as unpackRGBa: c·255/a truncated, alpha 0 → all 0', async () => {
    // (r, g, b, a) premultiplied → what Pillow's unpacker gives
    const px = [100, 50, 0, 200, 9, 9, 9, 0, 255, 255, 255, 255, 30, 40, 250, 128];
    const want = [127, 63, 0, 200, 0, 0, 0, 0, 255, 255, 255, 255, 59, 79, 255, 128]; // 100·255/200 = 127.5 → 127; 250·255/128 → clipped
    const tags = (bits: number) => ({ 256: [2], 257: [2], 258: [bits, bits, bits, bits], 259: [1], 262: [2], 277: [4], 338: [1] });
    const eight = await decodeImage(writeTiff({ tags: tags(8), chunks: [Uint8Array.from(px)] }));
    expect(eight.mode).toBe('RGBA');
    expect([...eight.data]).toEqual(want);
    // 16-bit: the high byte of each sample, then the same arithmetic (the low byte never matters)
    const deep = await decodeImage(writeTiff({ littleEndian: false, tags: tags(16), chunks: [u16Bytes(px.map((v) => (v << 8) | 0xff), false)] }));
    expect([...deep.data]).toEqual(want);
  });

  it('32-bit integer grey (I;32S) opens as mode I with the values', async () => {
    const values = [-5, 0, 70000, -2147483648];
    const f = writeTiff({ tags: { 256: [2], 257: [2], 258: [32], 259: [1], 262: [1], 277: [1], 339: [2] }, chunks: [new Uint8Array(Int32Array.from(values).buffer)] });
    const img = await decodeImage(f);
    expect(img.mode).toBe('I');
    expect([...img.data]).toEqual(values);
  });

  it('a 4th sample ExtraSamples calls unspecified is PIL\'s RGBX: converted as RGB, never resized as alpha', async () => {
    const px = [10, 20, 30, 0, 40, 50, 60, 7];
    for (const planar of [1, 2]) {
      const chunks = planar === 1 ? [Uint8Array.from(px)] : [0, 1, 2, 3].map((c) => Uint8Array.of(px[c], px[4 + c]));
      const img = await decodeImage(writeTiff({ tags: { 256: [2], 257: [1], 258: [8, 8, 8, 8], 259: [1], 262: [2], 277: [4], 284: [planar], 338: [0] }, chunks }));
      expect(img.mode).toBe('RGB');
      expect([...img.data]).toEqual([10, 20, 30, 40, 50, 60]);
    }
  });

  it('16-bit RGB, chunky (libvips) or planar (ours), keeps the high byte of each sample', async () => {
    const values = [0x1234, 0xff00, 0x00ff, 0x8080, 0x7fff, 0x0100];
    for (const littleEndian of [true, false]) {
      const tags = (planar: number) => ({ 256: [2], 257: [1], 258: [16, 16, 16], 259: [1], 262: [2], 277: [3], 284: [planar] });
      const chunky = writeTiff({ littleEndian, tags: tags(1), chunks: [u16Bytes(values, littleEndian)] });
      expect(planTiff(readTiffIfd(chunky)).decoder).toBe('sharp');
      const planes = [0, 1, 2].map((c) => u16Bytes([values[c], values[3 + c]], littleEndian));
      for (const f of [chunky, writeTiff({ littleEndian, tags: tags(2), chunks: planes })]) {
        const img = await decodeImage(f);
        expect(img.mode).toBe('RGB');
        expect([...img.data]).toEqual([0x12, 0xff, 0x00, 0x80, 0x7f, 0x01]);
      }
    }
  });

  it('16-bit CMYK keeps the high byte of each sample', async () => {
    const values = [0x1234, 0xff00, 0x00ff, 0x8080];
    const img = await decodeImage(writeTiff({ tags: { 256: [1], 257: [1], 258: [16, 16, 16, 16], 259: [1], 262: [5], 277: [4] }, chunks: [u16Bytes(values)] }));
    expect(img.mode).toBe('CMYK');
    expect([...img.data]).toEqual([0x12, 0xff, 0x00, 0x80]);
  });

  it('palette: mode P with the colour map high bytes (b // 256), and 4-bit indices unpacked MSB first', async () => {
    const map = new Array(48).fill(0);
    map[1] = 0xabff; // red of index 1
    map[16 + 2] = 0x1200; // green of index 2
    map[32 + 15] = 0xffff; // blue of index 15
    const f = writeTiff({ tags: { 256: [4], 257: [1], 258: [4], 259: [1], 262: [3], 277: [1], 320: map }, chunks: [Uint8Array.from([0x12, 0xf0])] });
    const img = await decodeImage(f);
    expect(img.mode).toBe('P');
    expect([...img.data]).toEqual([0xab, 0, 0, 0, 0x12, 0, 0, 0, 0xff, 0, 0, 0]);
  });

  it('32-bit float grey opens as mode F with the file values', async () => {
    const values = Float32Array.from([-3.5, 0.25, 254.9, 1e6]);
    const f = writeTiff({ tags: { 256: [2], 257: [2], 258: [32], 259: [1], 262: [1], 277: [1], 339: [3] }, chunks: [new Uint8Array(values.buffer)] });
    const img = await decodeImage(f);
    expect(img.mode).toBe('F');
    expect([...img.data]).toEqual([...values]);
    // convert('RGB') goes through L: clipped to 0–255 and truncated (254.9 → 254); a 2×2 image upsampled bicubic keeps the clip
    const rgb = await preprocessToRgbU8(writeTiff({ tags: { 256: [1], 257: [1], 258: [32], 259: [1], 262: [1], 277: [1], 339: [3] }, chunks: [new Uint8Array(Float32Array.of(254.9).buffer)] }));
    expect(new Set(rgb)).toEqual(new Set([254]));
  });
});

describe('Orientation, applied on load as TiffImagePlugin.load_end does', () => {
  const w = 5;
  const h = 3;
  const px = pattern(w, h);
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i gives the pixels EXIF orientation gives (sharp autoOrient), sides swapped for 5–8', async (o) => {
    const tiff = writeTiff({ tags: rgbTags(w, h, { 274: [o] }), chunks: [px] });
    const img = await decodeImage(tiff);
    const viaExif = await sharp(await sharp(px, { raw: { width: w, height: h, channels: 3 } }).withMetadata({ orientation: o }).png().toBuffer(), { autoOrient: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([img.width, img.height]).toEqual([viaExif.info.width, viaExif.info.height]);
    expect(Buffer.from(img.data as Uint8Array).equals(viaExif.data)).toBe(true);
    // torchvision plans the resize from the size Image.open reported, before the transpose
    expect(img.openedSize).toEqual(o >= 5 ? { width: w, height: h } : undefined);
  });

  it('for 5–8 the transposed image is resized to the size planned from the stored one (not its own)', async () => {
    // stored 40×20 → Resize(224) plans 448×224; the loaded image is 20×40, squashed into 448×224, centre 224×224 kept
    const big = pattern(40, 20);
    const rotated = await decodeImage(writeTiff({ tags: rgbTags(40, 20, { 274: [6] }), chunks: [big] }));
    const asIfStoredRotated = writeTiff({ tags: rgbTags(20, 40), chunks: [rotated.data as Uint8Array] });
    const quirk = await preprocessToRgbU8(writeTiff({ tags: rgbTags(40, 20, { 274: [6] }), chunks: [big] }));
    // The same pixels stored upright plan 224×448 instead: a different crop.
    expect(Buffer.from(quirk).equals(Buffer.from(await preprocessToRgbU8(asIfStoredRotated)))).toBe(false);
    // Converting to RGB first (Hugging Face) loads the image, so its own size is planned: no quirk there.
    const hf = makePreprocessConfig({ convertRgbFirst: true });
    const rotatedHf = await preprocessToRgbU8(writeTiff({ tags: rgbTags(40, 20, { 274: [6] }), chunks: [big] }), hf);
    expect(Buffer.from(rotatedHf).equals(Buffer.from(await preprocessToRgbU8(asIfStoredRotated, hf)))).toBe(true);
  });
});

describe('refusals: PIL reads these, we cannot reproduce PIL on them', () => {
  const one = new Uint8Array(16);
  const cases: [string, Record<number, number[]>, boolean, string][] = [
    ['old-style JPEG, tiled (libvips: black image and a warning)', { 256: [16], 257: [16], 258: [8, 8, 8], 259: [6], 262: [6], 277: [3], 322: [16], 323: [16] }, true, 'unsupported TIFF variant: old-style JPEG compression (6)'],
    ['LZMA', { ...rgbTags(1, 1), 259: [34925] }, false, 'unsupported TIFF variant: LZMA compression (34925)'],
    ['CIELAB', { ...rgbTags(1, 1), 262: [8] }, false, 'unsupported TIFF variant: CIELAB colour'],
    ['unsigned 16-bit grey (Pillow 9.4 cannot resize mode I;16 bicubic)', { 256: [1], 257: [1], 258: [16], 259: [1], 262: [1], 277: [1] }, false, 'unsupported TIFF variant: unsigned 16-bit grey (PIL mode I;16'],
    ['palette + alpha (PA)', { 256: [1], 257: [1], 258: [8, 8], 259: [1], 262: [3], 277: [2], 338: [2], 320: new Array(768).fill(0) }, false, 'unsupported TIFF variant: palette with alpha (PA'],
  ];
  it.each(cases)('%s', async (_name, tags, tiled, reason) => {
    const file = writeTiff({ tiled, tags, chunks: [one] });
    const err = await decodeImage(file, { name: 'x.tif' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    const e = err as UsageError;
    expect(e.message).toContain(reason);
    expect(e.message).not.toMatch(/corrupt/);
    expect(e.oneLine()).toMatch(/^x\.tif: cannot decode TIFF image: unsupported TIFF variant: .* — PIL reads it but clip-bench cannot reproduce PIL on it/);
    expect(() => planTiff(readTiffIfd(file))).toThrow(reason);
  });

  it('a libvips decode that only warns (here: strips shorter than the image) fails with the warning as its reason', async () => {
    const px = pattern(4, 4);
    const file = writeTiff({ tags: rgbTags(4, 4, { 278: [4] }), chunks: [px.subarray(0, 30)] });
    expect(planTiff(readTiffIfd(file)).decoder).toBe('sharp');
    const err = await decodeImage(file, { name: 'short.tif' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).oneLine()).toMatch(/^short\.tif: cannot decode image: the decoder warned "Bogus "StripByteCounts" field.*so the pixels cannot be trusted — the file is corrupt or truncated$/);
  });

  it('our own decoder reports truncated data as such: before allocating when uncompressed, naming the strip when compressed', async () => {
    const values = u16Bytes([1, 2, 3, 4]);
    const tags = (compression: number) => ({ 256: [2], 257: [2], 258: [16], 259: [compression], 262: [1], 277: [1], 339: [2] });
    const raw = writeTiff({ tags: tags(1), chunks: [values.subarray(0, 5)] });
    await expect(decodeImage(raw, { name: 's.tif' })).rejects.toThrow('cannot decode TIFF image: the strips hold 5 bytes, the image needs 8 (truncated)');
    const deflated = writeTiff({ tags: tags(8), chunks: [new Uint8Array(deflateSync(values.subarray(0, 5)))] });
    await expect(decodeImage(deflated, { name: 's.tif' })).rejects.toThrow('cannot decode TIFF image: strip 0 is truncated');
  });
});

describe('decodeTiffPixels', () => {
  it('is what decodeImage uses for the variants planned as ours', () => {
    const f = writeTiff({ tags: rgbTags(2, 1, { 284: [2] }), chunks: [Uint8Array.of(1, 2), Uint8Array.of(3, 4), Uint8Array.of(5, 6)] });
    const ifd = readTiffIfd(f);
    expect(planTiff(ifd)).toEqual({ decoder: 'own', mode: 'RGB' });
    expect([...decodeTiffPixels(f, ifd, 'RGB').data]).toEqual([1, 3, 5, 2, 4, 6]);
  });
});

describe('the CLI on a refused TIFF (built clip-bench)', () => {
  const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  it.skipIf(!existsSync(bin))('preprocess prints one line naming the file, the variant and the fix, exits 2 and writes nothing', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-tiff-'));
    const demo = await writeDemo(path.join(tmp, 'demo'), 1);
    const tif = path.join(tmp, 'lzma.tif');
    writeFileSync(tif, writeTiff({ tags: { ...rgbTags(1, 1), 259: [34925] }, chunks: [new Uint8Array(3)] }));
    const out = path.join(tmp, 'out.f32');
    const r = spawnSync(process.execPath, [bin, 'preprocess', '--model', demo.model, tif, '--out', out], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`clip-bench: ${tif}: cannot decode TIFF image: unsupported TIFF variant: LZMA compression (34925) — PIL reads it but clip-bench cannot reproduce PIL on it; convert the file (e.g. to PNG)`]);
    expect(existsSync(out)).toBe(false);
  });
});

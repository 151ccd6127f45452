/**
 * TIFF, as Pillow 9.4's `TiffImagePlugin` opens it: the first IFD's tags read directly, the
 * mode PIL gives the file, which variants libvips (sharp) decodes the way PIL does, our own
 * decoding of the ones it does not (strips or tiles, chunky or planar, uncompressed / LZW /
 * Deflate / PackBits), and the Orientation PIL applies on load.
 *
 * Which path each variant takes, and why (the README's Exactness section has the same table):
 * - fax (CCITT G3/G4) and other 1-bit images: libvips, opened as mode `1` (PIL resizes `1` with nearest);
 * - palette: ours, mode `P` with the colour map's high bytes (`b // 256`, as Pillow);
 * - signed 16-bit and 32-bit integer grey (`I;16S`, `I;32`), 32-bit float grey (`F`), 16-bit
 *   CMYK, premultiplied alpha (`RGBa`), planar data: ours, with PIL's unpackers (high byte of
 *   16-bit samples, integer un-premultiplying); an unspecified 4th sample is `RGBX` (dropped);
 * - refused as "unsupported TIFF variant": LZMA and old-style JPEG compression (libvips here has
 *   neither codec, and an old-style-JPEG *tiled* file decodes to black with only a warning),
 *   CIELAB (PIL converts it to RGB through LittleCMS), unsigned 16-bit grey (PIL's `I;16`, which
 *   Pillow 9.4 cannot resize bicubic: the reference fails on it), and palette + alpha (`PA`:
 *   Pillow 9.4 resizes its palette *indices* bicubically, inventing colours).
 */
import { inflateSync } from 'node:zlib';
import type { PilMode, RawImage } from './image.js';

/** Thrown for malformed or unsupported files; `decode.ts` turns it into a `UsageError` naming the file. */
export class TiffError extends Error {}

/** Tag numbers we read (TIFF 6.0 and the TechNotes). */
export const TAG = {
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  FillOrder: 266,
  StripOffsets: 273,
  Orientation: 274,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  PlanarConfig: 284,
  Predictor: 317,
  ColorMap: 320,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  ExtraSamples: 338,
  SampleFormat: 339,
} as const;

/** The first image's tags, with TIFF's defaults filled in. */
export interface TiffIfd {
  littleEndian: boolean;
  width: number;
  height: number;
  /** One entry per sample (a single value in the file is repeated, as Pillow does). */
  bitsPerSample: number[];
  samplesPerPixel: number;
  compression: number;
  /** Absent in some files; Pillow then assumes 0 (min-is-white). */
  photometric: number;
  fillOrder: number;
  /** 1–8; 1 when absent. */
  orientation: number;
  /** 1 = chunky (interleaved), 2 = planar (one plane per sample). */
  planar: number;
  predictor: number;
  /** SampleFormat per sample: 1 unsigned, 2 signed, 3 float. */
  sampleFormat: number[];
  extraSamples: number[];
  colorMap?: number[];
  /** Strip or tile layout of the data. */
  chunks: { tiled: boolean; width: number; height: number; offsets: number[]; byteCounts: number[] };
}

export function isTiff(buf: Uint8Array): boolean {
  return buf.length >= 8 && ((buf[0] === 0x49 && buf[1] === 0x49 && buf[2] === 42 && buf[3] === 0) || (buf[0] === 0x4d && buf[1] === 0x4d && buf[2] === 0 && buf[3] === 42));
}

/** Bytes per value of each TIFF field type (1 BYTE … 13 IFD); 0 for unknown types. */
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

/** One value of a field of `type` at byte `p` (rationals as their quotient; float types as 0: no tag we read uses them). */
function readValue(dv: DataView, type: number, p: number, le: boolean): number {
  switch (type) {
    case 1: // BYTE
    case 2: // ASCII
    case 7: // UNDEFINED
      return dv.getUint8(p);
    case 6:
      return dv.getInt8(p);
    case 3:
      return dv.getUint16(p, le);
    case 8:
      return dv.getInt16(p, le);
    case 4: // LONG
    case 13: // IFD
      return dv.getUint32(p, le);
    case 9:
      return dv.getInt32(p, le);
    case 5:
      return dv.getUint32(p, le) / (dv.getUint32(p + 4, le) || 1);
    default:
      return 0;
  }
}

/** Read the first IFD. Throws `TiffError` for a malformed header or directory. */
export function readTiffIfd(buf: Uint8Array): TiffIfd {
  if (!isTiff(buf)) throw new TiffError('not a TIFF file (BigTIFF is not supported)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = buf[0] === 0x49;
  const u16 = (p: number) => dv.getUint16(p, le);
  const u32 = (p: number) => dv.getUint32(p, le);
  const ifd = u32(4);
  if (ifd + 2 > buf.length) throw new TiffError(`the first directory's offset ${ifd} lies beyond the end of the file`);
  const count = u16(ifd);
  if (ifd + 2 + count * 12 > buf.length) throw new TiffError('the first directory is truncated');
  const tags = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    const tag = u16(e);
    const type = u16(e + 2);
    const n = u32(e + 4);
    const size = TYPE_SIZE[type] ?? 0;
    if (size === 0 || !isWanted(tag)) continue;
    const at = n * size <= 4 ? e + 8 : u32(e + 8);
    if (at + n * size > buf.length) throw new TiffError(`tag ${tag} points beyond the end of the file`);
    const values: number[] = new Array(n);
    for (let k = 0; k < n; k++) values[k] = readValue(dv, type, at + k * size, le);
    tags.set(tag, values);
  }
  const one = (tag: number, dflt?: number): number => {
    const v = tags.get(tag)?.[0] ?? dflt;
    if (v === undefined) throw new TiffError(`required tag ${tag} is missing`);
    return v;
  };
  const width = one(TAG.ImageWidth);
  const height = one(TAG.ImageLength);
  if (width < 1 || height < 1) throw new TiffError(`image size ${width}x${height} is empty`);
  const compression = one(TAG.Compression, 1);
  const photometric = one(TAG.Photometric, 0);
  const extraSamples = tags.get(TAG.ExtraSamples) ?? [];
  // Pillow's default SamplesPerPixel: 3 for old-style JPEG RGB/YCbCr, else 1.
  const samplesPerPixel = one(TAG.SamplesPerPixel, compression === 6 && (photometric === 2 || photometric === 6) ? 3 : 1);
  let bitsPerSample = tags.get(TAG.BitsPerSample) ?? [1];
  if (bitsPerSample.length > samplesPerPixel) bitsPerSample = bitsPerSample.slice(0, samplesPerPixel);
  else if (bitsPerSample.length === 1 && samplesPerPixel > 1) bitsPerSample = new Array<number>(samplesPerPixel).fill(bitsPerSample[0]);
  const tiled = tags.has(TAG.TileOffsets);
  if (tiled && !(one(TAG.TileWidth, 0) > 0 && one(TAG.TileLength, 0) > 0)) throw new TiffError('tiled image without a tile size');
  if (!tiled && one(TAG.RowsPerStrip, height) < 1) throw new TiffError('RowsPerStrip is 0');
  const offsets = tags.get(tiled ? TAG.TileOffsets : TAG.StripOffsets) ?? [];
  return {
    littleEndian: le,
    width,
    height,
    bitsPerSample,
    samplesPerPixel,
    compression,
    photometric,
    fillOrder: one(TAG.FillOrder, 1),
    orientation: one(TAG.Orientation, 1),
    planar: one(TAG.PlanarConfig, 1),
    predictor: one(TAG.Predictor, 1),
    sampleFormat: tags.get(TAG.SampleFormat) ?? [1],
    extraSamples,
    colorMap: tags.get(TAG.ColorMap),
    chunks: {
      tiled,
      width: tiled ? one(TAG.TileWidth) : width,
      height: tiled ? one(TAG.TileLength) : Math.min(one(TAG.RowsPerStrip, height), height),
      offsets,
      byteCounts: tags.get(tiled ? TAG.TileByteCounts : TAG.StripByteCounts) ?? [],
    },
  };
}

const WANTED: ReadonlySet<number> = new Set(Object.values(TAG));
function isWanted(tag: number): boolean {
  return WANTED.has(tag);
}

/** How a TIFF is decoded: by libvips (with the mode PIL gives it) or by `decodeTiffPixels`. */
export type TiffPlan = { decoder: 'sharp'; mode: PilMode } | { decoder: 'own'; mode: PilMode };

/** Compressions `decodeTiffPixels` handles: none, LZW, Deflate (both codes), PackBits. */
const OWN_COMPRESSIONS: ReadonlySet<number> = new Set([1, 5, 8, 32946, 32773]);

/** Compressions refused by name: libvips here cannot decode them (or decodes them wrongly). */
const REFUSED_COMPRESSIONS: ReadonlyMap<number, string> = new Map([
  [6, 'old-style JPEG compression (6)'],
  [34925, 'LZMA compression (34925)'],
]);

const unsupported = (what: string) => new TiffError(`unsupported TIFF variant: ${what}`);

/**
 * Which decoder reproduces PIL for this file, and in which mode. Throws `TiffError`
 * ("unsupported TIFF variant: …") for variants PIL reads but we cannot reproduce.
 */
export function planTiff(ifd: TiffIfd): TiffPlan {
  const { photometric: photo, bitsPerSample: bps, extraSamples: extra, compression } = ifd;
  const refused = REFUSED_COMPRESSIONS.get(compression);
  if (refused) throw unsupported(refused);
  const bits = bps[0];
  const sameBits = bps.every((b) => b === bits);
  const format = ifd.sampleFormat[0];
  const own = OWN_COMPRESSIONS.has(compression);
  const needOwn = (mode: PilMode): TiffPlan => {
    if (!own) throw unsupported(`${mode} image with compression ${compression}`);
    if (ifd.predictor !== 1 && ifd.predictor !== 2) throw unsupported(`predictor ${ifd.predictor}`);
    return { decoder: 'own', mode };
  };
  if (photo === 8) throw unsupported('CIELAB colour (PIL converts LAB to RGB through LittleCMS, which is not reproduced)');
  if (format === 3) {
    // Pillow opens only one-channel 32-bit floats (`F;32F`/`F;32BF`), min-is-white or not alike.
    if (bits !== 32 || ifd.samplesPerPixel !== 1 || (photo !== 0 && photo !== 1)) throw unsupported(`${ifd.samplesPerPixel}-sample ${bits}-bit floating-point image`);
    if (ifd.predictor !== 1) throw unsupported(`floating-point image with predictor ${ifd.predictor}`);
    return needOwn('F');
  }
  if (photo === 3) {
    if (extra.length > 0) throw unsupported('palette with alpha (PA: Pillow 9.4 resizes its palette indices bicubically, inventing colours)');
    if (!ifd.colorMap) throw new TiffError('palette image without a ColorMap');
    if (![1, 2, 4, 8].includes(bits) || ifd.samplesPerPixel !== 1) throw unsupported(`${bits}-bit palette`);
    return needOwn('P');
  }
  if ((photo === 0 || photo === 1) && ifd.samplesPerPixel === 1) {
    if (bits === 1) return { decoder: 'sharp', mode: '1' };
    if (bits === 32 && photo === 1 && (format === 1 || format === 2)) return needOwn('I'); // I;32N, I;32S
    if (format === 2) {
      if (bits !== 16 || photo !== 1) throw unsupported(`signed ${bits}-bit grey${photo === 0 ? ' (min-is-white)' : ''}`);
      return needOwn('I');
    }
    // PIL opens these as I;16, which Pillow 9.4's resize refuses for any filter but nearest
    // ("image has wrong mode"): the reference itself cannot preprocess them.
    if (bits === 12 || bits === 16) throw unsupported(`unsigned ${bits}-bit grey (PIL mode I;16, which Pillow 9.4 cannot resize bicubic)`);
    return { decoder: 'sharp', mode: 'L' };
  }
  if (ifd.samplesPerPixel > 6) throw unsupported(`${ifd.samplesPerPixel} samples per pixel`);
  const planar = ifd.planar === 2 && ifd.samplesPerPixel > 1;
  if (photo === 5 && ifd.samplesPerPixel >= 4) {
    if (!sameBits || (bits !== 8 && bits !== 16)) throw unsupported(`${bits}-bit CMYK`);
    // libvips' 16-bit CMYK differs from PIL's CMYK;16 unpacker (the high byte of each sample).
    return planar || bits === 16 ? needOwn('CMYK') : { decoder: 'sharp', mode: 'CMYK' };
  }
  if (photo === 2 && sameBits && (bits === 8 || bits === 16)) {
    // A 4th sample is alpha unless ExtraSamples calls it unspecified (PIL's RGBX, which converts as RGB);
    // associated alpha (1) is premultiplied (PIL's RGBa).
    const alpha = ifd.samplesPerPixel >= 4 && (extra.length === 0 || extra[0] !== 0);
    const mode: PilMode = alpha ? 'RGBA' : 'RGB';
    // libvips reads chunky 8/16-bit RGB(A) as PIL does (16-bit: high byte, see decode.ts), but not planar tiles or RGBa.
    if (planar || (alpha && extra[0] === 1)) return needOwn(mode);
    return { decoder: 'sharp', mode };
  }
  // Everything else (YCbCr, JPEG-compressed, 8-bit grey + alpha …) is what libvips reads as PIL does.
  return { decoder: 'sharp', mode: sharpDefaultMode(ifd) };
}

function sharpDefaultMode(ifd: TiffIfd): PilMode {
  const n = ifd.samplesPerPixel;
  if (ifd.photometric === 5) return 'CMYK';
  if (n === 1) return 'L';
  if (n === 2) return 'LA';
  return ifd.extraSamples.length > 0 && n >= 4 ? 'RGBA' : 'RGB';
}

/** TIFF LZW (MSB-first codes, 9–12 bits, "early change"), as libtiff's `LZWDecode`. */
export function lzwDecode(src: Uint8Array, expected: number): Uint8Array {
  if (src.length >= 2 && src[0] === 0 && (src[1] & 1) === 1) throw unsupported('old-style (pre-6.0) LZW');
  const out = new Uint8Array(expected);
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const length = new Int32Array(4096);
  for (let i = 0; i < 256; i++) {
    suffix[i] = i;
    first[i] = i;
    length[i] = 1;
    prefix[i] = -1;
  }
  let next = 258;
  let width = 9;
  let prev = -1;
  let o = 0;
  let bitBuf = 0;
  let bitCount = 0;
  let p = 0;
  const write = (code: number) => {
    const len = length[code];
    let end = o + len;
    let c = code;
    // Write the string backwards; bytes past `expected` are dropped (libtiff warns and stops).
    for (let k = end - 1; k >= o; k--) {
      if (k < expected) out[k] = suffix[c];
      c = prefix[c];
    }
    if (end > expected) end = expected;
    o = end;
  };
  while (o < expected) {
    while (bitCount < width && p < src.length) {
      bitBuf = ((bitBuf << 8) | src[p++]) >>> 0;
      bitCount += 8;
    }
    if (bitCount < width) break;
    const code = (bitBuf >>> (bitCount - width)) & ((1 << width) - 1);
    bitCount -= width;
    bitBuf &= (1 << bitCount) - 1;
    if (code === 257) break;
    if (code === 256) {
      next = 258;
      width = 9;
      prev = -1;
      continue;
    }
    if (prev === -1) {
      if (code > 255) throw new TiffError('LZW data is corrupt (first code is not a literal)');
      write(code);
      prev = code;
      continue;
    }
    let cur: number;
    if (code < next) {
      write(code);
      cur = code;
    } else if (code === next) {
      cur = -1;
    } else {
      throw new TiffError('LZW data is corrupt (code out of range)');
    }
    if (next < 4096) {
      prefix[next] = prev;
      suffix[next] = cur === -1 ? first[prev] : first[cur];
      first[next] = first[prev];
      length[next] = length[prev] + 1;
      next++;
    }
    if (cur === -1) write(next - 1);
    prev = code;
    if (next + 1 >= 1 << width && width < 12) width++;
  }
  return o === expected ? out : out.subarray(0, o);
}

/** PackBits (Apple run-length) decoding. */
export function packBitsDecode(src: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let o = 0;
  let p = 0;
  while (p < src.length && o < expected) {
    const n = (src[p++] << 24) >> 24;
    if (n >= 0) {
      const end = Math.min(p + n + 1, src.length);
      while (p < end && o < expected) out[o++] = src[p++];
    } else if (n !== -128) {
      const v = src[p++];
      for (let k = 0; k < 1 - n && o < expected; k++) out[o++] = v;
    }
  }
  return o === expected ? out : out.subarray(0, o);
}

function decompress(ifd: TiffIfd, src: Uint8Array, expected: number): Uint8Array {
  switch (ifd.compression) {
    case 1:
      return src;
    case 5:
      return lzwDecode(src, expected);
    case 8:
    case 32946:
      try {
        // Bounded: a strip never holds more than its rows (some writers pad a little).
        return inflateSync(src, { maxOutputLength: 2 * expected + 4096 });
      } catch (err) {
        throw new TiffError(`Deflate data is corrupt (${(err as Error).message})`);
      }
    case 32773:
      return packBitsDecode(src, expected);
    default:
      throw unsupported(`compression ${ifd.compression}`);
  }
}

/** Undo horizontal differencing (Predictor 2) on one row of `spp` interleaved samples. */
function undoPredictor(row: Uint8Array | Uint16Array, spp: number): void {
  const mask = row instanceof Uint8Array ? 0xff : 0xffff;
  for (let i = spp; i < row.length; i++) row[i] = (row[i] + row[i - spp]) & mask;
}

/**
 * Every sample of the image, [height, width, samplesPerPixel] interleaved whatever the file's
 * layout: 8-bit (and 1/2/4-bit, one per byte) as `Uint8Array`, 16-bit as `Uint16Array` values
 * (signed ones reinterpreted by the caller), 32-bit as `Uint32Array` bit patterns.
 */
export function readTiffSamples(buf: Uint8Array, ifd: TiffIfd): Uint8Array | Uint16Array | Uint32Array {
  const { width: W, height: H, samplesPerPixel: spp, chunks } = ifd;
  const bits = ifd.bitsPerSample[0];
  if (![1, 2, 4, 8, 16, 32].includes(bits) || ifd.bitsPerSample.some((b) => b !== bits)) throw unsupported(`${ifd.bitsPerSample.join('/')} bits per sample`);
  if (bits < 8 && spp !== 1) throw unsupported(`${bits}-bit samples with ${spp} samples per pixel`);
  const planes = ifd.planar === 2 ? spp : 1;
  const perChunk = ifd.planar === 2 ? 1 : spp; // samples per pixel inside one chunk
  const across = Math.ceil(W / chunks.width);
  const down = Math.ceil(H / chunks.height);
  if (chunks.offsets.length < across * down * planes) throw new TiffError(`${chunks.offsets.length} ${chunks.tiled ? 'tiles' : 'strips'} for an image that needs ${across * down * planes}`);
  const rowBytes = Math.ceil((chunks.width * perChunk * bits) / 8);
  if (ifd.compression === 1) {
    // Uncompressed: a file too short for its claimed size fails here, before the big allocation.
    const need = planes * (chunks.tiled ? across * down * chunks.height : H) * rowBytes;
    const have = chunks.byteCounts.slice(0, across * down * planes).reduce((a, b) => a + b, 0);
    if (have < need) throw new TiffError(`the ${chunks.tiled ? 'tiles' : 'strips'} hold ${have} bytes, the image needs ${need} (truncated)`);
  }
  const out = bits === 32 ? new Uint32Array(W * H * spp) : bits === 16 ? new Uint16Array(W * H * spp) : new Uint8Array(W * H * spp);
  for (let plane = 0; plane < planes; plane++) {
    for (let cy = 0; cy < down; cy++) {
      for (let cx = 0; cx < across; cx++) {
        const i = plane * across * down + cy * across + cx;
        const y0 = cy * chunks.height;
        const x0 = cx * chunks.width;
        // Strips hold only the rows left in the image; tiles are always whole.
        const rows = chunks.tiled ? chunks.height : Math.min(chunks.height, H - y0);
        const start = chunks.offsets[i];
        const count = chunks.byteCounts[i] ?? buf.length - start;
        if (start + count > buf.length) throw new TiffError(`${chunks.tiled ? 'tile' : 'strip'} ${i} lies beyond the end of the file (truncated)`);
        const data = decompress(ifd, buf.subarray(start, start + count), rows * rowBytes);
        const usable = Math.min(rows, Math.floor(data.length / rowBytes), H - y0);
        if (usable < Math.min(rows, H - y0)) throw new TiffError(`${chunks.tiled ? 'tile' : 'strip'} ${i} is truncated`);
        const cols = Math.min(chunks.width, W - x0);
        for (let r = 0; r < usable; r++) {
          const rowData = data.subarray(r * rowBytes, (r + 1) * rowBytes);
          const values = unpackRow(rowData, bits, chunks.width * perChunk, ifd.littleEndian, ifd.fillOrder === 2);
          if (ifd.predictor === 2) {
            if (values instanceof Uint32Array) throw unsupported('32-bit samples with predictor 2');
            undoPredictor(values, perChunk);
          }
          const base = ((y0 + r) * W + x0) * spp;
          if (perChunk === spp) out.set(values.subarray(0, cols * spp) as never, base);
          else for (let x = 0; x < cols; x++) out[base + x * spp + plane] = values[x];
        }
      }
    }
  }
  return out;
}

/** One row of packed samples → one value per sample (16/32-bit in the file's byte order). */
function unpackRow(row: Uint8Array, bits: number, n: number, littleEndian: boolean, lsbFirst: boolean): Uint8Array | Uint16Array | Uint32Array {
  if (bits === 8) return row.slice(0, n);
  if (bits === 32) {
    const dv = new DataView(row.buffer, row.byteOffset, row.byteLength);
    const v = new Uint32Array(n);
    for (let i = 0; i < n; i++) v[i] = dv.getUint32(4 * i, littleEndian);
    return v;
  }
  if (bits === 16) {
    const v = new Uint16Array(n);
    for (let i = 0; i < n; i++) v[i] = littleEndian ? row[2 * i] | (row[2 * i + 1] << 8) : (row[2 * i] << 8) | row[2 * i + 1];
    return v;
  }
  const v = new Uint8Array(n);
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  for (let i = 0; i < n; i++) {
    let byte = row[Math.floor(i / perByte)];
    if (lsbFirst) byte = reverseBits(byte);
    v[i] = (byte >> (8 - bits * ((i % perByte) + 1))) & mask;
  }
  return v;
}

function reverseBits(b: number): number {
  let r = 0;
  for (let k = 0; k < 8; k++) r |= ((b >> k) & 1) << (7 - k);
  return r;
}

/**
 * Decode a file planned for our own decoder to PIL's mode, with PIL's unpackers: the high byte
 * of 16-bit samples, `I;16S` sign-extended, `RGBa` un-premultiplied (`c·255/a`, alpha 0 → all 0),
 * palette indices mapped through the colour map's high bytes. Orientation is not applied here.
 */
export function decodeTiffPixels(buf: Uint8Array, ifd: TiffIfd, mode: PilMode): RawImage {
  const { width, height, samplesPerPixel: spp } = ifd;
  const n = width * height;
  const samples = readTiffSamples(buf, ifd);
  if (mode === 'F') {
    const bitsOf = samples instanceof Uint32Array ? samples : Uint32Array.from(samples);
    return { width, height, channels: 1, mode, data: new Float32Array(bitsOf.buffer, bitsOf.byteOffset, n) };
  }
  if (mode === 'I') {
    const data = new Int32Array(n);
    if (samples instanceof Uint32Array) for (let i = 0; i < n; i++) data[i] = samples[i * spp] | 0; // I;32N, I;32S
    else for (let i = 0; i < n; i++) data[i] = (samples[i * spp] << 16) >> 16; // I;16S
    return { width, height, channels: 1, mode, data };
  }
  const bytes = samples instanceof Uint16Array ? Uint8Array.from(samples, (v) => v >> 8) : samples;
  if (mode === 'P') {
    const map = ifd.colorMap!;
    const entries = map.length / 3;
    const data = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      const idx = bytes[i * spp];
      // An index past the map's end reads PIL's zero-filled palette: black.
      if (idx < entries) for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.floor(map[c * entries + idx] / 256);
    }
    return { width, height, channels: 3, mode, data };
  }
  const ch = mode === 'RGB' ? 3 : 4;
  const data = new Uint8Array(n * ch);
  const premultiplied = mode === 'RGBA' && ifd.extraSamples[0] === 1;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < ch; c++) data[i * ch + c] = bytes[i * spp + c];
    if (premultiplied) unpremultiplyPixel(data, i * 4);
  }
  return { width, height, channels: ch, mode, data };
}

/** Pillow's `unpackRGBa` on one pixel, in place. */
function unpremultiplyPixel(d: Uint8Array, p: number): void {
  const a = d[p + 3];
  if (a === 255) return;
  if (a === 0) {
    d[p] = d[p + 1] = d[p + 2] = 0;
    return;
  }
  for (let c = 0; c < 3; c++) d[p + c] = Math.min(255, Math.trunc((d[p + c] * 255) / a));
}

/**
 * `TiffImagePlugin.load_end`: the Orientation transpose PIL applies on load. For 5–8 (which
 * swap the sides) the result keeps the size `Image.open` reported before loading in
 * `openedSize`: torchvision's `Resize` reads that size, then resizes the transposed image to it.
 */
export function applyTiffOrientation(img: RawImage, orientation: number): RawImage {
  if (orientation < 2 || orientation > 8) return img;
  const { width: W, height: H, channels: ch } = img;
  const swap = orientation >= 5;
  const outW = swap ? H : W;
  const outH = swap ? W : H;
  const src = img.data;
  const data = new (src.constructor as new (n: number) => Uint8Array | Int32Array)(src.length);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: [sx, sy] = [W - 1 - x, y]; break; // FLIP_LEFT_RIGHT
        case 3: [sx, sy] = [W - 1 - x, H - 1 - y]; break; // ROTATE_180
        case 4: [sx, sy] = [x, H - 1 - y]; break; // FLIP_TOP_BOTTOM
        case 5: [sx, sy] = [y, x]; break; // TRANSPOSE
        case 6: [sx, sy] = [y, H - 1 - x]; break; // ROTATE_270
        case 7: [sx, sy] = [W - 1 - y, H - 1 - x]; break; // TRANSVERSE
        default: [sx, sy] = [W - 1 - y, x]; break; // 8: ROTATE_90
      }
      const s = (sy * W + sx) * ch;
      const o = (y * outW + x) * ch;
      for (let c = 0; c < ch; c++) data[o + c] = src[s + c];
    }
  }
  return { ...img, width: outW, height: outH, data, ...(swap ? { openedSize: { width: W, height: H } } : {}) };
}

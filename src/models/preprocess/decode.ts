/**
 * Image decoding to Pillow's source mode: sharp (libvips) for JPEG/PNG/WebP/GIF/TIFF/…, decoded
 * to raw samples with no resize and no colour management, and our own decoders for the formats
 * sharp lacks (Netpbm, BMP) or decodes unlike PIL: the TIFF variants in `tiff.ts`, and GIF
 * (libvips composites frames and makes transparent pixels black; Pillow keeps frame 0's indices).
 *
 * sharp settings, chosen to behave like `PIL.Image.open(...).load()`:
 * - `failOn: 'error'`: corrupt or truncated data is an error (PIL raises "image file is
 *   truncated"); mere warnings (e.g. extraneous bytes before a JPEG marker, common in ImageNet)
 *   are not, since PIL decodes those files too.
 * - `ignoreIcc: true`: PIL ignores embedded ICC profiles; sharp would otherwise convert to sRGB.
 * - `limitInputPixels`: the decompression-bomb guard, checked by us first for a clear message.
 * - CMYK is kept as CMYK (`pipelineColourspace('cmyk')`) so we can apply PIL's naive formula,
 *   and 16-bit grey as `grey16` samples (PIL mode `I`).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { UsageError } from '../../errors.js';
import { BmpError, decodeBmp, isBmp, readBmpHeader } from './bmp.js';
import { DEFAULT_MAX_PIXELS } from './config.js';
import { processDecodeLock, withExclusive, withShared } from './decode-lock.js';
import { decodeGif, GifError, isGif, readGifHeader } from './gif.js';
import { channelsOf, type PilMode, type RawImage } from './image.js';
import { decodePnm, isPnm, PnmError, readPnmHeader } from './pnm.js';
import { applyTiffOrientation, decodeTiffPixels, isTiff, planTiff, readTiffIfd, TiffError } from './tiff.js';

export interface DecodeOptions {
  /** Refuse images with more pixels (width·height) than this. Default: PIL's bomb threshold, 178,956,970. */
  maxPixels?: number;
  /** Apply the EXIF Orientation tag (off by default: the reference ignores it). */
  applyExifOrientation?: boolean;
  /** Name used in error messages when the input is a buffer. */
  name?: string;
  /**
   * Called once with the bytes the decoded pixels will take and their count (from the header),
   * before they are allocated; decoding waits for it. The preprocessing pipeline passes the
   * process-wide decode budget here (`decode-budget.ts`).
   */
  admit?: Admit;
}

type Admit = (bytes: number, pixels: number) => Promise<void>;

function readError(file: string, err: unknown): UsageError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
  return new UsageError(`cannot read image: ${why}`, { file, cause: err });
}

/** Read a file into memory, as a `UsageError` naming it when that fails. */
export async function readImageFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw readError(file, err);
  }
}

/**
 * Synchronous `readImageFile`, for worker threads: there blocking costs nothing and it saves
 * the thread-pool round trips of an async read (about 0.5 ms per small file).
 */
export function readImageFileSync(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw readError(file, err);
  }
}

function pixelLimitError(width: number, height: number, max: number, file?: string): UsageError {
  return new UsageError(
    `image is ${width}x${height} = ${width * height} pixels, above the limit of ${max} (decompression-bomb guard)`,
    { file, fix: 'raise maxPixels in the preprocessing config if the image is trusted' },
  );
}

function checkPixels(width: number, height: number, max: number, file?: string): void {
  if (width * height > max) throw pixelLimitError(width, height, max, file);
}

/**
 * Decode an image file or buffer to Pillow's mode for it ([h, w, c] interleaved samples).
 * Throws `UsageError` (naming the file) for unreadable, corrupt or unsupported images and for
 * images above the pixel limit.
 */
export async function decodeImage(input: string | Uint8Array, opts: DecodeOptions = {}): Promise<RawImage> {
  const file = typeof input === 'string' ? input : opts.name;
  const buf = typeof input === 'string' ? await readImageFile(input) : input;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (buf.length === 0) throw new UsageError('cannot decode image: the file is empty', { file });
  const admit = opts.admit ?? (async () => {});
  if (isPnm(buf)) return decodeOwn(buf, 'PNM', file, maxPixels, admit, () => readPnmHeader(buf), decodePnm);
  if (isBmp(buf)) return decodeOwn(buf, 'BMP', file, maxPixels, admit, () => readBmpHeader(buf), decodeBmp);
  if (isGif(buf)) return decodeOwn(buf, 'GIF', file, maxPixels, admit, () => readGifHeader(buf), decodeGif);
  if (isTiff(buf)) return decodeTiff(buf, file, maxPixels, admit);
  return decodeWithSharp(buf, file, maxPixels, opts.applyExifOrientation ?? false, admit);
}

/**
 * TIFF as `TiffImagePlugin` opens it (see `tiff.ts`): our decoder or libvips, in PIL's mode,
 * then the Orientation PIL always applies on load (so `applyExifOrientation` has no say here).
 */
async function decodeTiff(buf: Uint8Array, file: string | undefined, maxPixels: number, admit: Admit): Promise<RawImage> {
  let ifd: ReturnType<typeof readTiffIfd>;
  let plan: ReturnType<typeof planTiff>;
  try {
    ifd = readTiffIfd(buf);
    checkPixels(ifd.width, ifd.height, maxPixels, file);
    plan = planTiff(ifd);
  } catch (err) {
    throw err instanceof TiffError ? tiffError(err, file) : err;
  }
  const { mode } = plan;
  // Budget: the stored samples beside PIL's mode (≤ 4 bytes a pixel), plus the Orientation's copy.
  const rotated = ifd.orientation > 1 ? 4 : 0;
  const stored = ifd.bitsPerSample.reduce((sum, b) => sum + Math.ceil(b / 8), 0);
  const tiffAdmit: Admit = (bytes, pixels) => admit(bytes + pixels * rotated, pixels);
  const img =
    plan.decoder === 'own'
      ? await decodeOwn(buf, 'TIFF', file, maxPixels, (_, pixels) => tiffAdmit(pixels * (stored + 4), pixels), () => ifd, (b) => decodeTiffPixels(b, ifd, mode))
      : await decodeWithSharp(buf, file, maxPixels, false, tiffAdmit, { pilMode: mode, failOnWarning: true });
  return applyTiffOrientation(img, ifd.orientation);
}

function tiffError(err: TiffError, file: string | undefined): UsageError {
  const variant = err.message.startsWith('unsupported');
  return new UsageError(`cannot decode TIFF image: ${err.message}`, {
    file,
    cause: err,
    fix: variant ? 'PIL reads it but clip-bench cannot reproduce PIL on it; convert the file (e.g. to PNG)' : 'the file is corrupt or truncated',
  });
}

/**
 * Our own decoders: check the header's size against the limit, and wait for the decode budget,
 * before allocating. EXIF does not apply. Netpbm/BMP/GIF hold at most 4 bytes a pixel (palette
 * indices + RGB, or mode I as int32).
 */
async function decodeOwn(
  buf: Uint8Array,
  kind: string,
  file: string | undefined,
  maxPixels: number,
  admit: Admit,
  header: () => { width: number; height: number },
  decode: (b: Uint8Array) => RawImage,
): Promise<RawImage> {
  const fail = (err: unknown): never => {
    if (err instanceof TiffError) throw tiffError(err, file);
    if (err instanceof PnmError || err instanceof BmpError || err instanceof GifError) {
      const fix = (err instanceof BmpError && err.fix) || 'the file is corrupt or uses an unsupported variant';
      throw new UsageError(`cannot decode ${kind} image: ${err.message}`, { file, cause: err, fix });
    }
    throw err;
  };
  let size: { width: number; height: number };
  try {
    size = header();
  } catch (err) {
    return fail(err);
  }
  checkPixels(size.width, size.height, maxPixels, file);
  await admit(size.width * size.height * 4, size.width * size.height);
  try {
    return decode(buf);
  } catch (err) {
    return fail(err);
  }
}

/** Pillow's mode for what sharp reports. */
function modeFor(meta: Metadata): PilMode {
  if (meta.space === 'cmyk') return 'CMYK';
  // PIL keeps palette images as P (and resizes them with nearest neighbour) even when all grey.
  if (meta.isPalette) return 'P';
  if (meta.channels === 1) {
    if (meta.depth === 'ushort') return 'I';
    // PNG bit depth 1 opens as mode "1"; libvips widens it to 0/255 like PIL's convert does.
    return meta.format === 'png' && meta.bitsPerSample === 1 ? '1' : 'L';
  }
  if (meta.channels === 2) return 'LA';
  if (meta.channels === 3) return 'RGB';
  return 'RGBA';
}

/** What the pipeline needs to know before decoding. */
export interface SourceInfo {
  width: number;
  height: number;
  mode: PilMode;
  /** 16 bits per sample. */
  deep: boolean;
}

/**
 * Baseline/progressive 8-bit JPEG header (SOFn): size and component count, read directly —
 * a full `metadata()` round trip costs about 5% of a small image's preprocessing.
 * Returns null for anything unusual, which then goes through `metadata()`.
 */
export function sniffJpeg(buf: Uint8Array): SourceInfo | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let p = 2;
  while (p + 4 <= buf.length) {
    if (buf[p] !== 0xff) return null;
    const marker = buf[p + 1];
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2;
      continue;
    }
    const len = (buf[p + 2] << 8) | buf[p + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (p + 10 > buf.length || buf[p + 4] !== 8) return null;
      const height = (buf[p + 5] << 8) | buf[p + 6];
      const width = (buf[p + 7] << 8) | buf[p + 8];
      const comps = buf[p + 9];
      const mode: PilMode | null = comps === 1 ? 'L' : comps === 3 ? 'RGB' : comps === 4 ? 'CMYK' : null;
      return mode && width > 0 && height > 0 ? { width, height, mode, deep: false } : null;
    }
    if (marker === 0xda || marker === 0xd9 || len < 2) return null;
    p += 2 + len;
  }
  return null;
}

/**
 * PNG IHDR → Pillow's mode. Needed beyond speed: a grey or RGB PNG with a tRNS colour key opens
 * in PIL as `L`/`RGB` (transparency only in `info`), while libvips adds an alpha channel.
 */
export function sniffPng(buf: Uint8Array): SourceInfo | null {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (buf.length < 33 || sig.some((v, i) => buf[i] !== v)) return null;
  if (String.fromCharCode(buf[12], buf[13], buf[14], buf[15]) !== 'IHDR') return null;
  const width = ((buf[16] << 24) | (buf[17] << 16) | (buf[18] << 8) | buf[19]) >>> 0;
  const height = ((buf[20] << 24) | (buf[21] << 16) | (buf[22] << 8) | buf[23]) >>> 0;
  const bits = buf[24];
  const deep = bits === 16;
  const modes: Record<number, PilMode> = { 0: bits === 1 ? '1' : deep ? 'I' : 'L', 2: 'RGB', 3: 'P', 4: 'LA', 6: 'RGBA' };
  const mode = modes[buf[25]];
  return mode && width > 0 && height > 0 ? { width, height, mode, deep } : null;
}

async function sourceInfo(buf: Uint8Array, file: string | undefined, pilMode?: PilMode): Promise<SourceInfo> {
  const sniffed = sniffJpeg(buf) ?? sniffPng(buf);
  if (sniffed) return sniffed;
  refuseUndecodable(buf, file);
  let meta: Metadata;
  try {
    // No pixel limit on the header read, so that we can report the size ourselves.
    meta = await sharp(buf, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (err) {
    throw new UsageError(`cannot decode image: ${sharpMessage(err)}`, { file, cause: err, fix: 'the file is corrupt or not an image format sharp reads' });
  }
  if (!RASTER_FORMATS.has(meta.format)) {
    throw new UsageError(`unsupported image format "${meta.format}"`, { file, fix: `use ${[...RASTER_FORMATS].join(', ')}, PPM/PGM or BMP` });
  }
  return { width: meta.width, height: meta.height, mode: pilMode ?? modeFor(meta), deep: meta.depth === 'ushort' };
}

/**
 * Formats we let sharp decode: raster images. Vector and document formats (SVG, PDF) and
 * scientific ones would be rendered or converted rather than decoded, and PIL cannot open them.
 * JPEG 2000 and JPEG XL are not among them: sharp's prebuilt libvips has neither decoder.
 */
const RASTER_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

/** Signatures of formats nothing here decodes, so that the refusal names the format (sharp only says "unsupported image format"). */
const UNDECODABLE: readonly { name: string; magic: readonly number[] }[] = [
  { name: 'JPEG 2000', magic: [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a] }, // JP2 box
  { name: 'JPEG 2000', magic: [0xff, 0x4f, 0xff, 0x51] }, // J2K codestream
  { name: 'JPEG XL', magic: [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a] },
  { name: 'JPEG XL', magic: [0xff, 0x0a] },
];

function refuseUndecodable(buf: Uint8Array, file: string | undefined): void {
  const hit = UNDECODABLE.find((f) => f.magic.every((v, i) => buf[i] === v));
  if (hit) {
    throw new UsageError(`unsupported image format: ${hit.name} (the image decoder here, sharp's libvips, has no ${hit.name} support)`, {
      file,
      fix: `convert it to PNG; readable formats are ${[...RASTER_FORMATS].join(', ')}, PPM/PGM and BMP`,
    });
  }
}

/**
 * Bytes a sharp decode holds per pixel: what libvips delivers plus the copy `toRawImage`/`pack`
 * makes where the layouts differ (palette → RGB(A) then RGB; LA as RGBA then LA; 16-bit samples
 * then their high bytes; grey16 then int32).
 */
function sharpBytesPerPixel(mode: PilMode, deep: boolean): number {
  if (mode === 'I') return 2 + 4;
  if (deep) return 4 * 2 + 4;
  const perMode: Record<Exclude<PilMode, 'I'>, number> = { '1': 1, L: 1, LA: 4 + 2, P: 4 + 3, RGB: 4 + 3, RGBA: 4, CMYK: 4, F: 4 + 4 };
  return perMode[mode];
}

/**
 * sharp decode under the process-wide decode lock: shared for the first try; a failure is tried
 * again alone (exclusive), so that its message is this file's and not another thread's
 * (libvips' error buffer is process-wide; see `decode-lock.ts`); one that fails on warnings runs
 * alone from the start. Admission to the decode budget
 * waits outside the lock, so a decode waiting for memory never holds up an exclusive retry.
 */
async function decodeWithSharp(buf: Uint8Array, file: string | undefined, maxPixels: number, autoOrient: boolean, admit: Admit, opts: SharpDecodeOptions = {}): Promise<RawImage> {
  const source = await underDecodeLock(() => sourceInfo(buf, file, opts.pilMode));
  checkPixels(source.width, source.height, maxPixels, file);
  await admit(source.width * source.height * sharpBytesPerPixel(source.mode, source.deep), source.width * source.height);
  const decodePixels = () => decodePixelsWithSharp(buf, source, file, maxPixels, autoOrient, opts);
  // libvips warnings also go to one process-wide queue, emptied by whichever decode finishes next:
  // a decode that must see its own warnings runs alone.
  return opts.failOnWarning ? withExclusive(processDecodeLock(), decodePixels) : underDecodeLock(decodePixels);
}

async function underDecodeLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = processDecodeLock();
  try {
    return await withShared(lock, fn);
  } catch {
    return withExclusive(lock, fn);
  }
}

/**
 * `pilMode`: the mode PIL gives the file, where the caller knows it better than sharp's metadata.
 * `failOnWarning`: a libvips warning fails the decode (TIFF: libtiff only warns about bogus strip
 * sizes or undecodable tiles, and hands back black or garbage pixels with exit code 0).
 */
interface SharpDecodeOptions {
  pilMode?: PilMode;
  failOnWarning?: boolean;
}

async function decodePixelsWithSharp(buf: Uint8Array, source: SourceInfo, file: string | undefined, maxPixels: number, autoOrient: boolean, opts: SharpDecodeOptions): Promise<RawImage> {
  const { mode, deep } = source;
  let pipeline = sharp(buf, { failOn: 'error', limitInputPixels: maxPixels, ignoreIcc: true, autoOrient });
  let depth: 'uchar' | 'ushort' = 'uchar';
  if (mode === 'CMYK') pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk');
  else if (mode === 'I') {
    pipeline = pipeline.pipelineColourspace('grey16').toColourspace('grey16');
    depth = 'ushort';
  } else if ((mode === 'L' || mode === '1') && !deep) {
    pipeline = pipeline.toColourspace('b-w'); // else sharp widens grey to sRGB
  } else if (deep) {
    // 16-bit RGB(A)/LA: PIL's ;16B unpackers keep the high byte, so take it ourselves.
    // (LA arrives as grey-replicated RGBA: 'grey16' output would drop alpha.)
    depth = 'ushort';
    pipeline = pipeline.toColourspace('rgb16');
  }
  const warnings: string[] = [];
  if (opts.failOnWarning) pipeline.on('warning', (w: string) => warnings.push(w));
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await pipeline.raw({ depth }).toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw new UsageError(`cannot decode image: ${sharpMessage(err)}`, { file, cause: err, fix: 'the file is corrupt or truncated' });
  }
  if (warnings.length > 0) {
    const more = warnings.length > 1 ? ` (and ${warnings.length - 1} more warnings)` : '';
    throw new UsageError(`cannot decode image: the decoder warned "${sharpMessage(warnings[0])}"${more}, so the pixels cannot be trusted`, { file, fix: 'the file is corrupt or truncated' });
  }
  return toRawImage(data, info, mode, depth, file);
}

function toRawImage(data: Buffer, info: OutputInfo, mode: PilMode, depth: 'uchar' | 'ushort', file?: string): RawImage {
  const { width, height, channels } = info;
  const n = width * height;
  if (depth === 'ushort') {
    const u16 = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
    if (mode === 'I') {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = u16[i * channels]; // skip a tRNS-derived alpha, if any
      return { width, height, channels: 1, mode, data: out };
    }
    const out = new Uint8Array(u16.length);
    for (let i = 0; i < u16.length; i++) out[i] = u16[i] >> 8; // PIL's ;16B unpackers keep the high byte
    return pack(out, width, height, channels, mode, file);
  }
  return pack(new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels, mode, file);
}

/**
 * Fit sharp's channel layout to the mode's: palette → RGB without alpha (PIL's P→RGB ignores
 * transparency), LA delivered as grey-replicated RGBA → grey + alpha, and the alpha libvips
 * derives from a tRNS colour key dropped where PIL keeps the image opaque.
 */
function pack(samples: Uint8Array, width: number, height: number, channels: number, mode: PilMode, file?: string): RawImage {
  const want = channelsOf(mode);
  if (channels === want) return { width, height, channels: want, mode, data: samples };
  const n = width * height;
  const pick = (from: readonly number[]): Uint8Array => {
    const out = new Uint8Array(n * from.length);
    for (let i = 0, o = 0; i < n; i++) for (const c of from) out[o++] = samples[i * channels + c];
    return out;
  };
  if (mode === 'P') return { width, height, channels: 3, mode, data: pick(channels <= 2 ? [0, 0, 0] : [0, 1, 2]) };
  if (mode === 'LA' && channels === 4) return { width, height, channels: 2, mode, data: pick([0, 3]) };
  if (mode === 'RGB' && channels === 4) return { width, height, channels: 3, mode, data: pick([0, 1, 2]) }; // tRNS key
  if ((mode === 'L' || mode === '1') && channels >= 3) return { width, height, channels: 1, mode, data: pick([0]) };
  throw new UsageError(`cannot decode image: unexpected ${channels}-channel output for mode ${mode}`, { file });
}

function sharpMessage(err: unknown): string {
  return String((err as Error)?.message ?? err).replace(/\s+/g, ' ').trim();
}

/**
 * GIF decoder giving what Pillow 9.4's `Image.open` gives: the first frame only (later frames
 * and their disposal are never composited), in mode `P` with that frame's palette, or `L` when
 * there is no palette or it is the identity grey ramp (`GifImagePlugin._is_palette_needed`).
 *
 * Frame 0 as Pillow builds it (`_seek(0)`, `load_prepare`, `GifDecode.c`):
 * - the canvas is the logical screen, grown to hold the frame if the frame lies partly outside;
 * - outside the frame the canvas holds the transparency index when the frame has one, else 0;
 * - every pixel of the frame is written, transparent ones included: transparency is only kept in
 *   `info`, so `convert('RGB')` shows the palette colour of the transparent index;
 * - an index past the palette reads Pillow's default palette, the grey ramp (i, i, i).
 */
import type { RawImage } from './image.js';

export class GifError extends Error {}

export function isGif(buf: Uint8Array): boolean {
  if (buf.length < 6) return false;
  const sig = String.fromCharCode(...buf.subarray(0, 6));
  return sig === 'GIF87a' || sig === 'GIF89a';
}

/** Frame 0 as located by the header walk: everything needed to decode it. */
export interface GifFrame0 {
  /** Canvas size (the logical screen, grown to hold the frame). */
  width: number;
  height: number;
  left: number;
  top: number;
  frameWidth: number;
  frameHeight: number;
  interlaced: boolean;
  /** RGB triples of the palette in use, or null for mode `L`. */
  palette: Uint8Array | null;
  transparency: number | null;
  /** LZW minimum code size. */
  codeBits: number;
  /** Offset of the first data sub-block. */
  dataOffset: number;
}

/** Pillow keeps a palette only when some entry i is not (i, i, i). */
function paletteNeeded(p: Uint8Array): boolean {
  for (let i = 0; i + 2 < p.length; i += 3) if (!(p[i] === i / 3 && p[i + 1] === i / 3 && p[i + 2] === i / 3)) return true;
  return false;
}

/** Skip a chain of data sub-blocks starting at `p`; returns the offset after the terminator. */
function skipSubBlocks(buf: Uint8Array, p: number): number {
  while (p < buf.length && buf[p] !== 0) p += buf[p] + 1;
  if (p >= buf.length) throw new GifError('truncated extension block');
  return p + 1;
}

/** Walk the header and extensions up to frame 0's image descriptor. */
export function readGifHeader(buf: Uint8Array): GifFrame0 {
  if (!isGif(buf)) throw new GifError('not a GIF file');
  if (buf.length < 13) throw new GifError('truncated header');
  let width = buf[6] | (buf[7] << 8);
  let height = buf[8] | (buf[9] << 8);
  const flags = buf[10];
  let p = 13;
  let globalPalette: Uint8Array | null = null;
  if (flags & 0x80) {
    const n = 3 << ((flags & 7) + 1);
    const table = buf.subarray(p, Math.min(buf.length, p + n));
    p += n;
    if (paletteNeeded(table)) globalPalette = table;
  }
  let transparency: number | null = null;
  while (p < buf.length) {
    const tag = buf[p++];
    if (tag === 0x3b) break; // trailer
    if (tag === 0x21) {
      if (p >= buf.length) break;
      const label = buf[p++];
      // Graphic control extension: its first sub-block carries the transparency flag and index.
      if (label === 0xf9 && p < buf.length && buf[p] >= 4 && p + 4 < buf.length && buf[p + 1] & 1) transparency = buf[p + 4];
      p = skipSubBlocks(buf, p);
      continue;
    }
    if (tag !== 0x2c) continue; // Pillow skips unknown bytes between blocks
    if (p + 9 > buf.length) throw new GifError('truncated image descriptor');
    const left = buf[p] | (buf[p + 1] << 8);
    const top = buf[p + 2] | (buf[p + 3] << 8);
    const frameWidth = buf[p + 4] | (buf[p + 5] << 8);
    const frameHeight = buf[p + 6] | (buf[p + 7] << 8);
    const frameFlags = buf[p + 8];
    p += 9;
    width = Math.max(width, left + frameWidth);
    height = Math.max(height, top + frameHeight);
    let palette: Uint8Array | null = globalPalette;
    if (frameFlags & 0x80) {
      const n = 3 << ((frameFlags & 7) + 1);
      const table = buf.subarray(p, Math.min(buf.length, p + n));
      p += n;
      palette = paletteNeeded(table) ? table : null;
    }
    if (p >= buf.length) throw new GifError('truncated image data');
    const codeBits = buf[p];
    if (codeBits > 12) throw new GifError(`invalid LZW code size ${codeBits}`);
    if (width === 0 || height === 0) throw new GifError(`invalid size ${width}x${height}`);
    return { width, height, left, top, frameWidth, frameHeight, interlaced: (frameFlags & 0x40) !== 0, palette, transparency, codeBits, dataOffset: p + 1 };
  }
  throw new GifError('no image in the file');
}

const TABLE = 4096;

/**
 * Frame 0's LZW data → palette indices of the frame, row by row in display order, as
 * `GifDecode.c` decodes it (deferred clear: the table stops growing at 4096 entries).
 * Throws `GifError` for a broken code stream or data that ends before the frame is full.
 */
export function decodeGifIndices(buf: Uint8Array, f: GifFrame0): Uint8Array {
  const w = f.frameWidth;
  const h = f.frameHeight;
  const out = new Uint8Array(w * h);
  if (w === 0 || h === 0) return out;
  const clear = 1 << f.codeBits;
  const end = clear + 1;
  const prefix = new Uint16Array(TABLE);
  const suffix = new Uint8Array(TABLE);
  const stack = new Uint8Array(TABLE + 1);

  // Rows in display order: interlaced GIFs store rows 0,8,16…, 4,12…, 2,6…, 1,3….
  const rowOrder: number[] = [];
  if (f.interlaced) {
    for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]]) for (let y = start; y < h; y += step) rowOrder.push(y);
  }
  let row = 0;
  let x = 0;
  let rowBase = f.interlaced ? rowOrder[0] * w : 0;
  const emit = (v: number): boolean => {
    out[rowBase + x] = v;
    if (++x === w) {
      x = 0;
      row++;
      if (row === h) return true;
      rowBase = (f.interlaced ? rowOrder[row] : row) * w;
    }
    return false;
  };

  let p = f.dataOffset;
  let block = 0;
  let bits = 0;
  let acc = 0;
  let codeSize = f.codeBits + 1;
  let next = clear + 2;
  let first = true;
  let last = 0;
  let lastFirstByte = 0;
  for (;;) {
    while (bits < codeSize) {
      if (block === 0) {
        if (p >= buf.length || buf[p] === 0) throw new GifError('truncated image data');
        block = buf[p++];
        if (p + block > buf.length) throw new GifError('truncated image data');
      }
      acc |= buf[p++] << bits;
      bits += 8;
      block--;
    }
    const code = acc & ((1 << codeSize) - 1);
    acc >>>= codeSize;
    bits -= codeSize;
    if (code === clear) {
      codeSize = f.codeBits + 1;
      next = clear + 2;
      first = true;
      continue;
    }
    if (code === end) throw new GifError('image data ends before the frame is complete');
    if (first) {
      if (code > clear) throw new GifError('broken LZW data');
      first = false;
      last = code;
      lastFirstByte = code;
      if (emit(code)) return out;
      continue;
    }
    if (code > next) throw new GifError('broken LZW data');
    let sp = 0;
    let c = code;
    if (code === next) {
      stack[sp++] = lastFirstByte;
      c = last;
    }
    while (c >= clear) {
      if (c >= TABLE || sp >= TABLE) throw new GifError('broken LZW data');
      stack[sp++] = suffix[c];
      c = prefix[c];
    }
    stack[sp++] = c;
    lastFirstByte = c;
    if (next < TABLE) {
      prefix[next] = last;
      suffix[next] = c;
      if (next === (1 << codeSize) - 1 && codeSize < 12) codeSize++;
      next++;
    }
    last = code;
    while (sp > 0) if (emit(stack[--sp])) return out;
  }
}

/** Decode a GIF's first frame to Pillow's mode (`P` expanded to RGB, or `L`). Throws `GifError`. */
export function decodeGif(buf: Uint8Array): RawImage {
  const f = readGifHeader(buf);
  const indices = decodeGifIndices(buf, f);
  const { width, height } = f;
  const canvas = new Uint8Array(width * height).fill(f.transparency ?? 0);
  for (let y = 0; y < f.frameHeight; y++) canvas.set(indices.subarray(y * f.frameWidth, (y + 1) * f.frameWidth), (f.top + y) * width + f.left);
  if (!f.palette) return { width, height, channels: 1, mode: 'L', data: canvas };
  const colours = Math.floor(f.palette.length / 3);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < canvas.length; i++) {
    const v = canvas[i];
    if (v < colours) {
      data[i * 3] = f.palette[v * 3];
      data[i * 3 + 1] = f.palette[v * 3 + 1];
      data[i * 3 + 2] = f.palette[v * 3 + 2];
    } else {
      data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = v; // Pillow's default palette: the grey ramp
    }
  }
  return { width, height, channels: 3, mode: 'P', data };
}

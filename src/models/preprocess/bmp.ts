/**
 * Windows BMP decoder giving the mode and samples Pillow 9.4's `BmpImagePlugin` gives:
 * - 1/4/8-bit palette (BI_RGB, RLE8, RLE4) → `P`, except a palette that is exactly the grey ramp
 *   (index i = grey i, or black/white for 2 colours), which Pillow opens as `L` (`1`);
 * - 16-bit (5-5-5 or BI_BITFIELDS 5-6-5) and 24-bit → `RGB`;
 * - 32-bit BI_RGB → `RGB` (the 4th byte is ignored), BI_BITFIELDS with an alpha mask → `RGBA`.
 * Bottom-up (positive height) and top-down (negative height) row orders; rows padded to 4 bytes.
 *
 * Where Pillow 9.4 itself misreads a file, we refuse it with `BmpError` naming the quirk rather
 * than reproduce a garbled picture or silently give a different one (README, Exactness):
 * RLE delta escapes (offsets read from the wrong position, fixed in Pillow 12.2, #9443), RLE4
 * absolute runs of odd length (last pixel dropped; fixed later, #9710), grey-ramp palettes at bit depths whose
 * samples Pillow then unpacks with the wrong width, and OS/2 files whose data offset Pillow moves
 * by 4-byte palette entries.
 */
import type { RawImage } from './image.js';

export class BmpError extends Error {
  /** What the user can do, when not the generic "corrupt or unsupported". */
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

/** A file Pillow 9.4 decodes wrongly: refused, with what and why. */
function pillowQuirk(what: string): BmpError {
  return new BmpError(`unsupported variant: ${what}, which Pillow 9.4 (the reference) decodes wrongly`, 'convert the image to PNG; clip-bench refuses it rather than guess which pixels the reference means');
}

export function isBmp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x42 /* B */ && buf[1] === 0x4d; /* M */
}

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;

export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bits: number;
  compression: number;
  dataOffset: number;
  /** BGR(X) colour table entries as [r, g, b] triples, for bits ≤ 8. */
  palette: Uint8Array;
  paletteSize: number;
  /** r, g, b, a masks for BI_BITFIELDS. */
  masks: [number, number, number, number];
}

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function i32(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}
function u32(b: Uint8Array, o: number): number {
  return i32(b, o) >>> 0;
}

export function readBmpHeader(buf: Uint8Array): BmpHeader {
  if (!isBmp(buf)) throw new BmpError('not a BMP file');
  if (buf.length < 26) throw new BmpError('truncated header');
  const dataOffset = u32(buf, 10);
  const dib = u32(buf, 14);
  let width: number;
  let rawHeight: number;
  let bits: number;
  let compression = BI_RGB;
  let colors = 0;
  let masks: [number, number, number, number] = [0, 0, 0, 0];
  let entry = 4;
  if (dib === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit sizes, 3-byte palette entries
    width = u16(buf, 18);
    rawHeight = (u16(buf, 20) << 16) >> 16;
    bits = u16(buf, 24);
    entry = 3;
  } else if (dib >= 40) {
    if (buf.length < 14 + 40) throw new BmpError('truncated header');
    width = i32(buf, 18);
    rawHeight = i32(buf, 22);
    bits = u16(buf, 28);
    compression = u32(buf, 30);
    colors = u32(buf, 46);
    if (compression === BI_BITFIELDS) {
      // Masks follow a 40-byte header (no alpha mask, as Pillow reads it), or sit inside a V3+ header.
      const at = 14 + 40;
      if (buf.length < at + 12) throw new BmpError('truncated bitfield masks');
      const hasAlpha = dib >= 56;
      masks = [u32(buf, at), u32(buf, at + 4), u32(buf, at + 8), hasAlpha && buf.length >= at + 16 ? u32(buf, at + 12) : 0];
    }
  } else {
    throw new BmpError(`unsupported BMP header size ${dib}`);
  }
  if (width <= 0 || rawHeight === 0) throw new BmpError(`invalid size ${width}x${rawHeight}`);
  // Pillow reads as many colour-table entries as the header's count says (2^bits when 0).
  const paletteSize = bits <= 8 ? (colors > 0 ? colors : 1 << bits) : 0;
  if (paletteSize > 256) throw new BmpError(`colour table of ${paletteSize} entries (at most 256)`);
  let dataStart = dataOffset;
  if (bits <= 8 && dataOffset === 14 + dib) {
    // The offset points at the colour table: Pillow skips 4 bytes per entry from there.
    if (entry !== 4) throw pillowQuirk('OS/2 BMP whose pixel-data offset points at its colour table');
    dataStart += 4 * paletteSize;
  }
  const palette = new Uint8Array(paletteSize * 3);
  if (paletteSize > 0) {
    let p = 14 + dib + (compression === BI_BITFIELDS && dib === 40 ? 12 : 0);
    if (buf.length < p + paletteSize * entry) throw new BmpError('truncated colour table');
    for (let i = 0; i < paletteSize; i++, p += entry) {
      palette[i * 3] = buf[p + 2];
      palette[i * 3 + 1] = buf[p + 1];
      palette[i * 3 + 2] = buf[p];
    }
  }
  return { width, height: Math.abs(rawHeight), topDown: rawHeight < 0, bits, compression, dataOffset: dataStart, palette, paletteSize, masks };
}

/** Pillow drops a palette that is the identity grey ramp and opens the image as `L` (or `1`). */
function greyMode(h: BmpHeader): 'L' | '1' | null {
  const grey = h.paletteSize === 2 ? [0, 255] : Array.from({ length: h.paletteSize }, (_, i) => i);
  for (let i = 0; i < h.paletteSize; i++) {
    const v = grey[i];
    if (h.palette[i * 3] !== v || h.palette[i * 3 + 1] !== v || h.palette[i * 3 + 2] !== v) return null;
  }
  return h.paletteSize === 2 ? '1' : 'L';
}

/** Decode a BMP to Pillow's mode. Throws `BmpError` when malformed, truncated or unsupported. */
export function decodeBmp(buf: Uint8Array): RawImage {
  const h = readBmpHeader(buf);
  if (h.bits <= 8) return decodeIndexed(buf, h);
  if (h.compression !== BI_RGB && h.compression !== BI_BITFIELDS) {
    throw new BmpError(`unsupported compression ${h.compression} for ${h.bits}-bit BMP`);
  }
  const { width, height } = h;
  const stride = ((h.bits * width + 31) >>> 5) * 4;
  checkRawLength(buf, h, stride);
  const layout = pixelLayout(h);
  const ch = layout.alpha ? 4 : 3;
  const out = new Uint8Array(width * height * ch);
  for (let y = 0; y < height; y++) {
    const row = h.dataOffset + (h.topDown ? y : height - 1 - y) * stride;
    let o = y * width * ch;
    for (let x = 0; x < width; x++, o += ch) layout.read(buf, row, x, out, o);
  }
  return { width, height, channels: ch, mode: ch === 4 ? 'RGBA' : 'RGB', data: out };
}

/** Pillow's raw decoder needs the last row's samples but not its padding to 4 bytes. */
function checkRawLength(buf: Uint8Array, h: BmpHeader, stride: number): void {
  const need = h.dataOffset + stride * (h.height - 1) + Math.ceil((h.width * h.bits) / 8);
  if (buf.length < need) throw new BmpError(`truncated pixel data (${buf.length} of ${need} bytes)`);
}

type Reader = (buf: Uint8Array, row: number, x: number, out: Uint8Array, o: number) => void;

/** Byte layouts Pillow supports (its `MASK_MODES` table plus the BI_RGB defaults). */
function pixelLayout(h: BmpHeader): { alpha: boolean; read: Reader } {
  const bgr: Reader = (b, row, x, out, o) => {
    const p = row + x * 3;
    out[o] = b[p + 2];
    out[o + 1] = b[p + 1];
    out[o + 2] = b[p];
  };
  // 16-bit: Pillow's BGR;15 / BGR;16 unpackers, v·255/max with integer division.
  const bgr15: Reader = (b, row, x, out, o) => {
    const v = u16(b, row + x * 2);
    out[o] = Math.trunc((((v >> 10) & 31) * 255) / 31);
    out[o + 1] = Math.trunc((((v >> 5) & 31) * 255) / 31);
    out[o + 2] = Math.trunc(((v & 31) * 255) / 31);
  };
  const bgr16: Reader = (b, row, x, out, o) => {
    const v = u16(b, row + x * 2);
    out[o] = Math.trunc((((v >> 11) & 31) * 255) / 31);
    out[o + 1] = Math.trunc((((v >> 5) & 63) * 255) / 63);
    out[o + 2] = Math.trunc(((v & 31) * 255) / 31);
  };
  /** 32-bit with r,g,b,(a) at the given byte positions within the little-endian word. */
  const bytes32 =
    (r: number, g: number, bl: number, a: number | null): Reader =>
    (b, row, x, out, o) => {
      const p = row + x * 4;
      out[o] = b[p + r];
      out[o + 1] = b[p + g];
      out[o + 2] = b[p + bl];
      if (a !== null) out[o + 3] = b[p + a];
    };

  if (h.compression === BI_RGB) {
    if (h.bits === 16) return { alpha: false, read: bgr15 };
    if (h.bits === 24) return { alpha: false, read: bgr };
    if (h.bits === 32) return { alpha: false, read: bytes32(2, 1, 0, null) };
    throw new BmpError(`unsupported bit depth ${h.bits}`);
  }
  const [r, g, b, a] = h.masks;
  const key = `${h.bits}:${r.toString(16)},${g.toString(16)},${b.toString(16)}` + (h.bits === 32 ? `,${a.toString(16)}` : '');
  const byMask: Record<string, { alpha: boolean; read: Reader }> = {
    '32:ff0000,ff00,ff,0': { alpha: false, read: bytes32(2, 1, 0, null) }, // BGRX
    '32:ff000000,ff0000,ff00,0': { alpha: false, read: bytes32(3, 2, 1, null) }, // XBGR
    '32:ff000000,ff0000,ff00,ff': { alpha: true, read: bytes32(3, 2, 1, 0) }, // ABGR
    '32:ff,ff00,ff0000,ff000000': { alpha: true, read: bytes32(0, 1, 2, 3) }, // RGBA
    '32:ff0000,ff00,ff,ff000000': { alpha: true, read: bytes32(2, 1, 0, 3) }, // BGRA
    '32:0,0,0,0': { alpha: true, read: bytes32(2, 1, 0, 3) }, // BGRA
    '24:ff0000,ff00,ff': { alpha: false, read: bgr },
    '16:f800,7e0,1f': { alpha: false, read: bgr16 },
    '16:7c00,3e0,1f': { alpha: false, read: bgr15 },
  };
  const layout = byMask[key];
  if (!layout) throw new BmpError(`unsupported BMP bitfields layout ${key}`);
  return layout;
}

/** 1/4/8-bit indices (raw or RLE) → `P` expanded to RGB, or `L`/`1` for a grey-ramp palette. */
function decodeIndexed(buf: Uint8Array, h: BmpHeader): RawImage {
  const { width, height, bits } = h;
  if (bits !== 1 && bits !== 4 && bits !== 8) throw new BmpError(`unsupported bit depth ${bits}`);
  const rle = (h.compression === BI_RLE8 && bits === 8) || (h.compression === BI_RLE4 && bits === 4);
  if (h.compression !== BI_RGB && !rle) throw new BmpError(`unsupported compression ${h.compression} for ${bits}-bit BMP`);
  const grey = greyMode(h);
  // Pillow then unpacks raw samples as `1` or `L` whatever the bit depth; its RLE path has no `1`.
  if (grey && (rle ? grey === '1' : !(grey === '1' ? bits === 1 : bits === 8))) {
    throw pillowQuirk(`${bits}-bit ${rle ? 'RLE ' : ''}BMP with a ${grey === '1' ? 'black/white' : 'grey-ramp'} colour table`);
  }
  const indices = rle ? decodeRle(buf, h) : unpackIndices(buf, h);
  if (grey) {
    // Grey ramp: the index is the grey level (for 2 colours, 1 → 255).
    const data = grey === '1' ? indices.map((v) => (v ? 255 : 0)) : indices;
    return { width, height, channels: 1, mode: grey, data };
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (v < h.paletteSize) {
      data[i * 3] = h.palette[v * 3];
      data[i * 3 + 1] = h.palette[v * 3 + 1];
      data[i * 3 + 2] = h.palette[v * 3 + 2];
    } else {
      // Past the colour table, Pillow's palette keeps its initial grey ramp (`ImagingPaletteNew`).
      data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = v;
    }
  }
  return { width, height, channels: 3, mode: 'P', data };
}

function unpackIndices(buf: Uint8Array, h: BmpHeader): Uint8Array {
  const { width, height, bits } = h;
  const stride = ((bits * width + 31) >>> 5) * 4;
  checkRawLength(buf, h, stride);
  const out = new Uint8Array(width * height);
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  for (let y = 0; y < height; y++) {
    const row = h.dataOffset + (h.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const byte = buf[row + Math.floor(x / perByte)];
      const shift = 8 - bits * ((x % perByte) + 1);
      out[y * width + x] = (byte >> shift) & mask;
    }
  }
  return out;
}

/**
 * BI_RLE8 / BI_RLE4 as Pillow 9.4's `BmpRleDecoder` reads them: pixels go into one stream of rows
 * (bottom row first unless top-down); an encoded run is cut at the row's end, an absolute run is
 * not (it spills into the next row), end-of-line pads the row with index 0, absolute runs are
 * padded to an even file offset, and data that ends before the last row is an error
 * (Pillow: "not enough image data").
 */
function decodeRle(buf: Uint8Array, h: BmpHeader): Uint8Array {
  const { width, height } = h;
  const four = h.compression === BI_RLE4;
  const total = width * height;
  const stream = new Uint8Array(total);
  let n = 0; // pixels in the stream so far
  let x = 0;
  const put = (v: number) => {
    if (n < total) stream[n] = v;
    n++;
  };
  let p = h.dataOffset;
  while (n < total && p + 1 < buf.length) {
    let count = buf[p];
    const value = buf[p + 1];
    p += 2;
    if (count > 0) {
      if (x + count > width) count = Math.max(0, width - x);
      for (let i = 0; i < count; i++) put(four ? (i % 2 === 0 ? value >> 4 : value & 15) : value);
      x += count;
    } else if (value === 0) {
      n = Math.ceil(n / width) * width; // end of line
      x = 0;
    } else if (value === 1) {
      break; // end of bitmap
    } else if (value === 2) {
      throw pillowQuirk('RLE BMP with a delta escape');
    } else {
      if (four && value % 2 === 1) throw pillowQuirk(`RLE4 BMP with an absolute run of odd length (${value})`);
      const bytes = four ? value / 2 : value;
      if (p + bytes > buf.length) throw new BmpError('truncated RLE data');
      for (let i = 0; i < bytes; i++) {
        if (four) {
          put(buf[p + i] >> 4);
          put(buf[p + i] & 15);
        } else put(buf[p + i]);
      }
      p += bytes;
      x += value;
      if (p % 2 === 1) p++;
    }
  }
  if (n < total) throw new BmpError(`RLE data ends after ${n} of ${total} pixels`);
  if (h.topDown) return stream;
  const out = new Uint8Array(total);
  for (let y = 0; y < height; y++) out.set(stream.subarray(y * width, (y + 1) * width), (height - 1 - y) * width);
  return out;
}

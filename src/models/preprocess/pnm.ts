/**
 * Netpbm decoder (PBM/PGM/PPM, binary P4/P5/P6 and ASCII P1/P2/P3), producing the mode and
 * samples Pillow 9.4's `PpmImagePlugin` gives: P1/P4 → `1`, P2/P5 → `L` (or `I` when
 * maxval > 255), P3/P6 → `RGB`. Values are rescaled as Pillow does when maxval is not the full
 * range: `round(v / maxval · 255)` (65535 for mode `I`), Python rounding (half to even).
 * GTSRB ships P6.
 */
import type { RawImage } from './image.js';
import { roundHalfEven } from './geometry.js';

/** Thrown for malformed files; `decode.ts` turns it into a `UsageError` naming the file. */
export class PnmError extends Error {}

export function isPnm(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x50 /* P */ && buf[1] >= 0x31 && buf[1] <= 0x36;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d;

/** Reads whitespace-separated ASCII tokens, skipping `#` comments to end of line. */
class TokenReader {
  pos: number;
  constructor(
    private readonly buf: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }

  /** Next decimal integer, or throws at end of data. */
  int(what: string): number {
    const b = this.buf;
    for (;;) {
      while (this.pos < b.length && isSpace(b[this.pos])) this.pos++;
      if (this.pos < b.length && b[this.pos] === 0x23 /* # */) {
        while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
        continue;
      }
      break;
    }
    const start = this.pos;
    let v = 0;
    while (this.pos < b.length && b[this.pos] >= 0x30 && b[this.pos] <= 0x39) {
      v = v * 10 + (b[this.pos] - 0x30);
      this.pos++;
    }
    if (this.pos === start) throw new PnmError(this.pos >= b.length ? `truncated: missing ${what}` : `expected a number for ${what}`);
    return v;
  }

  /** P1 allows packed digits without separators: one 0/1 at a time. */
  bit(): number {
    const b = this.buf;
    for (;;) {
      while (this.pos < b.length && isSpace(b[this.pos])) this.pos++;
      if (this.pos < b.length && b[this.pos] === 0x23) {
        while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
        continue;
      }
      break;
    }
    if (this.pos >= b.length) throw new PnmError('truncated pixel data');
    const c = b[this.pos++];
    if (c !== 0x30 && c !== 0x31) throw new PnmError('expected 0 or 1 in P1 data');
    return c - 0x30;
  }
}

/** Header fields before the pixel data. */
export interface PnmHeader {
  kind: 1 | 2 | 3 | 4 | 5 | 6;
  width: number;
  height: number;
  maxval: number;
  /** Offset of the first pixel byte (binary) or token (ASCII). */
  dataOffset: number;
}

export function readPnmHeader(buf: Uint8Array): PnmHeader {
  if (!isPnm(buf)) throw new PnmError('not a PBM/PGM/PPM file');
  const kind = (buf[1] - 0x30) as PnmHeader['kind'];
  const r = new TokenReader(buf, 2);
  const width = r.int('width');
  const height = r.int('height');
  const maxval = kind === 1 || kind === 4 ? 1 : r.int('maxval');
  if (width < 1 || height < 1) throw new PnmError(`invalid size ${width}x${height}`);
  if (maxval < 1 || maxval > 65535) throw new PnmError(`maxval ${maxval} outside 1..65535`);
  // Binary formats: exactly one whitespace byte separates the header from the data.
  let dataOffset = r.pos;
  if (kind >= 4) {
    if (dataOffset >= buf.length || !isSpace(buf[dataOffset])) throw new PnmError('missing whitespace after header');
    dataOffset += 1;
  }
  return { kind, width, height, maxval, dataOffset };
}

/** Decode a Netpbm file to Pillow's mode. Throws `PnmError` when malformed or truncated. */
export function decodePnm(buf: Uint8Array): RawImage {
  const h = readPnmHeader(buf);
  const { kind, width, height, maxval } = h;
  const n = width * height;
  if (kind === 1 || kind === 4) return decodeBitmap(buf, h);

  const channels = kind === 2 || kind === 5 ? 1 : 3;
  const toInt = channels === 1 && maxval > 255; // Pillow opens deep greyscale as mode I
  const outMax = toInt ? 65535 : 255;
  const count = n * channels;
  const data = toInt ? new Int32Array(count) : new Uint8Array(count);
  const scale = (v: number) => (maxval === outMax ? v : Math.min(outMax, roundHalfEven((v / maxval) * outMax)));

  if (kind === 2 || kind === 3) {
    const r = new TokenReader(buf, h.dataOffset);
    for (let i = 0; i < count; i++) {
      const v = r.int('pixel value');
      if (v > maxval) throw new PnmError(`pixel value ${v} exceeds maxval ${maxval}`);
      data[i] = scale(v);
    }
  } else {
    const bytesPer = maxval > 255 ? 2 : 1;
    const need = h.dataOffset + count * bytesPer;
    if (buf.length < need) throw new PnmError(`truncated pixel data: ${buf.length - h.dataOffset} of ${count * bytesPer} bytes`);
    let p = h.dataOffset;
    for (let i = 0; i < count; i++, p += bytesPer) {
      const v = bytesPer === 1 ? buf[p] : (buf[p] << 8) | buf[p + 1]; // big-endian
      data[i] = scale(v);
    }
  }
  return { width, height, channels, mode: toInt ? 'I' : channels === 1 ? 'L' : 'RGB', data };
}

/** P1/P4: 1 = black. Mode `1` stored as 0/255. P4 rows are packed MSB first, padded to bytes. */
function decodeBitmap(buf: Uint8Array, h: PnmHeader): RawImage {
  const { width, height } = h;
  const data = new Uint8Array(width * height);
  if (h.kind === 1) {
    const r = new TokenReader(buf, h.dataOffset);
    for (let i = 0; i < data.length; i++) data[i] = r.bit() ? 0 : 255;
  } else {
    const stride = (width + 7) >> 3;
    if (buf.length < h.dataOffset + stride * height) throw new PnmError('truncated pixel data');
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = (buf[h.dataOffset + y * stride + (x >> 3)] >> (7 - (x & 7))) & 1;
        data[y * width + x] = bit ? 0 : 255;
      }
    }
  }
  return { width, height, channels: 1, mode: '1', data };
}

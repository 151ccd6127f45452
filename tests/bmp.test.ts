import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { reference } from './support/reference.js';
import { decodeImage, preprocessImage, type RawImage } from '../src/models/preprocess/index.js';

const casesRef = reference('corpus-cases/cases.json', 'BMP corpus parity against PIL 9.4');
const casesDir = path.dirname(casesRef.path);
const haveCases = casesRef.present;

function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

const bitIdentical = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function refusal(input: string | Uint8Array, name?: string): Promise<UsageError> {
  const err = await decodeImage(input, { name }).catch((e: unknown) => e);
  expect(err, String(name ?? input)).toBeInstanceOf(UsageError);
  return err as UsageError;
}

describe.skipIf(!haveCases)('BMP corpus cases (Pillow Tests/images) against PIL 9.4 + torchvision', () => {
  it('a palette index past the colour table, and a data offset pointing at the colour table: bit-identical', async () => {
    for (const name of ['bmp__b__pal8badindex.bmp', 'mmap_error.bmp']) {
      const file = path.join(casesDir, 'images', name);
      expect(bitIdentical(await preprocessImage(file), readF32(`${file}.f32`)), name).toBe(true);
    }
  });

  it('RLE files that Pillow 9.4 garbles are refused as an unsupported variant naming the quirk', async () => {
    const quirks: [string, RegExp][] = [
      ['bmp__b__badrle.bmp', /RLE BMP with a delta escape/],
      ['bmp__q__pal8rletrns.bmp', /RLE BMP with a delta escape/],
      ['bmp__g__pal4rle.bmp', /RLE4 BMP with an absolute run of odd length/],
      ['bmp__q__pal4rletrns.bmp', /RLE4 BMP with an absolute run of odd length/],
    ];
    for (const [name, why] of quirks) {
      const file = path.join(casesDir, 'images', name);
      const err = await refusal(file);
      expect(err.message, name).toMatch(why);
      expect(err.message, name).toMatch(/unsupported variant.*Pillow 9\.4/);
      expect(err.oneLine(), name).toContain(name);
      expect(err.fix, name).toMatch(/convert the image to PNG/);
      expect(err.message, name).not.toMatch(/corrupt/);
    }
  });
});

interface BmpSpec {
  width: number;
  height: number;
  bits: number;
  compression?: number;
  /** RGB triples. */
  palette: number[][];
  /** Pixel data as stored (rows bottom-up, or an RLE stream). */
  data: number[];
  /** Write the data offset as 14 + 40 (pointing at the colour table), as some writers do. */
  offsetAtPalette?: boolean;
}

function bmpOf(s: BmpSpec): Uint8Array {
  const table = s.palette.flatMap(([r, g, b]) => [b, g, r, 0]);
  const offset = 14 + 40 + table.length;
  const buf = Buffer.alloc(offset + s.data.length);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(s.offsetAtPalette ? 54 : offset, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(s.width, 18);
  buf.writeInt32LE(s.height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(s.bits, 28);
  buf.writeUInt32LE(s.compression ?? 0, 30);
  buf.writeUInt32LE(s.palette.length, 46);
  buf.set(table, 54);
  buf.set(s.data, offset);
  return buf;
}

const red = [255, 0, 0];
const green = [0, 255, 0];
const blue = [0, 0, 255];
const palette = [red, green, blue];
/** Palette colours of `indices`, rows top-down. */
const colours = (indices: number[]) => indices.flatMap((i) => palette[i] ?? [i, i, i]);
const pixels = (img: RawImage) => Array.from(img.data);

describe('BMP decoder: Pillow 9.4 where it is right, refusal where it is not', () => {
  it('an index past the colour table reads the grey ramp, as Pillow\'s palette starts out', async () => {
    // 3×1, 8-bit: row padded to 4 bytes.
    const img = await decodeImage(bmpOf({ width: 3, height: 1, bits: 8, palette, data: [2, 200, 0, 0] }), { name: 'i.bmp' });
    expect(img.mode).toBe('P');
    expect(pixels(img)).toEqual([...blue, 200, 200, 200, ...red]);
  });

  it('the last row needs its samples, not its padding; a data offset at the colour table skips 4 bytes per entry', async () => {
    // 3×2, 8-bit: stride 4, the top row (stored last) without its pad byte.
    const img = await decodeImage(bmpOf({ width: 3, height: 2, bits: 8, palette, data: [0, 1, 2, 0, 2, 1, 0] }), { name: 'p.bmp' });
    expect(pixels(img)).toEqual(colours([2, 1, 0, 0, 1, 2]));
    expect((await refusal(bmpOf({ width: 3, height: 2, bits: 8, palette, data: [0, 1, 2, 0, 2, 1] }), 'short.bmp')).message).toMatch(/truncated pixel data/);
    const atPalette = await decodeImage(bmpOf({ width: 3, height: 1, bits: 8, palette, data: [1, 2, 0, 0], offsetAtPalette: true }), { name: 'o.bmp' });
    expect(pixels(atPalette)).toEqual(colours([1, 2, 0]));
  });

  it('RLE8: encoded runs stop at the row end, absolute runs spill over, end-of-line pads with index 0', async () => {
    // 4×3. Run of 6 × index 1 → cut to the row's 4; end of line (nothing to pad); absolute run of
    // 5 (0 2 1 2 1) → its last pixel spills into the next row, then a pad byte to an even offset;
    // run of 2 × 2 at x = 5 → nothing fits; end of line → the row is padded with 0. Stream,
    // bottom row first: 1111 | 0212 | 1000.
    const data = [6, 1, 0, 0, 0, 5, 0, 2, 1, 2, 1, 0, 2, 2, 0, 0, 0, 1];
    const img = await decodeImage(bmpOf({ width: 4, height: 3, bits: 8, compression: 1, palette, data }), { name: 'r.bmp' });
    expect(pixels(img)).toEqual(colours([1, 0, 0, 0, 0, 2, 1, 2, 1, 1, 1, 1]));
  });

  it('RLE data that ends before the last row is an error (Pillow: "not enough image data")', async () => {
    const err = await refusal(bmpOf({ width: 4, height: 3, bits: 8, compression: 1, palette, data: [4, 1, 0, 0, 0, 1] }), 'end.bmp');
    expect(err.message).toMatch(/RLE data ends after 4 of 12 pixels/);
  });

  it('RLE4 with even absolute runs decodes; a delta escape and an odd RLE4 absolute run are refused', async () => {
    // 4×1 RLE4: absolute run of 4 nibbles 1,2,0,1, then EOB.
    const ok = await decodeImage(bmpOf({ width: 4, height: 1, bits: 4, compression: 2, palette, data: [0, 4, 0x12, 0x01, 0, 1] }), { name: 'e.bmp' });
    expect(pixels(ok)).toEqual(colours([1, 2, 0, 1]));
    const odd = await refusal(bmpOf({ width: 4, height: 1, bits: 4, compression: 2, palette, data: [0, 3, 0x12, 0x00, 1, 0, 0, 1] }), 'odd.bmp');
    expect(odd.message).toMatch(/unsupported variant: RLE4 BMP with an absolute run of odd length \(3\)/);
    const delta = await refusal(bmpOf({ width: 4, height: 2, bits: 8, compression: 1, palette, data: [0, 2, 1, 1, 2, 1, 0, 1] }), 'delta.bmp');
    expect(delta.message).toMatch(/unsupported variant: RLE BMP with a delta escape/);
  });

  it('grey-ramp colour tables at depths Pillow 9.4 unpacks with the wrong width are refused', async () => {
    const bw = [[0, 0, 0], [255, 255, 255]];
    const eightBitBw = await refusal(bmpOf({ width: 3, height: 1, bits: 8, palette: bw, data: [1, 0, 1, 0] }), 'bw8.bmp');
    expect(eightBitBw.message).toMatch(/8-bit BMP with a black\/white colour table/);
    const ramp = Array.from({ length: 16 }, (_, i) => [i, i, i]);
    const fourBitGrey = await refusal(bmpOf({ width: 2, height: 1, bits: 4, palette: ramp, data: [0x3c, 0, 0, 0] }), 'grey4.bmp');
    expect(fourBitGrey.message).toMatch(/4-bit BMP with a grey-ramp colour table/);
    // 8-bit grey ramp and 1-bit black/white are read right by Pillow, and by us.
    const grey8 = await decodeImage(bmpOf({ width: 2, height: 1, bits: 8, palette: ramp, data: [3, 12, 0, 0] }), { name: 'g8.bmp' });
    expect([grey8.mode, ...pixels(grey8)]).toEqual(['L', 3, 12]);
  });
});

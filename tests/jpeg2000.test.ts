import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { decodeImage } from '../src/models/preprocess/index.js';

/** An ISO/IEC 15444-1 box: 4-byte big-endian length, 4-character type, payload. */
function box(type: string, payload: number[]): number[] {
  const len = 8 + payload.length;
  return [len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255, ...Buffer.from(type, 'latin1'), ...payload];
}
const u32 = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const u16 = (v: number) => [v >>> 8, v & 255];

/** The head of a 1×1 8-bit grey JPEG 2000 codestream: SOC, then SIZ (one component). */
const codestream = [0xff, 0x4f, 0xff, 0x51, ...u16(41), ...u16(0), ...u32(1), ...u32(1), ...u32(0), ...u32(0), ...u32(1), ...u32(1), ...u32(0), ...u32(0), ...u16(1), 7, 1, 1, 0xff, 0xd9];

/** A .jp2 file: signature box, file type 'jp2 ', header (ihdr 1×1×1, greyscale colr), the codestream. */
const jp2 = Uint8Array.from([
  ...box('jP  ', [0x0d, 0x0a, 0x87, 0x0a]),
  ...box('ftyp', [...Buffer.from('jp2 '), ...u32(0), ...Buffer.from('jp2 ')]),
  ...box('jp2h', [...box('ihdr', [...u32(1), ...u32(1), ...u16(1), 7, 7, 0, 0]), ...box('colr', [1, 0, 0, ...u32(17)])]),
  ...box('jp2c', codestream),
]);

describe('JPEG 2000 (and JPEG XL): refused as an unsupported format, not as a corrupt file', () => {
  it.each([
    ['photo.jp2', jp2, 'JPEG 2000'],
    ['photo.j2k', Uint8Array.from(codestream), 'JPEG 2000'],
    ['photo.jxl', Uint8Array.from([0xff, 0x0a, 0xfa, 0x00, 0x10, 0x00]), 'JPEG XL'],
  ])('%s', async (name, bytes, format) => {
    const err = await decodeImage(bytes, { name }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    const e = err as UsageError;
    expect(e.message).toBe(`unsupported image format: ${format} (the image decoder here, sharp's libvips, has no ${format} support)`);
    expect(e.file).toBe(name);
    expect(e.fix).toMatch(/^convert it to PNG; readable formats are jpeg, png, webp, gif, tiff, heif, PPM\/PGM and BMP$/);
    expect(e.oneLine()).not.toMatch(/corrupt/);
  });
});

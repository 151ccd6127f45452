import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { mulberry32 } from '../src/fixtures/random.js';
import { reference } from './support/reference.js';
import { decodeImage, preprocessImage } from '../src/models/preprocess/index.js';

const casesRef = reference('corpus-cases/cases.json', 'GIF corpus parity against PIL 9.4');
const casesDir = path.dirname(casesRef.path);
const haveCases = casesRef.present;

interface CorpusCase {
  file: string;
  pil_mode: string;
}

function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** Index of the first element where two tensors differ bit for bit, or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

describe.skipIf(!haveCases)('GIF corpus cases (Pillow Tests/images) against PIL 9.4 + torchvision', () => {
  const cases: CorpusCase[] = haveCases ? JSON.parse(readFileSync(path.join(casesDir, 'cases.json'), 'utf8')).cases.filter((c: CorpusCase) => c.file.endsWith('.gif')) : [];

  it('transparent and disposal GIFs: the tensor is bit-identical to the reference, in the mode PIL reports', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
    const wrong: string[] = [];
    for (const c of cases) {
      const file = path.join(casesDir, c.file);
      const img = await decodeImage(file);
      if (img.mode !== c.pil_mode) wrong.push(`${c.file}: mode ${img.mode}, PIL ${c.pil_mode}`);
      const at = firstDifference(await preprocessImage(img), readF32(`${file}.f32`));
      if (at >= 0) wrong.push(`${c.file}: differs from element ${at}`);
    }
    expect(wrong).toEqual([]);
  });
});

/**
 * A minimal GIF encoder, independent of the decoder under test: LZW with literal codes only,
 * sending a clear code before the table would make the code size grow.
 */
function lzwLiterals(indices: readonly number[], minBits: number): Uint8Array {
  const clear = 1 << minBits;
  const size = minBits + 1;
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  const put = (code: number) => {
    acc |= code << bits;
    bits += size;
    while (bits >= 8) {
      bytes.push(acc & 255);
      acc >>>= 8;
      bits -= 8;
    }
  };
  // After a clear, the first literal adds no entry and each later one adds one; the size grows
  // when the next free entry reaches 2^size − 1, so clear again before that.
  const perClear = (1 << size) - 1 - (clear + 2) + 1;
  put(clear);
  indices.forEach((v, i) => {
    if (i > 0 && i % perClear === 0) put(clear);
    put(v);
  });
  put(clear + 1);
  if (bits > 0) bytes.push(acc & 255);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 255) {
    const chunk = bytes.slice(i, i + 255);
    out.push(chunk.length, ...chunk);
  }
  out.push(0);
  return Uint8Array.from([minBits, ...out]);
}

interface GifSpec {
  screen: [number, number];
  frame: { left: number; top: number; width: number; height: number; indices: number[] };
  palette: number[][];
  transparency?: number;
}

function gifOf(s: GifSpec): Uint8Array {
  const bits = Math.max(1, Math.ceil(Math.log2(s.palette.length)));
  const table = Array.from({ length: 1 << bits }, (_, i) => s.palette[i] ?? [0, 0, 0]).flat();
  const le = (v: number) => [v & 255, v >> 8];
  const gce = s.transparency === undefined ? [] : [0x21, 0xf9, 4, 1, 0, 0, s.transparency, 0];
  const f = s.frame;
  return Uint8Array.from([
    ...Buffer.from('GIF89a'),
    ...le(s.screen[0]),
    ...le(s.screen[1]),
    0x80 | (bits - 1),
    0,
    0,
    ...table,
    ...gce,
    0x2c,
    ...le(f.left),
    ...le(f.top),
    ...le(f.width),
    ...le(f.height),
    0,
    ...lzwLiterals(f.indices, Math.max(2, bits)),
    0x3b,
  ]);
}

describe('GIF decoder: frame 0 as Pillow 9.4 opens it', () => {
  const white = [255, 255, 255];
  const red = [255, 0, 0];
  const blue = [0, 0, 255];
  const green = [0, 255, 0];
  const pixels = (img: { data: ArrayLike<number> }) => Array.from(img.data);

  it('a transparent pixel keeps its palette colour, and the canvas outside the frame is the transparency index', async () => {
    // 4×2 screen, 2×2 frame at x = 1; index 1 (white) is transparent.
    const gif = gifOf({ screen: [4, 2], palette: [red, white, blue, green], transparency: 1, frame: { left: 1, top: 0, width: 2, height: 2, indices: [1, 2, 3, 1] } });
    const img = await decodeImage(gif, { name: 't.gif' });
    expect([img.width, img.height, img.mode]).toEqual([4, 2, 'P']);
    expect(pixels(img)).toEqual([white, white, blue, white, white, green, white, white].flat());
  });

  it('without transparency the canvas outside the frame is index 0; a frame past the screen grows the canvas', async () => {
    const gif = gifOf({ screen: [2, 1], palette: [red, white, blue, green], frame: { left: 1, top: 0, width: 2, height: 2, indices: [2, 3, 3, 2] } });
    const img = await decodeImage(gif, { name: 'g.gif' });
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(pixels(img)).toEqual([red, blue, green, red, green, blue].flat());
  });

  it('an index past the palette reads the grey ramp (i, i, i); an identity grey palette opens as L', async () => {
    const short = gifOf({ screen: [2, 1], palette: [red, blue], frame: { left: 0, top: 0, width: 2, height: 1, indices: [1, 3] } });
    // A 2-colour table, but LZW codes use at least 2 bits, so index 3 is representable.
    const img = await decodeImage(short, { name: 's.gif' });
    expect(pixels(img)).toEqual([blue, [3, 3, 3]].flat());
    const ramp = Array.from({ length: 4 }, (_, i) => [i, i, i]);
    const grey = await decodeImage(gifOf({ screen: [3, 1], palette: ramp, frame: { left: 0, top: 0, width: 3, height: 1, indices: [0, 3, 2] } }), { name: 'l.gif' });
    expect([grey.mode, grey.channels, ...pixels(grey)]).toEqual(['L', 1, 0, 3, 2]);
  });

  it('LZW and interlacing agree with libvips on GIFs sharp encodes (no transparency, one frame)', async () => {
    const rand = mulberry32(14);
    for (const [w, h, progressive] of [[37, 29, false], [64, 41, true], [5, 3, true]] as const) {
      // Few colours so the palette is exact; structured noise so LZW builds long strings.
      const rgb = new Uint8Array(w * h * 3);
      for (let i = 0; i < w * h; i++) {
        const c = rand() < 0.7 ? (i >> 3) % 5 : Math.floor(rand() * 5);
        rgb.set([c * 60, 255 - c * 50, (c * 97) % 256], i * 3);
      }
      const gif = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).gif({ progressive, dither: 0 }).toBuffer();
      const ours = await decodeImage(gif, { name: 'x.gif' });
      const { data } = await sharp(gif).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([ours.width, ours.height, ours.mode]).toEqual([w, h, 'P']);
      expect(Buffer.from(ours.data as Uint8Array).equals(data), `${w}x${h} progressive=${progressive}`).toBe(true);
    }
  });

  it('truncated or broken GIFs are a one-line UsageError naming the file', async () => {
    const gif = gifOf({ screen: [4, 2], palette: [red, white, blue, green], frame: { left: 0, top: 0, width: 4, height: 2, indices: [0, 1, 2, 3, 0, 1, 2, 3] } });
    for (const [name, bytes, why] of [
      ['cut.gif', gif.subarray(0, gif.length - 6), /truncated|ends before/],
      ['header.gif', gif.subarray(0, 10), /truncated header/],
      ['noframe.gif', Uint8Array.from([...gif.subarray(0, 13 + 12), 0x3b]), /no image/],
    ] as const) {
      const err = await decodeImage(bytes, { name }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(UsageError);
      expect((err as UsageError).oneLine(), name).toMatch(why);
      expect((err as UsageError).file).toBe(name);
    }
  });
});

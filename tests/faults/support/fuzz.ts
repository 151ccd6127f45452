/**
 * Seeded generators for the fuzz suite: random and mutated image bytes, hostile Unicode, random JSON.
 * Everything draws from one `mulberry32` stream, so a failing case is reproduced by its seed and index.
 */
import sharp from 'sharp';
import { mulberry32 } from '../../../src/fixtures/random.js';

export type Rand = () => number;

export function rng(seed: number) {
  const rand: Rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => rand() < p;
  return { rand, int, pick, chance };
}
export type Rng = ReturnType<typeof rng>;

// ---------------------------------------------------------------- images

/** Small valid images in every format the decoder takes, the seeds of the mutations. */
export async function imageSeeds(): Promise<Record<string, Buffer>> {
  const { int } = rng(11);
  const w = 24;
  const h = 16;
  const rgb = Buffer.from(Array.from({ length: w * h * 3 }, () => int(256)));
  const img = () => sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
  return {
    jpeg: await img().jpeg({ quality: 80 }).toBuffer(),
    'jpeg-progressive': await img().jpeg({ progressive: true }).toBuffer(),
    'jpeg-grey': await img().greyscale().jpeg().toBuffer(),
    png: await img().png().toBuffer(),
    'png-palette': await img().png({ palette: true, colours: 16 }).toBuffer(),
    'png-rgba': await img().ensureAlpha().png().toBuffer(),
    webp: await img().webp({ lossless: true }).toBuffer(),
    gif: await img().gif().toBuffer(),
    tiff: await img().tiff().toBuffer(),
    bmp24: bmp24(w, h, rgb),
    'bmp8-rle': bmp8Rle(w, h),
    p6: Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), rgb]),
    'p5-16bit': Buffer.concat([Buffer.from(`P5 ${w} ${h} 65535\n`), Buffer.from(Array.from({ length: w * h * 2 }, (_, i) => (i * 37) & 255))]),
    p3: Buffer.from(`P3\n# a comment\n4 2\n255\n${Array.from({ length: 24 }, (_, i) => (i * 11) % 256).join(' ')}\n`),
    p4: Buffer.concat([Buffer.from('P4\n12 3\n'), Buffer.from([0xf0, 0x0f, 0xaa, 0x55, 0xff, 0x00])]),
  };
}

function bmpFile(dibAndData: Buffer, dataOffsetInDib: number): Buffer {
  const file = Buffer.alloc(14);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(14 + dibAndData.length, 2);
  file.writeUInt32LE(14 + dataOffsetInDib, 10);
  return Buffer.concat([file, dibAndData]);
}

function bmp24(w: number, h: number, rgb: Buffer): Buffer {
  const stride = (w * 3 + 3) & ~3;
  const dib = Buffer.alloc(40);
  dib.writeUInt32LE(40, 0);
  dib.writeInt32LE(w, 4);
  dib.writeInt32LE(h, 8);
  dib.writeUInt16LE(1, 12);
  dib.writeUInt16LE(24, 14);
  const data = Buffer.alloc(stride * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((h - 1 - y) * w + x) * 3;
      data[y * stride + x * 3] = rgb[s + 2];
      data[y * stride + x * 3 + 1] = rgb[s + 1];
      data[y * stride + x * 3 + 2] = rgb[s];
    }
  }
  return bmpFile(Buffer.concat([dib, data]), 40);
}

function bmp8Rle(w: number, h: number): Buffer {
  const dib = Buffer.alloc(40);
  dib.writeUInt32LE(40, 0);
  dib.writeInt32LE(w, 4);
  dib.writeInt32LE(h, 8);
  dib.writeUInt16LE(1, 12);
  dib.writeUInt16LE(8, 14);
  dib.writeUInt32LE(1, 16); // BI_RLE8
  dib.writeUInt32LE(4, 32); // 4 colours
  const palette = Buffer.from([0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 40, 80, 120, 0]);
  const runs: number[] = [];
  for (let y = 0; y < h; y++) runs.push(w >> 1, y % 4, w - (w >> 1), (y + 1) % 4, 0, 0);
  runs.push(0, 1);
  return bmpFile(Buffer.concat([dib, palette, Buffer.from(runs)]), 40 + palette.length);
}

const MAGICS: readonly number[][] = [
  [0xff, 0xd8, 0xff, 0xe0],
  [0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08],
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52],
  [0x42, 0x4d],
  [0x50, 0x31, 0x0a],
  [0x50, 0x33, 0x0a],
  [0x50, 0x35, 0x0a],
  [0x50, 0x36, 0x0a],
  [0x47, 0x49, 0x46, 0x38, 0x39, 0x61],
  [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50],
  [0x49, 0x49, 0x2a, 0x00],
  [0x4d, 0x4d, 0x00, 0x2a],
  [...Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" ')],
  [...Buffer.from('<?xml version="1.0"?>')],
  [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20], // JPEG 2000
  [0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x63], // HEIF
];

/** Random bytes, often behind a format's magic number so the parser behind it gets to see them. */
export function randomImageBytes(r: Rng): { bytes: Buffer; how: string } {
  const n = r.pick([0, 1, 2, 3, 8, 33, 100, 1000, 4096, r.int(5000)]);
  const body = Buffer.from(Array.from({ length: n }, () => r.int(256)));
  if (r.chance(0.6)) {
    const m = r.pick(MAGICS);
    return { bytes: Buffer.concat([Buffer.from(m), body]), how: `magic ${Buffer.from(m).subarray(0, 4).toString('hex')} + ${n} random bytes` };
  }
  return { bytes: body, how: `${n} random bytes` };
}

const EXTREMES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

/** 1-3 random mutations of `seed`: byte flips, extreme values in the header, truncation, insertion, duplication. */
export function mutate(r: Rng, seed: Buffer): { bytes: Buffer; how: string } {
  let b = Buffer.from(seed);
  const how: string[] = [];
  const rounds = 1 + r.int(3);
  for (let k = 0; k < rounds; k++) {
    const op = r.int(7);
    if (b.length === 0) break;
    if (op === 0) {
      const flips = 1 + r.int(8);
      for (let i = 0; i < flips; i++) b[r.int(b.length)] ^= 1 << r.int(8);
      how.push(`flip ${flips} bits`);
    } else if (op === 1) {
      const at = r.int(Math.min(b.length, 64));
      b[at] = r.pick(EXTREMES);
      how.push(`header byte ${at} = ${b[at]}`);
    } else if (op === 2) {
      const at = r.int(Math.max(1, Math.min(b.length - 4, 48)));
      const v = r.pick([0, 1, 0xffff, 0x7fffffff, 0xffffffff, 0x8000, 65500, 20000]);
      if (at + 4 <= b.length) r.chance(0.5) ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at);
      how.push(`u32 at ${at} = ${v}`);
    } else if (op === 3) {
      const len = r.int(b.length);
      b = b.subarray(0, len);
      how.push(`truncate to ${len}`);
    } else if (op === 4) {
      const at = r.int(b.length);
      const ins = Buffer.from(Array.from({ length: 1 + r.int(32) }, () => r.int(256)));
      b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
      how.push(`insert ${ins.length} at ${at}`);
    } else if (op === 5) {
      const at = r.int(b.length);
      const len = 1 + r.int(Math.min(256, b.length - at));
      b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
      how.push(`duplicate ${len} at ${at}`);
    } else {
      const at = r.int(b.length);
      b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + r.int(16)))]);
      how.push(`delete at ${at}`);
    }
  }
  return { bytes: b, how: how.join(', ') };
}

// ---------------------------------------------------------------- text

/** A hostile string: lone surrogates, controls, emoji sequences, RTL, combining marks, entities, mojibake, specials. */
export function randomText(r: Rng): string {
  const cp = (lo: number, hi: number) => String.fromCodePoint(lo + r.int(hi - lo + 1));
  const pieces: (() => string)[] = [
    () => cp(0x20, 0x7e).repeat(1 + r.int(6)),
    () => r.pick(['a photo of a ', 'dog', ' ', '.', "don't", 'RED', 'the colour ', '  \t ']),
    () => cp(0x00, 0x1f),
    () => cp(0x7f, 0x9f),
    () => String.fromCharCode(0xd800 + r.int(0x400)), // lone high surrogate
    () => String.fromCharCode(0xdc00 + r.int(0x400)), // lone low surrogate
    () => cp(0x1f300, 0x1faff),
    () => r.pick(['👨‍👩‍👧‍👦', '🏳️‍🌈', '👍🏽', '🇺🇳', '❤️', '1️⃣']),
    () => cp(0x05d0, 0x05ea).repeat(1 + r.int(4)),
    () => cp(0x0600, 0x06ff).repeat(1 + r.int(4)),
    () => r.pick(['\u202e', '\u202d', '\u200f', '\u200e', '\u2066', '\u2069', '\u200b', '\u200d', '\ufeff', '\u00ad']),
    () => 'e' + cp(0x0300, 0x036f).repeat(1 + r.int(20)),
    () => cp(0x4e00, 0x9fff).repeat(1 + r.int(4)),
    () => cp(0xac00, 0xd7a3),
    () => r.pick(['&amp;', '&lt;b&gt;', '&#x1F600;', '&#99999999;', '&#0;', '&#xD800;', '&nbsp;', '&', '&#', '&unknown;', '&AMP;']),
    () => r.pick(['Ã©', 'â€™', 'Ã¢â‚¬â„¢', 'ðŸ˜€', 'Ã', 'â€', '\u00c3\u00a9t\u00c3\u00a9']),
    () => r.pick(['\r\n', '\n', '\u2028', '\u2029', '\u0085', '\u00a0', '\u3000', '\u000b', '\u000c']),
    () => r.pick(['<|startoftext|>', '<|endoftext|>', '<|endoftext', '<|', '|>', '</w>']),
    () => r.pick(['\ufffd', '\uffff', '\ufffe', '\u{10ffff}', '\u{e0001}', '\u0000']),
    () => cp(0x1d400, 0x1d7ff), // mathematical alphanumerics (NFKC folds them)
    () => cp(0xff01, 0xff5e), // full-width ASCII
    () => "'s're've'm'll'd".slice(r.int(10)),
  ];
  const long = r.chance(0.02);
  const target = long ? 10_000 + r.int(90_000) : r.int(r.chance(0.2) ? 400 : 40);
  const out: string[] = [];
  let length = 0;
  while (length < target) {
    const piece = r.pick(pieces)();
    out.push(piece);
    length += piece.length;
  }
  return out.join('').slice(0, long ? 100_000 : undefined);
}

// ---------------------------------------------------------------- JSON

export const JSON_KEYS = [
  'id', 'description', 'include', 'classes', 'classnames', 'templates',
  'variant', 'visual', 'textual', 'file', 'input', 'output', 'attentionMask', 'tokenizer', 'preprocess', 'contextLength',
  'size', 'image_size', 'mean', 'std', 'interpolation', 'resize_mode', 'fill_color',
  'resample', 'rescale_factor', 'do_resize', 'do_center_crop', 'do_convert_rgb', 'crop_size', 'shortest_edge', 'height', 'width', 'image_mean', 'image_std',
  'red', 'green', '__proto__', 'constructor', 'toString', '',
];

const STRINGS = [
  '', 'a', '{c}', 'a photo of a {c}.', '{c}{c}', '{C}', 'bicubic', 'bilinear', 'nearest', 'lanczos', 'shortest', 'longest', 'squash',
  'tokenizer.json', 'visual.onnx', 'fp16', 'single', 'colours', 'imagenet', '../', '.', '/', 'nope.json', 'x/y.txt', '\u0000', '😀', 'red', 'NaN',
];
const NUMBERS = [0, -0, 1, -1, 2, 3, 0.5, 1 / 255, 0.00392156862745098, 77, 224, 255, 256, 65535, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, 1e-320, 0.48145466];

/** A random JSON value of at most `depth` levels, keys drawn from the fields the parsers read. */
export function randomJson(r: Rng, depth = 0): unknown {
  const kind = r.int(depth >= 3 ? 5 : 8);
  if (kind === 0) return null;
  if (kind === 1) return r.chance(0.5);
  if (kind === 2) return r.pick(NUMBERS);
  if (kind === 3) return r.chance(0.8) ? r.pick(STRINGS) : randomText(r).slice(0, 40);
  if (kind === 4) return r.pick([[], {}, [0.5, 0.5, 0.5], [224, 224], [1], ['a {c}.'], { height: 224, width: 224 }, { shortest_edge: 224 }]);
  if (kind <= 6) return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = r.int(5); i > 0; i--) o[r.pick(JSON_KEYS)] = randomJson(r, depth + 1);
  return o;
}

/** `base` with 1-3 random edits: a field removed, replaced by a random value, added, or edited one level down. */
export function mutateJson(r: Rng, base: unknown, depth = 0): unknown {
  if (base === null || typeof base !== 'object' || depth > 2) return r.chance(0.5) ? randomJson(r, depth) : base;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(base) ? [...base] : { ...(base as Record<string, unknown>) };
  const keys = Object.keys(copy);
  for (let edits = 1 + r.int(3); edits > 0; edits--) {
    const op = r.int(4);
    const key = keys.length && r.chance(0.8) ? r.pick(keys) : Array.isArray(copy) ? String(r.int(4)) : r.pick(JSON_KEYS);
    const target = copy as Record<string, unknown>;
    if (op === 0) delete target[key];
    else if (op === 1) target[key] = randomJson(r, depth + 1);
    else if (op === 2) target[r.pick(JSON_KEYS)] = randomJson(r, depth + 1);
    else target[key] = mutateJson(r, target[key], depth + 1);
  }
  return copy;
}

/** JSON text of `value`, sometimes damaged: cut short, a character dropped, or a number replaced by ±1e309 (±Infinity once parsed). */
export function jsonText(r: Rng, value: unknown): string {
  let text = JSON.stringify(value) ?? 'null';
  const op = r.int(10);
  if (op === 0) text = text.slice(0, r.int(text.length));
  else if (op === 1 && text.length > 1) {
    const at = r.int(text.length);
    text = text.slice(0, at) + text.slice(at + 1);
  } else if (op === 2) text = text.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/, r.chance(0.5) ? '1e309' : '-1e309');
  else if (op === 3) text = '\ufeff' + text;
  return text;
}

/**
 * Fixture writers for the datasets shipped as arrays inside container files, each writing the official
 * distribution's own format, independently of the readers in src/datasets:
 *  - `writePickle`: Python pickles as the CIFAR python batches are (Python 2 cPickle, protocol 2, numpy 1.x
 *    arrays) or as Python 3 writes the same dict with `pickle.dump(d, f, 2)` (numpy 2.x). Byte layout and memo
 *    numbering follow CPython: the tests compare this writer's output with bytes printed by Python itself;
 *  - CIFAR binary records, MNIST idx files, STL-10 column-major planes, FER2013 CSV rows, PatchCamelyon HDF5
 *    (through h5wasm, as h5py would write it).
 * Images are given as interleaved HWC bytes (what PIL's `Image.fromarray` holds), so tests compare a
 * sample's `load()` with exactly what they wrote.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `clip-bench-${prefix}-`));
}

export function write(root: string, rel: string, content: string | Uint8Array): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

/** Deterministic bytes (a 32-bit LCG), different per seed: image contents tests can recompute. */
export function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** HWC → channel planes, each row-major (CIFAR) or column-major (STL-10). */
export function hwcToPlanes(hwc: Uint8Array, width: number, height: number, channels: number, columnMajor = false): Uint8Array {
  const out = new Uint8Array(hwc.length);
  const plane = width * height;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[c * plane + (columnMajor ? x * height + y : y * width + x)] = hwc[(y * width + x) * channels + c];
    }
  }
  return out;
}

// ------------------------------------------------------------------ pickle

/** A Python value to pickle: Uint8Array is bytes (Python 2: str); Map a dict (in order); string a unicode str. */
export type PyIn = null | boolean | number | string | Uint8Array | PyIn[] | { tuple: PyIn[] } | Map<PyIn, PyIn> | NpIn;
/** A numpy uint8 array in C order. */
export interface NpIn {
  ndarray: Uint8Array;
  shape: number[];
}

export const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/**
 * 'py2': Python 2.7 cPickle with protocol 2 and numpy 1.x — how the official CIFAR files were written. Its
 *   memo starts at 1, skips strings shorter than 2 bytes and (cPickle only memoizes objects with a reference
 *   count above 1) the temporaries numpy's C `__reduce__` builds: the reconstruct arguments, shape, dtype
 *   arguments and state, and the data string.
 * 'py3': Python 3 `pickle.dumps(obj, 2)` with numpy 2.x: memo from 0, every str, bytes, tuple, list, dict,
 *   global and reduce result memoized; bytes written as `_codecs.encode(latin1 text, 'latin1')`.
 */
export type PickleFlavour = 'py2' | 'py3';

export function writePickle(value: PyIn, flavour: PickleFlavour): Uint8Array {
  const out: Buffer[] = [];
  const memo = new Map<string, number>();
  let next = flavour === 'py2' ? 1 : 0;
  const bytes = (...b: number[]) => out.push(Buffer.from(b));
  const raw = (b: Uint8Array | string) => out.push(typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b));
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    out.push(b);
  };
  const put = () => {
    const i = next++;
    if (i < 256) bytes(0x71, i);
    else {
      bytes(0x72);
      u32(i);
    }
    return i;
  };
  const get = (i: number) => {
    if (i < 256) bytes(0x68, i);
    else {
      bytes(0x6a);
      u32(i);
    }
  };
  /** a value written once and fetched from the memo afterwards (globals, the interned 'latin1') */
  const shared = (id: string, emit: () => void) => {
    const hit = memo.get(id);
    if (hit !== undefined) return get(hit);
    emit();
    memo.set(id, put());
  };
  const global = (module: string, name: string) => shared(`global ${module}.${name}`, () => raw(`c${module}\n${name}\n`));

  const int = (n: number) => {
    if (n >= 0 && n < 256) bytes(0x4b, n);
    else if (n >= 0 && n < 65536) bytes(0x4d, n & 0xff, n >> 8);
    else if (n >= -(2 ** 31) && n < 2 ** 31) {
      bytes(0x4a);
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      out.push(b);
    } else if (flavour === 'py2') raw(`I${n}\n`);
    else {
      let v = BigInt(n);
      const le: number[] = [];
      while (v !== 0n && v !== -1n) {
        le.push(Number(v & 0xffn));
        v >>= 8n;
      }
      if (n > 0 && le[le.length - 1] & 0x80) le.push(0);
      if (n < 0 && !(le[le.length - 1] & 0x80)) le.push(0xff);
      bytes(0x8a, le.length, ...le);
    }
  };
  const unicode = (s: string, memoize: boolean) => {
    const utf8 = Buffer.from(s, 'utf8');
    if (s === 'latin1' && flavour === 'py3') return shared('latin1', () => (bytes(0x58), u32(utf8.length), out.push(utf8)));
    bytes(0x58);
    u32(utf8.length);
    out.push(utf8);
    if (memoize) put();
  };
  /** bytes / Python 2 str; `memoize` false for numpy's own temporaries */
  const byteString = (b: Uint8Array, memoize: boolean) => {
    if (flavour === 'py2') {
      if (b.length < 256) bytes(0x55, b.length);
      else {
        bytes(0x54);
        u32(b.length);
      }
      raw(b);
      if (memoize && b.length >= 2) put();
      return;
    }
    if (b.length === 0) {
      global('__builtin__', 'bytes');
      bytes(0x29, 0x52);
      put();
      return;
    }
    global('_codecs', 'encode');
    unicode(Buffer.from(b).toString('latin1'), true);
    unicode('latin1', true);
    bytes(0x86);
    put();
    bytes(0x52);
    put();
  };
  /** a tuple; `memoize` false for numpy's temporaries under py2 */
  const tuple = (items: readonly (() => void)[], memoize: boolean) => {
    if (items.length === 0) return bytes(0x29);
    if (items.length > 3) bytes(0x28);
    for (const emit of items) emit();
    bytes(items.length > 3 ? 0x74 : 0x84 + items.length);
    if (memoize || flavour === 'py3') put();
  };
  const ndarray = (a: NpIn) => {
    const temp = flavour === 'py3'; // py3 memoizes numpy's temporaries too
    global(flavour === 'py2' ? 'numpy.core.multiarray' : 'numpy._core.multiarray', '_reconstruct');
    tuple([() => global('numpy', 'ndarray'), () => tuple([() => int(0)], temp), () => byteString(ascii('b'), temp)], temp);
    bytes(0x52);
    put();
    const dtype = () => {
      global('numpy', 'dtype');
      tuple([() => byteStringOrText('u1'), () => (flavour === 'py2' ? int(0) : bytes(0x89)), () => (flavour === 'py2' ? int(1) : bytes(0x88))], temp);
      bytes(0x52);
      put();
      tuple([() => int(3), () => byteStringOrText('|'), () => bytes(0x4e), () => bytes(0x4e), () => bytes(0x4e), () => int(-1), () => int(-1), () => int(0)], temp);
      bytes(0x62);
    };
    tuple([() => int(1), () => tuple(a.shape.map((d) => () => int(d)), temp), dtype, () => bytes(0x89), () => byteString(a.ndarray, temp)], temp);
    bytes(0x62);
  };
  /** numpy passes Python 2 str / Python 3 str for dtype codes */
  const byteStringOrText = (s: string) => (flavour === 'py2' ? byteString(ascii(s), false) : unicode(s, true));

  const save = (v: PyIn): void => {
    if (v === null) bytes(0x4e);
    else if (v === true) bytes(0x88);
    else if (v === false) bytes(0x89);
    else if (typeof v === 'number') {
      if (Number.isInteger(v)) int(v);
      else {
        bytes(0x47);
        const b = Buffer.alloc(8);
        b.writeDoubleBE(v);
        out.push(b);
      }
    } else if (typeof v === 'string') unicode(v, true);
    else if (v instanceof Uint8Array) byteString(v, true);
    else if (Array.isArray(v)) {
      bytes(0x5d);
      put();
      batched(v.map((x) => () => save(x)), 0x61, 0x65);
    } else if (v instanceof Map) {
      bytes(0x7d);
      put();
      batched([...v].map(([k, x]) => () => (save(k), save(x))), 0x73, 0x75);
    } else if ('tuple' in v) tuple(v.tuple.map((x) => () => save(x)), true);
    else ndarray(v);
  };
  /** CPython's _batch_appends / _batch_setitems: batches of 1000, one item alone without MARK */
  const batched = (items: (() => void)[], one: number, many: number) => {
    for (let i = 0; i < items.length; i += 1000) {
      const batch = items.slice(i, i + 1000);
      if (batch.length > 1) bytes(0x28);
      for (const emit of batch) emit();
      bytes(batch.length > 1 ? many : one);
    }
  };

  bytes(0x80, 2);
  save(value);
  bytes(0x2e);
  return new Uint8Array(Buffer.concat(out));
}

// ------------------------------------------------------------------ CIFAR

export interface CifarImage {
  /** 32×32×3 HWC */
  hwc: Uint8Array;
  label: number;
  /** CIFAR-100 only */
  coarse?: number;
}

export function cifarImages(n: number, classes: number, seed: number): CifarImage[] {
  return Array.from({ length: n }, (_, i) => ({ hwc: noise(32 * 32 * 3, seed * 1000 + i), label: (i * 7 + seed) % classes, coarse: (i * 3 + 1) % 20 }));
}

const cifarRows = (images: readonly CifarImage[]) => {
  const data = new Uint8Array(images.length * 3072);
  images.forEach((im, i) => data.set(hwcToPlanes(im.hwc, 32, 32, 3), i * 3072));
  return data;
};

/** A python-version batch dict, keys in the order Python 2's dict gives for these keys. */
export function cifarPythonBatch(images: readonly CifarImage[], cifar100: boolean, flavour: PickleFlavour, batchLabel = 'testing batch 1 of 1'): Uint8Array {
  // keys are bytes in both flavours: Python 2 str, or the bytes Python 3 reads them as (encoding='bytes')
  const k = ascii;
  const data: NpIn = { ndarray: cifarRows(images), shape: [images.length, 3072] };
  const names = images.map((_, i) => ascii(`image_${i}.png`));
  const d = cifar100
    ? new Map<PyIn, PyIn>([
        [k('filenames'), names],
        [k('batch_label'), ascii(batchLabel)],
        [k('fine_labels'), images.map((im) => im.label)],
        [k('coarse_labels'), images.map((im) => im.coarse!)],
        [k('data'), data],
      ])
    : new Map<PyIn, PyIn>([
        [k('data'), data],
        [k('labels'), images.map((im) => im.label)],
        [k('batch_label'), ascii(batchLabel)],
        [k('filenames'), names],
      ]);
  return writePickle(d, flavour);
}

export function cifarPythonMeta(names: readonly string[], cifar100: boolean, flavour: PickleFlavour): Uint8Array {
  const list = names.map((n) => ascii(n.replace(/ /g, '_')));
  const d = cifar100
    ? new Map<PyIn, PyIn>([
        [ascii('fine_label_names'), list],
        [ascii('coarse_label_names'), Array.from({ length: 20 }, (_, i) => ascii(`superclass_${i}`))],
      ])
    : new Map<PyIn, PyIn>([
        [ascii('num_cases_per_batch'), 10000],
        [ascii('label_names'), list],
        [ascii('num_vis'), 3072],
      ]);
  return writePickle(d, flavour);
}

/** Binary records: CIFAR-10 `label, 3072 pixels`; CIFAR-100 `coarse, fine, 3072 pixels`. */
export function cifarBinaryBatch(images: readonly CifarImage[], cifar100: boolean): Uint8Array {
  const head = cifar100 ? 2 : 1;
  const rows = cifarRows(images);
  const out = new Uint8Array(images.length * (head + 3072));
  images.forEach((im, i) => {
    const at = i * (head + 3072);
    if (cifar100) {
      out[at] = im.coarse!;
      out[at + 1] = im.label;
    } else out[at] = im.label;
    out.set(rows.subarray(i * 3072, (i + 1) * 3072), at + head);
  });
  return out;
}

// ------------------------------------------------------------------ MNIST

/** An idx file of unsigned bytes: magic 0x000008<ndim>, big-endian uint32 dims, data. */
export function idxFile(dims: readonly number[], data: Uint8Array): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([head, Buffer.from(data)]));
}

export function gzip(b: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(b));
}

// ------------------------------------------------------------------ STL-10

/** `test_X.bin`: per image 3 planes of 96×96, each column-major (MATLAB order). */
export function stl10Images(hwcs: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hwcs.length * 27648);
  hwcs.forEach((hwc, i) => out.set(hwcToPlanes(hwc, 96, 96, 3, true), i * 27648));
  return out;
}

// ------------------------------------------------------------------ FER2013

export interface FerRow {
  emotion: number;
  pixels: Uint8Array;
  usage: 'Training' | 'PublicTest' | 'PrivateTest';
}

/** Kaggle's fer2013.csv (`emotion,pixels,Usage`, pixels quoted) or icml_face_data.csv (`emotion, Usage, pixels`). */
export function ferCsv(rows: readonly FerRow[], variant: 'fer2013' | 'icml' = 'fer2013'): string {
  const px = (r: FerRow) => Array.from(r.pixels).join(' ');
  if (variant === 'icml') return ['emotion, Usage, pixels', ...rows.map((r) => `${r.emotion},${r.usage},${px(r)}`)].join('\n') + '\n';
  return ['emotion,pixels,Usage', ...rows.map((r) => `${r.emotion},"${px(r)}",${r.usage}`)].join('\r\n') + '\r\n';
}

// ------------------------------------------------------------------ PatchCamelyon

/** `x.h5` with dataset `x` uint8 (N, 96, 96, 3) and `y.h5` with `y` uint8 (N, 1, 1, 1), as the official files. */
export async function writePcamH5(xFile: string, yFile: string, hwcs: readonly Uint8Array[], labels: readonly number[], opts: { chunked?: boolean } = {}): Promise<void> {
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  mkdirSync(path.dirname(xFile), { recursive: true });
  const x = new h5wasm.File(xFile, 'w');
  const data = new Uint8Array(hwcs.length * 27648);
  hwcs.forEach((h, i) => data.set(h, i * 27648));
  x.create_dataset({ name: 'x', data, shape: [hwcs.length, 96, 96, 3], dtype: '<B', ...(opts.chunked ? { chunks: [1, 96, 96, 3], compression: 'gzip' as const } : {}) });
  x.close();
  const y = new h5wasm.File(yFile, 'w');
  y.create_dataset({ name: 'y', data: Uint8Array.from(labels), shape: [labels.length, 1, 1, 1], dtype: '<B' });
  y.close();
}

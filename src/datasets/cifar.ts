/**
 * CIFAR-10 and CIFAR-100 (Krizhevsky 2009), read from either official encoding:
 *  - the python version: `cifar-10-batches-py/test_batch` (+ `batches.meta`), `cifar-100-python/test`
 *    (+ `meta`): dicts pickled by Python 2's cPickle, `data` a numpy uint8 array (N, 3072) whose rows hold
 *    the R plane, then G, then B, each 32×32 row-major; `labels` (CIFAR-10) or `fine_labels` (CIFAR-100);
 *  - the binary version: `cifar-10-batches-bin/test_batch.bin` (records of 1 label byte + 3072 pixel
 *    bytes), `cifar-100-binary/test.bin` (coarse label byte, fine label byte, 3072 pixel bytes).
 * Both give the same samples, with the same keys (`test_batch#0`…), so runs on either compare one to one.
 * Images are what torchvision's CIFAR10/CIFAR100 hand to PIL: `Image.fromarray` of the (32, 32, 3) HWC array.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { extractFix, findInRoot, nonEmptyLines, planesToHwc, rawImage } from './container-files.js';
import type { DirListing } from './imagenet-fs.js';
import { integerValues, NdArray, parsePickle, PyDict, pyTypeName, stringValues } from './pickle.js';
import type { DatasetAdapter, Sample } from './types.js';

const SIDE = 32;
const PIXELS = 3 * SIDE * SIDE;

interface CifarSpec {
  id: 'cifar10' | 'cifar100';
  name: string;
  classes: number;
  python: { dir: string; files: Record<string, string[]>; meta: string; labelsKey: string; namesKey: string; archive: RegExp };
  /** `labelByte`: offset of the label used within each record; pixels follow the `labelBytes` label bytes */
  binary: { dir: string; files: Record<string, string[]>; meta: string; labelBytes: number; labelByte: number; archive: RegExp };
}

const trainBatches = (suffix: string) => [1, 2, 3, 4, 5].map((i) => `data_batch_${i}${suffix}`);

const CIFAR10: CifarSpec = {
  id: 'cifar10',
  name: 'CIFAR-10',
  classes: 10,
  python: { dir: 'cifar-10-batches-py', files: { test: ['test_batch'], train: trainBatches('') }, meta: 'batches.meta', labelsKey: 'labels', namesKey: 'label_names', archive: /^cifar-10-python\.tar\.gz$/ },
  binary: { dir: 'cifar-10-batches-bin', files: { test: ['test_batch.bin'], train: trainBatches('.bin') }, meta: 'batches.meta.txt', labelBytes: 1, labelByte: 0, archive: /^cifar-10-binary\.tar\.gz$/ },
};

const CIFAR100: CifarSpec = {
  id: 'cifar100',
  name: 'CIFAR-100',
  classes: 100,
  python: { dir: 'cifar-100-python', files: { test: ['test'], train: ['train'] }, meta: 'meta', labelsKey: 'fine_labels', namesKey: 'fine_label_names', archive: /^cifar-100-python\.tar\.gz$/ },
  binary: { dir: 'cifar-100-binary', files: { test: ['test.bin'], train: ['train.bin'] }, meta: 'fine_label_names.txt', labelBytes: 2, labelByte: 1, archive: /^cifar-100-binary\.tar\.gz$/ },
};

function layoutOf(s: CifarSpec): string {
  const py = s.python;
  const bin = s.binary;
  return (
    `ROOT/${py.dir}/{${py.files.test.join(',')},${py.meta}} (the python version; ROOT may be ${py.dir}/ itself) ` +
    `or ROOT/${bin.dir}/{${bin.files.test.join(',')},${bin.meta}} (the binary version); train: ${py.files.train.join(', ')} (or their .bin)`
  );
}

/** The split's files found under --root, in one encoding. */
interface Found {
  encoding: 'python' | 'binary';
  dir: string;
  /** file names of the split, in order */
  files: string[];
  /** the batch names used in keys: the python version's file names, for both encodings */
  keys: string[];
  meta?: string;
}

async function locate(s: CifarSpec, root: string, split: string): Promise<Found> {
  const pick = (l: DirListing): Found | undefined => {
    for (const encoding of ['python', 'binary'] as const) {
      const files = s[encoding].files[split];
      if (files.every((f) => l.files.includes(f))) {
        const meta = l.files.includes(s[encoding].meta) ? path.join(l.dir, s[encoding].meta) : undefined;
        return { encoding, dir: l.dir, files, keys: s.python.files[split], meta };
      }
    }
    return undefined;
  };
  return findInRoot(root, [s.python.dir, s.binary.dir], pick, {
    layout: layoutOf(s),
    fix: (top) => extractFix(top, new RegExp(`${s.python.archive.source}|${s.binary.archive.source}`), `point --root at the folder holding ${s.python.dir}/ or ${s.binary.dir}/`),
  });
}

/** One batch: its labels and each record's planar pixels (a view into the file's bytes). */
interface Batch {
  file: string;
  key: string;
  labels: number[];
  planes(i: number): Uint8Array;
}

const pickleFix = (s: CifarSpec) => `expected ${s.name}'s python-version batch (a pickled dict with data and ${s.python.labelsKey}); re-extract ${s.python.dir} from the official archive`;

/** A python-version batch: `data` uint8 (N, 3072) in C order and N labels in [0, classes). */
export function parsePythonBatch(s: CifarSpec, bytes: Uint8Array, file: string, key: string): Batch {
  const fix = pickleFix(s);
  const d = parsePickle(bytes, { file, fix });
  if (!(d instanceof PyDict)) throw new UsageError(`the pickle holds a ${pyTypeName(d)}, not a dict`, { file, fix });
  const data = d.get('data');
  if (!(data instanceof NdArray) || data.dtype?.descr !== 'u1' || data.shape.length !== 2 || data.shape[1] !== PIXELS || data.fortran) {
    throw new UsageError(`"data" is ${pyTypeName(data)}, expected a C-order uint8 array of shape (N, ${PIXELS})`, { file, fix });
  }
  const labels = integerValues(d.get(s.python.labelsKey));
  if (!labels) throw new UsageError(`"${s.python.labelsKey}" is ${pyTypeName(d.get(s.python.labelsKey))}, expected a list of ints (keys: ${d.keyNames().join(', ')})`, { file, fix });
  checkLabels(s, labels, data.shape[0], file, fix);
  const px = data.data;
  return { file, key, labels, planes: (i) => px.subarray(i * PIXELS, (i + 1) * PIXELS) };
}

/** A binary-version batch: fixed-size records, label byte(s) then 3072 pixel bytes. */
export function parseBinaryBatch(s: CifarSpec, bytes: Uint8Array, file: string, key: string): Batch {
  const { labelBytes, labelByte } = s.binary;
  const record = labelBytes + PIXELS;
  const fix = `expected ${s.name}'s binary version (records of ${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + ${PIXELS} pixel bytes); re-extract ${s.binary.dir} from the official archive`;
  if (bytes.length === 0 || bytes.length % record !== 0) throw new UsageError(`size ${bytes.length} bytes is not a whole number of ${record}-byte records`, { file, fix });
  const n = bytes.length / record;
  const labels = Array.from({ length: n }, (_, i) => bytes[i * record + labelByte]);
  checkLabels(s, labels, n, file, fix);
  return { file, key, labels, planes: (i) => bytes.subarray(i * record + labelBytes, (i + 1) * record) };
}

function checkLabels(s: CifarSpec, labels: readonly number[], n: number, file: string, fix: string): void {
  if (labels.length !== n) throw new UsageError(`${labels.length} labels for ${n} images`, { file, fix });
  const bad = labels.findIndex((l) => !(l >= 0 && l < s.classes));
  if (bad >= 0) throw new UsageError(`label ${labels[bad]} of image ${bad} is outside 0-${s.classes - 1}`, { file, fix });
}

/** The meta file, when present, must name exactly the dataset's classes (guards against mixing CIFAR-10 and -100). */
async function checkMeta(s: CifarSpec, f: Found): Promise<void> {
  if (!f.meta) return;
  const bytes = await readFile(f.meta);
  let names: string[] | undefined;
  if (f.encoding === 'binary') names = nonEmptyLines(new TextDecoder().decode(bytes));
  else {
    const d = parsePickle(bytes, { file: f.meta, fix: `expected ${s.name}'s ${s.python.meta} (a pickled dict with ${s.python.namesKey})` });
    names = d instanceof PyDict ? stringValues(d.get(s.python.namesKey)) : undefined;
  }
  if (names?.length !== s.classes) {
    throw new UsageError(`expected ${s.classes} class names${f.encoding === 'python' ? ` in "${s.python.namesKey}"` : ''}, found ${names ? names.length : 'none'}`, {
      file: f.meta,
      fix: `use the ${f.encoding === 'python' ? s.python.meta : s.binary.meta} of ${s.name}`,
    });
  }
}

async function* cifarSamples(s: CifarSpec, root: string, split: string): AsyncGenerator<Sample> {
  const f = await locate(s, root, split);
  await checkMeta(s, f);
  for (let b = 0; b < f.files.length; b++) {
    const file = path.join(f.dir, f.files[b]);
    const bytes = await readFile(file);
    const batch = f.encoding === 'python' ? parsePythonBatch(s, bytes, file, f.keys[b]) : parseBinaryBatch(s, bytes, file, f.keys[b]);
    for (let i = 0; i < batch.labels.length; i++) {
      yield {
        key: `${batch.key}#${i}`,
        path: file,
        label: batch.labels[i],
        load: async () => rawImage(planesToHwc(batch.planes(i), SIDE, SIDE, 3), SIDE, SIDE, 'RGB'),
      };
    }
  }
}

function cifarAdapter(s: CifarSpec) {
  return {
    id: s.id,
    description:
      `${s.name} test set (10,000 32×32 images, ${s.classes} classes${s.id === 'cifar100' ? ', fine labels' : ''}), from the official python (pickled) or binary batches; ` +
      `class ids are the label indices 0-${s.classes - 1}. Split train: the 50,000 training images.`,
    splits: ['test', 'train'],
    layout: layoutOf(s),
    expectedCount: { test: 10_000, train: 50_000 },
    defaultPrompts: s.id,
    metric: 'top1',
    async classIds(root: string, split: string) {
      await checkMeta(s, await locate(s, root, split));
      return Array.from({ length: s.classes }, (_, i) => String(i));
    },
    samples: (root: string, split: string) => cifarSamples(s, root, split),
  } as const satisfies DatasetAdapter;
}

export const cifar10 = cifarAdapter(CIFAR10);
export const cifar100 = cifarAdapter(CIFAR100);
export { CIFAR10, CIFAR100, type CifarSpec };

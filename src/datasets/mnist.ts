/**
 * MNIST (LeCun et al.) from its official idx files: `t10k-images-idx3-ubyte` (magic 0x00000803, then
 * count, rows, cols as big-endian uint32, then count·28·28 grey bytes, row-major) and
 * `t10k-labels-idx1-ubyte` (magic 0x00000801, count, then one byte per image), gzipped (`.gz`, as
 * distributed) or not (as torchvision leaves them in `MNIST/raw/`). Images are what torchvision's MNIST hands
 * to PIL: `Image.fromarray(img, mode='L')`.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { extractFix, findInRoot, rawImage, readMaybeGzip } from './container-files.js';
import type { DirListing } from './imagenet-fs.js';
import type { DatasetAdapter, Sample } from './types.js';

const STEMS: Record<string, { images: string; labels: string; key: string }> = {
  test: { images: 't10k-images', labels: 't10k-labels', key: 't10k' },
  train: { images: 'train-images', labels: 'train-labels', key: 'train' },
};

/** Spellings of one file: LeCun's `-idx3-ubyte`, Kaggle's `.idx3-ubyte`; each plain (preferred) or gzipped. */
function spellings(stem: string, dims: 1 | 3): string[] {
  const names = [`${stem}-idx${dims}-ubyte`, `${stem}.idx${dims}-ubyte`];
  return [...names, ...names.map((n) => `${n}.gz`)];
}

export const MNIST_LAYOUT =
  'ROOT/t10k-images-idx3-ubyte and ROOT/t10k-labels-idx1-ubyte, each plain or .gz (also as torchvision keeps them, ROOT/MNIST/raw/); train: train-images-idx3-ubyte, train-labels-idx1-ubyte';

const FIX = "use MNIST's official idx files (yann.lecun.com/exdb/mnist or torchvision's mirror), gzipped or gunzipped";

interface Idx {
  dims: number[];
  data: Uint8Array;
}

/** An idx file of unsigned bytes with `ndim` dimensions (the only type MNIST uses). */
export function parseIdx(bytes: Uint8Array, ndim: number, file: string): Idx {
  if (bytes.length < 4 + 4 * ndim || bytes[0] !== 0 || bytes[1] !== 0) throw new UsageError('not an idx file (no 0x0000 magic at the start)', { file, fix: FIX });
  if (bytes[2] !== 0x08 || bytes[3] !== ndim) {
    throw new UsageError(`idx magic 0x0000${bytes[2].toString(16).padStart(2, '0')}${bytes[3].toString(16).padStart(2, '0')}, expected 0x000008${ndim.toString(16).padStart(2, '0')} (unsigned bytes, ${ndim} dimension${ndim > 1 ? 's' : ''})`, { file, fix: FIX });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const start = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== start + size) throw new UsageError(`the header says ${dims.join('×')} bytes of data, the file holds ${bytes.length - start}`, { file, fix: FIX });
  return { dims, data: bytes.subarray(start) };
}

async function locate(root: string, split: string): Promise<{ images: string; labels: string }> {
  const stems = STEMS[split];
  const pick = (l: DirListing) => {
    const images = spellings(stems.images, 3).find((f) => l.files.includes(f));
    const labels = spellings(stems.labels, 1).find((f) => l.files.includes(f));
    return images && labels ? { images: path.join(l.dir, images), labels: path.join(l.dir, labels) } : undefined;
  };
  return findInRoot(root, ['MNIST/raw', 'raw', 'MNIST'], pick, {
    layout: MNIST_LAYOUT,
    fix: (top) => extractFix(top, /\.(zip|tar|tar\.gz)$/, 'point --root at the folder holding the idx files'),
  });
}

async function* mnistSamples(root: string, split: string): AsyncGenerator<Sample> {
  const f = await locate(root, split);
  const images = parseIdx(await readMaybeGzip(f.images, FIX), 3, f.images);
  const labels = parseIdx(await readMaybeGzip(f.labels, FIX), 1, f.labels);
  const [n, rows, cols] = images.dims;
  if (labels.dims[0] !== n) throw new UsageError(`${labels.dims[0]} labels for the ${n} images of ${path.basename(f.images)}`, { file: f.labels, fix: FIX });
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new UsageError(`label ${labels.data[bad]} of image ${bad} is not a digit 0-9`, { file: f.labels, fix: FIX });
  const size = rows * cols;
  for (let i = 0; i < n; i++) {
    yield {
      key: `${STEMS[split].key}#${i}`,
      path: f.images,
      label: labels.data[i],
      load: async () => rawImage(images.data.slice(i * size, (i + 1) * size), cols, rows, 'L'),
    };
  }
}

export const mnist = {
  id: 'mnist',
  description: 'MNIST test set (10,000 28×28 grey digits) from the official idx files, plain or gzipped; class ids are the digits 0-9. Split train: the 60,000 training images.',
  splits: ['test', 'train'],
  layout: MNIST_LAYOUT,
  expectedCount: { test: 10_000, train: 60_000 },
  defaultPrompts: 'mnist',
  metric: 'top1',
  async classIds(root: string, split: string) {
    await locate(root, split);
    return Array.from({ length: 10 }, (_, i) => String(i));
  },
  samples: (root: string, split: string) => mnistSamples(root, split),
} as const satisfies DatasetAdapter;

/**
 * STL-10 (Coates et al. 2011) from the official binary distribution `stl10_binary/`: `test_X.bin` holds
 * 8000 images of 3×96×96 bytes, each channel plane written column-major (the files come from MATLAB), and
 * `test_y.bin` one label byte per image, 1-10 in `class_names.txt` order. Images are what torchvision's STL10
 * hands to PIL (reshape (-1, 3, 96, 96), transpose (0, 1, 3, 2), then HWC). Images are read one at a time
 * from their offset, so the 221 MB test file is never held whole.
 */
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { extractFix, findInRoot, nonEmptyLines, planesToHwc, rawImage } from './container-files.js';
import type { DirListing } from './imagenet-fs.js';
import type { DatasetAdapter, Sample } from './types.js';

const SIDE = 96;
const IMAGE_BYTES = 3 * SIDE * SIDE;
const CLASS_NAMES = 'class_names.txt';
const FILES: Record<string, { x: string; y: string }> = {
  test: { x: 'test_X.bin', y: 'test_y.bin' },
  train: { x: 'train_X.bin', y: 'train_y.bin' },
};

export const STL10_LAYOUT = 'ROOT/stl10_binary/{test_X.bin,test_y.bin,class_names.txt} (ROOT may be stl10_binary/ itself); train: train_X.bin, train_y.bin';
const FIX = "use the official STL-10 binary files (stl10_binary.tar.gz's stl10_binary/)";

interface Found {
  x: string;
  y: string;
  classNames?: string;
}

async function locate(root: string, split: string): Promise<Found> {
  const want = FILES[split];
  const pick = (l: DirListing): Found | undefined =>
    l.files.includes(want.x) && l.files.includes(want.y)
      ? { x: path.join(l.dir, want.x), y: path.join(l.dir, want.y), classNames: l.files.includes(CLASS_NAMES) ? path.join(l.dir, CLASS_NAMES) : undefined }
      : undefined;
  return findInRoot(root, ['stl10_binary'], pick, { layout: STL10_LAYOUT, fix: (top) => extractFix(top, /^stl10_binary\.tar(\.gz)?$/, 'point --root at the folder holding stl10_binary/') });
}

async function checkClassNames(f: Found): Promise<void> {
  if (!f.classNames) return;
  const names = nonEmptyLines(await readFile(f.classNames, 'utf8'));
  if (names.length !== 10) throw new UsageError(`expected the 10 STL-10 class names, found ${names.length} lines`, { file: f.classNames, fix: FIX });
}

/** Reads image `i` (3 column-major planes) from its offset in the images file. */
async function readImage(file: string, i: number): Promise<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const buf = new Uint8Array(IMAGE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, IMAGE_BYTES, i * IMAGE_BYTES);
    if (bytesRead !== IMAGE_BYTES) throw new UsageError(`image ${i} is cut short (the file changed since it was listed?)`, { file, fix: FIX });
    return buf;
  } finally {
    await fh.close();
  }
}

async function* stl10Samples(root: string, split: string): AsyncGenerator<Sample> {
  const f = await locate(root, split);
  await checkClassNames(f);
  const y = await readFile(f.y);
  const bad = y.findIndex((l) => l < 1 || l > 10);
  if (bad >= 0) throw new UsageError(`label ${y[bad]} of image ${bad} is outside 1-10`, { file: f.y, fix: FIX });
  const size = (await stat(f.x)).size;
  if (size !== y.length * IMAGE_BYTES) {
    throw new UsageError(`${size} bytes, expected ${y.length} images × ${IMAGE_BYTES} bytes for the ${y.length} labels of ${path.basename(f.y)}`, { file: f.x, fix: FIX });
  }
  const key = path.basename(f.x, '.bin');
  for (let i = 0; i < y.length; i++) {
    yield {
      key: `${key}#${i}`,
      path: f.x,
      label: y[i] - 1,
      load: async () => rawImage(planesToHwc(await readImage(f.x, i), SIDE, SIDE, 3, true), SIDE, SIDE, 'RGB'),
    };
  }
}

export const stl10 = {
  id: 'stl10',
  description:
    'STL-10 test set (8,000 96×96 images, 10 classes) from the official binary files; class ids are the files\' labels 1-10 (class_names.txt order; torchvision\'s label is id − 1). Split train: the 5,000 labelled training images (the unlabelled set is not used).',
  splits: ['test', 'train'],
  layout: STL10_LAYOUT,
  expectedCount: { test: 8_000, train: 5_000 },
  defaultPrompts: 'stl10',
  metric: 'top1',
  async classIds(root: string, split: string) {
    await checkClassNames(await locate(root, split));
    return Array.from({ length: 10 }, (_, i) => String(i + 1));
  },
  samples: (root: string, split: string) => stl10Samples(root, split),
} as const satisfies DatasetAdapter;

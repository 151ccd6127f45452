/**
 * PatchCamelyon (Veeling et al. 2018) from its official HDF5 files:
 * `camelyonpatch_level_2_split_test_x.h5` (dataset `x`, uint8 (N, 96, 96, 3)) and `..._test_y.h5`
 * (dataset `y`, uint8 (N, 1, 1, 1), 1 = metastatic tissue in the centre 32×32 region), as distributed
 * (`.h5.gz`) or gunzipped. Images are read one at a time (an HDF5 hyperslab), never the whole 7 GB of train
 * or 900 MB of test; a `.h5.gz` is gunzipped once into the system temp folder (clip-bench-pcam/, reused
 * while the .gz keeps its size and mtime), because HDF5 needs random access. Images are what torchvision's
 * PCAM hands to PIL: `Image.fromarray` of the (96, 96, 3) array.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Dataset as H5Dataset, File as H5File } from 'h5wasm';
import { UsageError } from '../errors.js';
import { extractFix, findInRoot, rawImage } from './container-files.js';
import type { DirListing } from './imagenet-fs.js';
import type { DatasetAdapter, Sample } from './types.js';

const SIDE = 96;
/** split id → the file names' split word (torchvision's `val` is the files' `valid`) */
const FILE_SPLIT: Record<string, string> = { test: 'test', val: 'valid', train: 'train' };
const fileName = (split: string, xy: 'x' | 'y') => `camelyonpatch_level_2_split_${FILE_SPLIT[split]}_${xy}.h5`;

export const PCAM_LAYOUT =
  'ROOT/camelyonpatch_level_2_split_test_x.h5 and ROOT/camelyonpatch_level_2_split_test_y.h5, each .h5 or .h5.gz (ROOT may also hold them in pcam/, as torchvision does); val: …_valid_{x,y}.h5, train: …_train_{x,y}.h5';
const FIX = 'use the official PatchCamelyon files (camelyonpatch_level_2_split_*_{x,y}.h5[.gz] from zenodo.org/record/2546921 or the GitHub release)';

type H5 = typeof import('h5wasm').default;
let h5wasmReady: Promise<H5> | undefined;

/** h5wasm, loaded on first use, with HDF5 errors thrown (with their text) instead of printed. */
function h5wasm(): Promise<H5> {
  h5wasmReady ??= (async () => {
    const { default: h5 } = await import('h5wasm/node');
    const module = await h5.ready;
    module.activate_throwing_error_handler();
    return h5;
  })();
  return h5wasmReady;
}

interface Found {
  x: string;
  y: string;
}

async function locate(root: string, split: string): Promise<Found> {
  const pick = (l: DirListing): Found | undefined => {
    const find = (xy: 'x' | 'y') => [fileName(split, xy), `${fileName(split, xy)}.gz`].find((f) => l.files.includes(f));
    const x = find('x');
    const y = find('y');
    return x && y ? { x: path.join(l.dir, x), y: path.join(l.dir, y) } : undefined;
  };
  return findInRoot(root, ['pcam'], pick, { layout: PCAM_LAYOUT, fix: (top) => extractFix(top, /^pcam\.(zip|tar(\.gz)?)$/, 'point --root at the folder holding the camelyonpatch_level_2_split_*.h5 files') });
}

/** `file` itself, or for a `.gz` its gunzipped copy in the temp folder (made once, atomically). */
async function plainH5(file: string): Promise<string> {
  if (!file.endsWith('.gz')) return file;
  const s = await stat(file);
  const tag = createHash('sha256').update(`${path.resolve(file)}\0${s.size}\0${s.mtimeMs}`).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'clip-bench-pcam');
  const out = path.join(dir, `${tag}-${path.basename(file, '.gz')}`);
  if (await stat(out).then((o) => o.isFile(), () => false)) return out;
  await mkdir(dir, { recursive: true });
  const partial = `${out}.${process.pid}.partial`;
  try {
    await pipeline(createReadStream(file), createGunzip(), createWriteStream(partial));
    await rename(partial, out);
  } catch (err) {
    await rm(partial, { force: true });
    throw new UsageError(`cannot gunzip into ${dir}: ${(err as Error).message}`, { file, fix: FIX });
  }
  return out;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5's superblock signature sits at 0, 512, 1024, 2048, … (after an optional user block). */
async function hasHdf5Signature(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = new Uint8Array(8);
    for (let at = 0; at + 8 <= size && at <= 1 << 20; at = at === 0 ? 512 : at * 2) {
      await fh.read(buf, 0, 8, at);
      if (buf.every((b, i) => b === HDF5_SIGNATURE[i])) return true;
    }
    return false;
  } finally {
    await fh.close();
  }
}

interface OpenDataset {
  file: H5File;
  data: H5Dataset;
  shape: number[];
}

/** The uint8 dataset `name` of the HDF5 file `source` (which may be `.gz`); errors name `source`. */
async function openDataset(source: string, name: 'x' | 'y'): Promise<OpenDataset> {
  const file = await plainH5(source);
  const gz = file === source ? '' : ` (gunzipped to ${file})`;
  if (!(await hasHdf5Signature(file))) throw new UsageError(`not an HDF5 file${gz}: no HDF5 signature`, { file: source, fix: FIX });
  const h5 = await h5wasm();
  let f: H5File;
  try {
    f = new h5.File(file, 'r');
  } catch (err) {
    throw new UsageError(`HDF5 cannot open it${gz}: ${hdf5Reason(err)}`, { file: source, fix: FIX });
  }
  const d = f.get(name);
  const m = d instanceof h5.Dataset ? d.metadata : undefined;
  if (!(d instanceof h5.Dataset) || !m || m.type !== 0 || m.size !== 1 || m.signed || !d.shape) {
    const what = d instanceof h5.Dataset ? `dataset "${name}" is not uint8 (HDF5 type ${JSON.stringify(d.dtype)})` : `has no dataset "${name}" (found: ${f.keys().join(', ') || 'nothing'})`;
    f.close();
    throw new UsageError(what, { file: source, fix: FIX });
  }
  return { file: f, data: d, shape: d.shape };
}

/** Opens, uses and closes a dataset (listing a split leaves no file open). */
async function withDataset<T>(source: string, name: 'x' | 'y', use: (d: OpenDataset) => T): Promise<T> {
  const d = await openDataset(source, name);
  try {
    return use(d);
  } finally {
    d.file.close();
  }
}

/** How long an images file stays open after its last read: a run reads its patches in bursts. */
const IDLE_CLOSE_MS = 2000;
const held = new Map<string, { dataset: Promise<OpenDataset>; timer?: NodeJS.Timeout }>();

/** Patch `i` of the images file, HWC; the file is kept open between reads and closed when idle. */
async function readPatch(source: string, i: number): Promise<Uint8Array> {
  const key = path.resolve(source);
  let h = held.get(key);
  if (!h) {
    const entry = { dataset: openDataset(source, 'x') } as { dataset: Promise<OpenDataset>; timer?: NodeJS.Timeout };
    held.set(key, entry);
    entry.dataset.catch(() => held.delete(key));
    h = entry;
  }
  const d = await h.dataset;
  // h5wasm reads synchronously: nothing can close the file between here and the slice
  clearTimeout(h.timer);
  h.timer = setTimeout(() => {
    held.delete(key);
    d.file.close();
  }, IDLE_CLOSE_MS).unref();
  if (i >= d.shape[0]) throw new UsageError(`has ${d.shape[0]} patches, not ${i + 1} (the file changed since it was listed?)`, { file: source, fix: FIX });
  return d.data.slice([[i, i + 1]]) as Uint8Array;
}

/** The last line of HDF5's error stack that says what went wrong ("minor: …"), or the message. */
function hdf5Reason(err: unknown): string {
  const text = String((err as Error)?.message ?? err);
  const minors = [...text.matchAll(/minor: (.+)/g)].map((m) => m[1].trim());
  return minors.at(-1) ?? text.split('\n')[0];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

async function* pcamSamples(root: string, split: string): AsyncGenerator<Sample> {
  const f = await locate(root, split);
  const labels = await withDataset(f.y, 'y', (y) => {
    const n = y.shape[0];
    if (!(sameShape(y.shape, [n, 1, 1, 1]) || sameShape(y.shape, [n]))) throw new UsageError(`dataset "y" has shape (${y.shape.join(', ')}), expected (N, 1, 1, 1)`, { file: f.y, fix: FIX });
    return y.data.value as Uint8Array; // copied out of the wasm heap
  });
  const n = labels.length;
  const bad = labels.findIndex((l) => l > 1);
  if (bad >= 0) throw new UsageError(`label ${labels[bad]} of patch ${bad} is not 0 or 1`, { file: f.y, fix: FIX });
  await withDataset(f.x, 'x', (x) => {
    if (!sameShape(x.shape, [n, SIDE, SIDE, 3])) throw new UsageError(`dataset "x" has shape (${x.shape.join(', ')}), expected (${n}, ${SIDE}, ${SIDE}, 3) for the ${n} labels`, { file: f.x, fix: FIX });
  });
  const key = path.basename(fileName(split, 'x'), '.h5');
  for (let i = 0; i < n; i++) {
    yield {
      key: `${key}#${i}`,
      path: f.x,
      label: labels[i],
      load: async () => rawImage(await readPatch(f.x, i), SIDE, SIDE, 'RGB'),
    };
  }
}

export const pcam = {
  id: 'pcam',
  description:
    'PatchCamelyon test split (32,768 96×96 patches of lymph-node sections; class 1 = metastatic tissue in the centre) from the official HDF5 files, read one patch at a time; a .h5.gz is gunzipped once to the system temp folder (clip-bench-pcam/). Splits val and train: the files\' valid and train splits.',
  splits: ['test', 'val', 'train'],
  layout: PCAM_LAYOUT,
  expectedCount: { test: 32_768, val: 32_768, train: 262_144 },
  defaultPrompts: 'pcam',
  metric: 'top1',
  async classIds(root: string, split: string) {
    await locate(root, split);
    return ['0', '1'];
  },
  samples: (root: string, split: string) => pcamSamples(root, split),
} as const satisfies DatasetAdapter;

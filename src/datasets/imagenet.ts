/**
 * ImageNet-1k (ILSVRC-2012) validation, read from whichever of the three common layouts is under --root:
 *  (a) an ImageFolder of the 1000 WordNet-id folders (torchvision's `ImageNet(split='val')` tree, also as ROOT/val/);
 *  (b) the flat folder of `ILSVRC2012_val_*.JPEG` with the ILSVRC-2012 devkit's ground truth and meta.mat;
 *  (c) the flat folder with Kaggle's `LOC_val_solution.csv`.
 * Class index = position of the wnid in the 1000 sorted wnids (configs/datasets/imagenet-wnids.json) in
 * every layout. Also `imagenetSubsetPlan`, which makes any WordNet-id class list score against ImageNet prompts.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { isFile, listDir, checkWnidFolders, describeListing, hasWnidFolders, isDirectory, nonEmptyFolderSamples, type DirListing } from './imagenet-fs.js';
import { loadDevkitLabels, loadKaggleSolution, VAL_IMAGE } from './imagenet-devkit.js';
import type { ClassifierPlan, DatasetAdapter, Sample } from './types.js';
import { imagenetWnids, isImagenetWnid } from './wnids.js';

const GROUND_TRUTH = 'ILSVRC2012_validation_ground_truth.txt';
const META = 'meta.mat';
const KAGGLE_CSV = 'LOC_val_solution.csv';
/** where, under --root, the flat images may be (the root itself, torchvision's val/, Kaggle's tree) */
const FLAT_DIRS = ['val', path.join('ILSVRC', 'Data', 'CLS-LOC', 'val')];
/** where, under --root, the devkit's two files may be */
const DEVKIT_DIRS = [path.join('ILSVRC2012_devkit_t12', 'data'), ''];

export const IMAGENET_VAL_LAYOUT =
  '(a) ROOT/<wnid>/*.JPEG: the 1000 WordNet-id folders, e.g. ROOT/n01440764/ (or ROOT/val/<wnid>/); ' +
  '(b) ROOT/ILSVRC2012_val_00000001.JPEG … with ROOT/ILSVRC2012_devkit_t12/data/{ILSVRC2012_validation_ground_truth.txt,meta.mat} (or both files in ROOT); ' +
  '(c) ROOT/ILSVRC2012_val_*.JPEG (or ROOT/ILSVRC/Data/CLS-LOC/val/) with ROOT/LOC_val_solution.csv';

/** The layout found under --root, with the paths it needs. */
export type ImagenetValLayout =
  | { kind: 'folders'; dir: string }
  | { kind: 'devkit'; dir: string; images: string[]; groundTruth: string; meta: string }
  | { kind: 'kaggle'; dir: string; images: string[]; solution: string };

function unrecognised(top: DirListing, detail: string, fix: string): UsageError {
  return new UsageError(`${detail}; expected one of the ImageNet validation layouts: ${IMAGENET_VAL_LAYOUT}`, { file: top.dir, fix });
}

async function flatLayout(root: string, top: DirListing, dir: string, images: string[]): Promise<ImagenetValLayout> {
  for (const d of DEVKIT_DIRS) {
    const groundTruth = path.join(root, d, GROUND_TRUTH);
    if (!(await isFile(groundTruth))) continue;
    const meta = path.join(root, d, META);
    if (!(await isFile(meta))) {
      throw new UsageError(`found ${GROUND_TRUTH} but no ${META} beside it: the ground truth holds devkit ILSVRC2012_IDs, which only meta.mat maps to WordNet ids`, {
        file: meta,
        fix: 'extract the whole ILSVRC2012_devkit_t12 archive (its data/ folder has both files)',
      });
    }
    return { kind: 'devkit', dir, images, groundTruth, meta };
  }
  const solution = path.join(root, KAGGLE_CSV);
  if (await isFile(solution)) return { kind: 'kaggle', dir, images, solution };
  const hasMeta = (await Promise.all(DEVKIT_DIRS.map((d) => isFile(path.join(root, d, META))))).some(Boolean);
  const tarball = top.files.find((f) => /^ILSVRC2012_devkit_t12\.tar(\.gz)?$/.test(f));
  throw unrecognised(
    top,
    `found ${images.length} ILSVRC2012_val_*.JPEG images in ${dir} but no labels for them${hasMeta ? ` (${META} is there, ${GROUND_TRUTH} is not)` : ''}`,
    tarball ? `extract ${tarball} into ROOT` : `add the devkit's ${GROUND_TRUTH} and ${META}, or Kaggle's ${KAGGLE_CSV}`,
  );
}

/** Detects which of the three layouts is under `root`; the error says what was expected and what was found. */
export async function detectImagenetVal(root: string): Promise<ImagenetValLayout> {
  const top = await listDir(root);
  const candidates = [top];
  for (const sub of FLAT_DIRS) if (await isDirectory(path.join(root, sub))) candidates.push(await listDir(path.join(root, sub)));
  for (const l of candidates) {
    if (hasWnidFolders(l)) return { kind: 'folders', dir: l.dir };
    const images = l.files.filter((f) => VAL_IMAGE.test(f));
    if (images.length) return flatLayout(root, top, l.dir, images);
  }
  const tar = top.files.find((f) => /^ILSVRC2012_img_val\.tar$/.test(f));
  throw unrecognised(top, `found ${describeListing(top)}`, tar ? `extract ${tar} (50,000 JPEGs) into ROOT` : 'point --root at the folder that holds the validation images');
}

const FOLDERS_FIX = 'the validation ImageFolder needs exactly the 1000 ILSVRC-2012 WordNet-id folders (for a subset, use --dataset imagefolder)';

/** Labels of the flat images (sorted by name) from one label per image number (devkit) or per image id (Kaggle). */
function flatSamples(dir: string, images: string[], labelOf: (name: string) => number): Sample[] {
  return images.map((name) => ({ key: name, path: path.join(dir, name), label: labelOf(name) }));
}

async function devkitSamples(l: Extract<ImagenetValLayout, { kind: 'devkit' }>): Promise<Sample[]> {
  const labels = await loadDevkitLabels(l.groundTruth, l.meta);
  if (labels.length !== l.images.length) {
    throw new UsageError(`the ground truth has ${labels.length} lines but ${l.dir} holds ${l.images.length} ILSVRC2012_val_*.JPEG images`, {
      file: l.groundTruth,
      fix: 'the ground truth lists every one of the 50,000 validation images: extract all of ILSVRC2012_img_val.tar',
    });
  }
  const seen = new Set<number>();
  return flatSamples(l.dir, l.images, (name) => {
    const n = Number(VAL_IMAGE.exec(name)![1]);
    if (n < 1 || n > labels.length) throw new UsageError(`${name} has no line in the ground truth (${labels.length} lines)`, { file: l.groundTruth, fix: 'use the ground truth of these images' });
    if (seen.has(n)) throw new UsageError(`two files are validation image ${n} (e.g. ${name})`, { file: l.dir, fix: 'keep one file per image' });
    seen.add(n);
    return labels[n - 1];
  });
}

async function kaggleSamples(l: Extract<ImagenetValLayout, { kind: 'kaggle' }>): Promise<Sample[]> {
  const labels = await loadKaggleSolution(l.solution);
  if (labels.size !== l.images.length) {
    throw new UsageError(`${KAGGLE_CSV} labels ${labels.size} images but ${l.dir} holds ${l.images.length} ILSVRC2012_val_*.JPEG images`, {
      file: l.solution,
      fix: 'extract every validation image (Kaggle: ILSVRC/Data/CLS-LOC/val/)',
    });
  }
  return flatSamples(l.dir, l.images, (name) => {
    const id = name.replace(/\.[^.]+$/, '');
    const label = labels.get(id);
    if (label === undefined) throw new UsageError(`${name} has no row (ImageId ${id})`, { file: l.solution, fix: `use the ${KAGGLE_CSV} of these images` });
    return label;
  });
}

/** Every validation sample in a deterministic order: class-major for folders, by file name when flat. */
export async function* imagenetValSamples(root: string): AsyncGenerator<Sample> {
  const l = await detectImagenetVal(root);
  if (l.kind === 'folders') {
    checkWnidFolders(await listDir(l.dir), { all: true, fix: FOLDERS_FIX });
    yield* nonEmptyFolderSamples(l.dir, imagenetWnids());
    return;
  }
  yield* l.kind === 'devkit' ? await devkitSamples(l) : await kaggleSamples(l);
}

export const imagenet = {
  id: 'imagenet',
  description:
    'ImageNet-1k (ILSVRC-2012) validation set: 50,000 images, 1000 classes, labels by WordNet id (class index = position in the sorted wnids), from a WordNet-id ImageFolder, the flat folder with the devkit, or the flat folder with Kaggle\'s LOC_val_solution.csv (detected).',
  splits: ['val'],
  layout: IMAGENET_VAL_LAYOUT,
  expectedCount: { val: 50_000 },
  defaultPrompts: 'imagenet',
  metric: 'top1',
  async classIds(root: string) {
    const l = await detectImagenetVal(root);
    if (l.kind === 'folders') checkWnidFolders(await listDir(l.dir), { all: true, fix: FOLDERS_FIX });
    return [...imagenetWnids()];
  },
  samples: (root: string) => imagenetValSamples(root),
} as const satisfies DatasetAdapter;

/**
 * A classifier plan for a dataset whose class ids are ImageNet wnids (e.g. an `imagefolder` of WordNet-id
 * folders): build the classifier from those ImageNet classes' prompts, one row per class (identity groups).
 * Scoring only these classes is the same as masking the other ImageNet logits. `undefined` when any id is
 * not one of the 1000 ImageNet wnids (or the list is empty or repeats an id).
 */
export function imagenetSubsetPlan(classIds: readonly string[], datasetId = 'imagefolder'): ClassifierPlan | undefined {
  if (classIds.length === 0 || new Set(classIds).size !== classIds.length || !classIds.every(isImagenetWnid)) return undefined;
  return {
    promptClassIds: [...classIds],
    groups: classIds.map((_, i) => [i]),
    description: classIds.length === 1000 ? `${datasetId}: all 1000 ImageNet classes` : `${datasetId}: ${classIds.length}-class subset of ImageNet`,
  };
}

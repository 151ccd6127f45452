/**
 * Stanford Cars (Krause et al. 2013) in its distribution's layout: `cars_test/<nnnnn>.jpg`, `cars_train/…`, the devkit's
 * `devkit/cars_meta.mat` (`class_names`: 1×196 cell) and `devkit/cars_train_annos.mat`, and the separately released
 * `cars_test_annos_withlabels.mat` (in ROOT or ROOT/devkit/). Annotation files hold an `annotations` struct array with
 * fields bbox_x1, bbox_y1, bbox_x2, bbox_y2, class (1…196, the cars_meta.mat order) and fname, read with our
 * MAT v5 reader. Class ids are "1" … "196" (the prompt set's keys; torchvision's label is this minus 1). The official
 * test split has 8,041 images, in annotation order.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { isFile } from './imagenet-fs.js';
import { loadMat, matScalar, matStruct, matText, matTexts, matVariable } from './mat5.js';
import { locateDistribution, type DistributionSpec } from './split-files.js';
import type { DatasetAdapter, Sample } from './types.js';

const N_CLASSES = 196;
const CLASS_IDS = Array.from({ length: N_CLASSES }, (_, i) => String(i + 1));
const TEST_ANNOS = 'cars_test_annos_withlabels.mat';
const LAYOUT = `ROOT/cars_test/00001.jpg …, ROOT/devkit/cars_meta.mat and ROOT/${TEST_ANNOS} (or ROOT/devkit/${TEST_ANNOS}); train: ROOT/cars_train/ with ROOT/devkit/cars_train_annos.mat (or all under ROOT/stanford_cars/, as torchvision keeps it)`;
/** A split needs only its own images folder (its annotations are checked by name after). */
const spec = (split: string): DistributionSpec => ({ name: 'Stanford Cars', layout: LAYOUT, subs: ['stanford_cars'], markers: ['devkit/cars_meta.mat', `cars_${split}/`] });
const FIX = `use the Stanford Cars devkit (car_devkit.tgz) and ${TEST_ANNOS}`;

/** Checks cars_meta.mat lists the 196 classes the "class" fields index. */
async function checkMeta(dir: string): Promise<void> {
  const file = path.join(dir, 'devkit', 'cars_meta.mat');
  const names = matTexts(matVariable(await loadMat(file), 'class_names'), 'class_names', file);
  if (names.length !== N_CLASSES) throw new UsageError(`class_names has ${names.length} classes, expected ${N_CLASSES}`, { file, fix: FIX });
}

async function annotationsFile(dir: string, split: string): Promise<{ file: string; images: string }> {
  if (split === 'train') return { file: path.join(dir, 'devkit', 'cars_train_annos.mat'), images: path.join(dir, 'cars_train') };
  for (const file of [path.join(dir, TEST_ANNOS), path.join(dir, 'devkit', TEST_ANNOS)]) if (await isFile(file)) return { file, images: path.join(dir, 'cars_test') };
  throw new UsageError(`missing ${TEST_ANNOS} (the test labels, released apart from the devkit, whose cars_test_annos.mat has no classes)`, {
    file: path.join(dir, TEST_ANNOS),
    fix: `put ${TEST_ANNOS} in ${dir} or its devkit/`,
  });
}

async function* carsSamples(root: string, split: string): AsyncGenerator<Sample> {
  const dir = await locateDistribution(root, spec(split));
  await checkMeta(dir);
  const { file, images } = await annotationsFile(dir, split);
  const annos = matStruct(matVariable(await loadMat(file), 'annotations'), 'annotations', ['class', 'fname'], file);
  for (const [i, a] of annos.elements.entries()) {
    const cls = matScalar(a.get('class')!, `annotations(${i + 1}).class`, file);
    const fname = matText(a.get('fname')!, `annotations(${i + 1}).fname`, file);
    if (!(Number.isInteger(cls) && cls >= 1 && cls <= N_CLASSES)) throw new UsageError(`annotations(${i + 1}).class is ${cls}, not a class 1…${N_CLASSES}`, { file, fix: FIX });
    if (fname === '' || fname.includes('/') || fname.includes('\\')) throw new UsageError(`annotations(${i + 1}).fname is "${fname}", not a file name`, { file, fix: FIX });
    yield { key: fname, path: path.join(images, fname), label: cls - 1 };
  }
}

export const stanfordCars = {
  id: 'stanford-cars',
  description: `Stanford Cars (Krause et al. 2013): 196 car models, labelled by the annotations' class 1…196; the official test split of ${TEST_ANNOS} (8,041 images).`,
  splits: ['test', 'train'],
  layout: LAYOUT,
  expectedCount: { test: 8_041, train: 8_144 },
  defaultPrompts: 'stanford-cars',
  metric: 'top1',
  async classIds(root: string, split: string) {
    await checkMeta(await locateDistribution(root, spec(split)));
    return [...CLASS_IDS];
  },
  samples: carsSamples,
} as const satisfies DatasetAdapter;

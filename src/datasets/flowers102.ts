/**
 * Oxford 102 Flowers (Nilsback & Zisserman 2008) in its distribution's layout: `jpg/image_<nnnnn>.jpg` (102flowers.tgz),
 * `imagelabels.mat` (`labels`: 1×8189, the 1-based class of image n at position n) and `setid.mat` (`trnid`, `valid`,
 * `tstid`: image numbers of each split), read with our MAT v5 reader. Class ids are the labels "1" … "102" (the
 * prompt set's keys; torchvision's label is this minus 1). The official test split `tstid` has 6,149 images; samples
 * follow its order. The paper's metric is mean per-class recall.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { loadMat, matNumbers, matVariable } from './mat5.js';
import { locateDistribution, type DistributionSpec } from './split-files.js';
import type { DatasetAdapter, Sample } from './types.js';

const N_CLASSES = 102;
const CLASS_IDS = Array.from({ length: N_CLASSES }, (_, i) => String(i + 1));
const SPEC: DistributionSpec = {
  name: 'Oxford 102 Flowers',
  layout: 'ROOT/jpg/image_00001.jpg …, ROOT/imagelabels.mat and ROOT/setid.mat (or the same under ROOT/flowers-102/, as torchvision keeps it)',
  subs: ['flowers-102'],
  markers: ['imagelabels.mat', 'setid.mat', 'jpg/'],
};
const FIX = 'use imagelabels.mat and setid.mat from the Oxford 102 Flowers page';
const SPLIT_VARIABLE: Record<string, string> = { test: 'tstid', train: 'trnid', val: 'valid' };

async function* flowersSamples(root: string, split: string): AsyncGenerator<Sample> {
  const dir = await locateDistribution(root, SPEC);
  const labelsFile = path.join(dir, 'imagelabels.mat');
  const setFile = path.join(dir, 'setid.mat');
  const labels = matNumbers(matVariable(await loadMat(labelsFile), 'labels'), 'labels', labelsFile);
  const bad = labels.findIndex((l) => !(Number.isInteger(l) && l >= 1 && l <= N_CLASSES));
  if (bad >= 0) throw new UsageError(`labels(${bad + 1}) is ${labels[bad]}, not a class 1…${N_CLASSES}`, { file: labelsFile, fix: FIX });
  const ids = matNumbers(matVariable(await loadMat(setFile), SPLIT_VARIABLE[split]), SPLIT_VARIABLE[split], setFile);
  for (const [i, id] of ids.entries()) {
    if (!(Number.isInteger(id) && id >= 1 && id <= labels.length)) {
      throw new UsageError(`${SPLIT_VARIABLE[split]}(${i + 1}) is ${id}, not an image number 1…${labels.length} of imagelabels.mat`, { file: setFile, fix: FIX });
    }
    const key = `image_${String(id).padStart(5, '0')}.jpg`;
    yield { key, path: path.join(dir, 'jpg', key), label: labels[id - 1] - 1 };
  }
}

export const flowers102 = {
  id: 'flowers102',
  description: 'Oxford 102 Flowers (Nilsback & Zisserman 2008): 102 classes, labels from imagelabels.mat; the official test split tstid of setid.mat (6,149 images). Metric: mean per-class recall, as the paper.',
  splits: ['test', 'train', 'val'],
  layout: SPEC.layout,
  expectedCount: { test: 6_149, train: 1_020, val: 1_020 },
  defaultPrompts: 'flowers102',
  metric: 'mean-per-class-recall',
  async classIds(root: string) {
    await locateDistribution(root, SPEC);
    return [...CLASS_IDS];
  },
  samples: flowersSamples,
} as const satisfies DatasetAdapter;

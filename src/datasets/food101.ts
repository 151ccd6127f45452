/**
 * Food-101 (Bossard et al. 2014) in its archive's layout: `food-101/meta/classes.txt` (the 101 class names, one a
 * line, sorted: line order is label order), `meta/test.txt` and `meta/train.txt` (one `<class>/<image id>` a line)
 * and `images/<class>/<image id>.jpg`. The official test split has 25,250 images (250 per class), as in the paper.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { labelIndex, locateDistribution, readLines, type DistributionSpec } from './split-files.js';
import type { DatasetAdapter, Sample } from './types.js';

const SPEC: DistributionSpec = {
  name: 'Food-101',
  layout: 'ROOT/meta/{classes.txt,test.txt,train.txt} and ROOT/images/<class>/<id>.jpg (or the same under ROOT/food-101/, as the archive unpacks)',
  subs: ['food-101'],
  markers: ['meta/classes.txt', 'meta/test.txt', 'images/'],
};
const FIX = 'use the meta/ folder of the Food-101 archive';

async function classIds(root: string): Promise<{ dir: string; ids: string[] }> {
  const dir = await locateDistribution(root, SPEC);
  return { dir, ids: (await readLines(path.join(dir, 'meta', 'classes.txt'), FIX)).map((l) => l.text) };
}

async function* food101Samples(root: string, split: string): AsyncGenerator<Sample> {
  const { dir, ids } = await classIds(root);
  const classesFile = path.join(dir, 'meta', 'classes.txt');
  const label = labelIndex(ids, classesFile, FIX);
  const file = path.join(dir, 'meta', `${split}.txt`);
  for (const { n, text } of await readLines(file, FIX)) {
    const slash = text.indexOf('/');
    const cls = text.slice(0, slash);
    const l = slash > 0 ? label.get(cls) : undefined;
    if (l === undefined) throw new UsageError(`line ${n} is "${text}", not <class>/<image id> with a class of meta/classes.txt`, { file, fix: FIX });
    const key = `${text}.jpg`;
    yield { key, path: path.join(dir, 'images', key), label: l };
  }
}

export const food101 = {
  id: 'food101',
  description: 'Food-101 (Bossard et al. 2014): 101 dishes; the official test split of meta/test.txt (25,250 images, 250 per class).',
  splits: ['test', 'train'],
  layout: SPEC.layout,
  expectedCount: { test: 25_250, train: 75_750 },
  defaultPrompts: 'food101',
  metric: 'top1',
  classIds: async (root: string) => (await classIds(root)).ids,
  samples: food101Samples,
} as const satisfies DatasetAdapter;

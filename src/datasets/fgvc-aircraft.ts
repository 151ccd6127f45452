/**
 * FGVC-Aircraft (Maji et al. 2013), variant level, in its archive's layout: `fgvc-aircraft-2013b/data/variants.txt`
 * (the 100 variant names, one a line: line order is label order), `data/images_variant_{test,trainval,train,val}.txt`
 * (one `<image id> <variant name>` a line; names may contain spaces, e.g. "Cessna 172") and `data/images/<image id>.jpg`.
 * The official test split has 3,333 images; the paper's metric is mean per-class recall.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { labelIndex, locateDistribution, readLines, type DistributionSpec } from './split-files.js';
import type { DatasetAdapter, Sample } from './types.js';

const LAYOUT =
  'ROOT/data/variants.txt, ROOT/data/images_variant_<split>.txt (lines "<image id> <variant>") and ROOT/data/images/<image id>.jpg (or the same under ROOT/fgvc-aircraft-2013b/, as the archive unpacks)';
/** A split needs only its own list. */
const spec = (split: string): DistributionSpec => ({
  name: 'FGVC-Aircraft',
  layout: LAYOUT,
  subs: ['fgvc-aircraft-2013b'],
  markers: ['data/variants.txt', `data/images_variant_${split}.txt`, 'data/images/'],
});
const FIX = 'use the data/ folder of fgvc-aircraft-2013b.tar.gz';

async function variants(root: string, split: string): Promise<{ dir: string; ids: string[] }> {
  const dir = await locateDistribution(root, spec(split));
  return { dir, ids: (await readLines(path.join(dir, 'data', 'variants.txt'), FIX)).map((l) => l.text) };
}

async function* aircraftSamples(root: string, split: string): AsyncGenerator<Sample> {
  const { dir, ids } = await variants(root, split);
  const label = labelIndex(ids, path.join(dir, 'data', 'variants.txt'), FIX);
  const file = path.join(dir, 'data', `images_variant_${split}.txt`);
  for (const { n, text } of await readLines(file, FIX)) {
    const space = text.indexOf(' ');
    const id = text.slice(0, Math.max(0, space));
    const l = label.get(text.slice(space + 1).trim());
    if (space <= 0 || l === undefined) throw new UsageError(`line ${n} is "${text}", not "<image id> <variant>" with a variant of data/variants.txt`, { file, fix: FIX });
    const key = `${id}.jpg`;
    yield { key, path: path.join(dir, 'data', 'images', key), label: l };
  }
}

export const fgvcAircraft = {
  id: 'fgvc-aircraft',
  description: 'FGVC-Aircraft (Maji et al. 2013): 100 aircraft variants (data/variants.txt order); the official test split of data/images_variant_test.txt (3,333 images). Metric: mean per-class recall, as the paper.',
  splits: ['test', 'trainval', 'train', 'val'],
  layout: LAYOUT,
  expectedCount: { test: 3_333, trainval: 6_667, train: 3_334, val: 3_333 },
  defaultPrompts: 'fgvc-aircraft',
  metric: 'mean-per-class-recall',
  classIds: async (root: string, split: string) => (await variants(root, split)).ids,
  samples: aircraftSamples,
} as const satisfies DatasetAdapter;

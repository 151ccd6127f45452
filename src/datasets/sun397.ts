/**
 * SUN397 (Xiao et al. 2010) in its distribution's layout: SUN397.tar.gz unpacks to `SUN397/ClassName.txt` (the 397
 * class paths, e.g. /a/abbey or /a/apartment_building/outdoor, sorted: line order is label order) and
 * `SUN397/<letter>/<class>/…/sun_<id>.jpg`; the official splits come apart in Partitions.zip: ten partitions
 * `Training_<kk>.txt` / `Testing_<kk>.txt`, 50 images per class each, one image path a line (e.g.
 * /a/abbey/sun_ajkqrqitspwywirx.jpg). The paper's counts (19,850 train, 19,850 test) are one partition's; which one
 * is not stated, and the first is the usual choice (tfds's "standard-part1"), so "test" is Testing_01.txt and
 * "train" Training_01.txt. CLIP_benchmark's torchvision version instead scores all 108,754 images.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { isFile } from './imagenet-fs.js';
import { labelIndex, locateDistribution, readLines, type DistributionSpec } from './split-files.js';
import type { DatasetAdapter, Sample } from './types.js';

const PARTITION = '01';
const SPLIT_FILE: Record<string, string> = { test: `Testing_${PARTITION}.txt`, train: `Training_${PARTITION}.txt` };
const SPEC: DistributionSpec = {
  name: 'SUN397',
  layout: `ROOT/ClassName.txt and ROOT/<letter>/<class>/…/sun_<id>.jpg (or under ROOT/SUN397/, as the archive unpacks), with Partitions.zip's Testing_${PARTITION}.txt and Training_${PARTITION}.txt beside ClassName.txt or in a Partitions/ folder next to it or in ROOT`,
  subs: ['SUN397'],
  markers: ['ClassName.txt', 'a/'],
};
const FIX = 'use ClassName.txt of SUN397.tar.gz and the partition files of Partitions.zip';

async function classes(root: string): Promise<{ dir: string; ids: string[] }> {
  const dir = await locateDistribution(root, SPEC);
  return { dir, ids: (await readLines(path.join(dir, 'ClassName.txt'), FIX)).map((l) => l.text) };
}

async function partitionFile(root: string, dir: string, name: string): Promise<string> {
  const candidates = [dir, path.join(dir, 'Partitions'), root, path.join(root, 'Partitions')].map((d) => path.join(d, name));
  for (const f of candidates) if (await isFile(f)) return f;
  throw new UsageError(`missing ${name}, the split file from Partitions.zip (looked beside ClassName.txt, in Partitions/ and in ROOT)`, {
    file: candidates[0],
    fix: `extract Partitions.zip (from the SUN397 page) into ${dir}`,
  });
}

async function* sunSamples(root: string, split: string): AsyncGenerator<Sample> {
  const { dir, ids } = await classes(root);
  const label = labelIndex(ids, path.join(dir, 'ClassName.txt'), FIX);
  const file = await partitionFile(root, dir, SPLIT_FILE[split]);
  for (const { n, text } of await readLines(file, FIX)) {
    const l = label.get(text.slice(0, Math.max(0, text.lastIndexOf('/'))));
    if (!text.startsWith('/') || l === undefined) throw new UsageError(`line ${n} is "${text}", not /<letter>/<class>/<image> with a class of ClassName.txt`, { file, fix: FIX });
    const key = text.slice(1);
    yield { key, path: path.join(dir, key), label: l };
  }
}

export const sun397 = {
  id: 'sun397',
  description: `SUN397 (Xiao et al. 2010): 397 scene classes (ClassName.txt order); partition ${PARTITION} of the ten official ones, as the paper's counts show: test = Testing_${PARTITION}.txt (19,850 images, 50 per class).`,
  splits: ['test', 'train'],
  layout: SPEC.layout,
  expectedCount: { test: 19_850, train: 19_850 },
  defaultPrompts: 'sun397',
  metric: 'top1',
  classIds: async (root: string) => (await classes(root)).ids,
  samples: sunSamples,
} as const satisfies DatasetAdapter;

/**
 * The Oxford-IIIT Pet dataset (Parkhi et al. 2012) in its archives' layout: `images/<Breed>_<n>.jpg` and
 * `annotations/{test,trainval,list}.txt`, one image a line, `<Image> <CLASS-ID> <SPECIES> <BREED ID>` (e.g.
 * `Abyssinian_100 1 1 1`; list.txt starts with `#` comment lines). CLASS-ID 1…37 is the label (minus 1); the class
 * id of each CLASS-ID is its breed name, the image name without its trailing `_<n>` (e.g. Abyssinian,
 * american_bulldog), read from the annotation files themselves and checked to be one name per CLASS-ID.
 * The official test split has 3,669 images; the paper's metric is mean per-class recall.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { isFile } from './imagenet-fs.js';
import { locateDistribution, readLines, type DistributionSpec, type Line } from './split-files.js';
import type { DatasetAdapter, Sample } from './types.js';

const N_CLASSES = 37;
const LAYOUT = 'ROOT/images/<Breed>_<n>.jpg and ROOT/annotations/{test,trainval,list}.txt (lines "Abyssinian_100 1 1 1") (or the same under ROOT/oxford-iiit-pet/, as torchvision keeps it)';
/** A split needs only its own list. */
const spec = (split: string): DistributionSpec => ({ name: 'Oxford-IIIT Pet', layout: LAYOUT, subs: ['oxford-iiit-pet'], markers: [`annotations/${split}.txt`, 'images/'] });
const FIX = 'use the annotations/ folder of the Oxford-IIIT Pet annotations.tar.gz';

interface Entry {
  image: string;
  classId: number;
  line: number;
}

function parse(lines: readonly Line[], file: string): Entry[] {
  return lines
    .filter((l) => !l.text.startsWith('#'))
    .map(({ n, text }) => {
      const [image, id] = text.split(/\s+/);
      const classId = /^\d+$/.test(id ?? '') ? Number(id) : NaN;
      if (!(classId >= 1 && classId <= N_CLASSES) || !/_\d+$/.test(image)) {
        throw new UsageError(`line ${n} is "${text}", not "<Breed>_<n> <CLASS-ID 1…${N_CLASSES}> <SPECIES> <BREED ID>"`, { file, fix: FIX });
      }
      return { image, classId, line: n };
    });
}

/** The breed name of each CLASS-ID, from every annotation file present (the split's own is required, the others add classes). */
async function breeds(dir: string, split: string): Promise<string[]> {
  const names = new Array<string | undefined>(N_CLASSES).fill(undefined); // filled: flatMap skips holes
  for (const name of ['list.txt', 'trainval.txt', 'test.txt']) {
    const file = path.join(dir, 'annotations', name);
    if (name !== `${split}.txt` && !(await isFile(file))) continue;
    for (const e of parse(await readLines(file, FIX), file)) {
      const breed = e.image.replace(/_\d+$/, '');
      const known = names[e.classId - 1];
      if (known !== undefined && known !== breed) {
        throw new UsageError(`line ${e.line}: ${e.image} has CLASS-ID ${e.classId}, which other lines give to ${known}`, { file, fix: FIX });
      }
      names[e.classId - 1] = breed;
    }
  }
  const missing = names.flatMap((n, i) => (n === undefined ? [i + 1] : []));
  if (missing.length) {
    throw new UsageError(`the annotation files name no breed for CLASS-ID ${missing.join(', ')}`, { file: path.join(dir, 'annotations'), fix: `${FIX} (list.txt names all 37 breeds)` });
  }
  return names as string[];
}

async function* petsSamples(root: string, split: string): AsyncGenerator<Sample> {
  const dir = await locateDistribution(root, spec(split));
  const ids = await breeds(dir, split);
  const file = path.join(dir, 'annotations', `${split}.txt`);
  for (const e of parse(await readLines(file, FIX), file)) {
    if (e.image.replace(/_\d+$/, '') !== ids[e.classId - 1]) {
      throw new UsageError(`line ${e.line}: ${e.image} has CLASS-ID ${e.classId}, which other lines give to ${ids[e.classId - 1]}`, { file, fix: FIX });
    }
    const key = `${e.image}.jpg`;
    yield { key, path: path.join(dir, 'images', key), label: e.classId - 1 };
  }
}

export const oxfordPets = {
  id: 'oxford-pets',
  description: 'Oxford-IIIT Pet (Parkhi et al. 2012): 37 cat and dog breeds, labelled by CLASS-ID; the official test split of annotations/test.txt (3,669 images). Metric: mean per-class recall, as the paper.',
  splits: ['test', 'trainval'],
  layout: LAYOUT,
  expectedCount: { test: 3_669, trainval: 3_680 },
  defaultPrompts: 'oxford-pets',
  metric: 'mean-per-class-recall',
  classIds: async (root: string, split: string) => breeds(await locateDistribution(root, spec(split)), split),
  samples: petsSamples,
} as const satisfies DatasetAdapter;

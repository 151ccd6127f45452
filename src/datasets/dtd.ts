/**
 * DTD, the Describable Textures Dataset (Cimpoi et al. 2014), in its archive's layout: `dtd/images/<class>/*.jpg`
 * (47 class folders; sorted folder order is label order) and `dtd/labels/{train,val,test}<k>.txt` for the ten
 * official splits k = 1…10, one `<class>/<file>.jpg` a line. The paper's counts (3,760 train = train1 + val1,
 * 1,880 test) are those of split 1, so "test", "train" and "val" here are test1.txt, train1.txt and val1.txt
 * (1,880 images each), as torchvision's DTD(partition=1).
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { listDir } from './imagenet-fs.js';
import { labelIndex, locateDistribution, readLines, type DistributionSpec } from './split-files.js';
import type { DatasetAdapter, Sample } from './types.js';

const PARTITION = 1;
const LAYOUT = `ROOT/images/<class>/<class>_<nnnn>.jpg (47 class folders) and ROOT/labels/test${PARTITION}.txt, train${PARTITION}.txt, val${PARTITION}.txt (or the same under ROOT/dtd/, as the archive unpacks, or ROOT/dtd/dtd/, as torchvision's DTD keeps it)`;
/** A split needs only its own list. */
const spec = (split: string): DistributionSpec => ({ name: 'DTD', layout: LAYOUT, subs: ['dtd', 'dtd/dtd'], markers: ['images/', `labels/${split}${PARTITION}.txt`] });
const FIX = 'use the labels/ folder of the DTD archive (dtd-r1.0.1.tar.gz)';

async function classes(root: string, split: string): Promise<{ dir: string; ids: string[] }> {
  const dir = await locateDistribution(root, spec(split));
  return { dir, ids: (await listDir(path.join(dir, 'images'))).dirs };
}

async function* dtdSamples(root: string, split: string): AsyncGenerator<Sample> {
  const { dir, ids } = await classes(root, split);
  const label = labelIndex(ids, path.join(dir, 'images'), FIX);
  const file = path.join(dir, 'labels', `${split}${PARTITION}.txt`);
  for (const { n, text } of await readLines(file, FIX)) {
    const l = label.get(text.slice(0, Math.max(0, text.indexOf('/'))));
    if (l === undefined) throw new UsageError(`line ${n} is "${text}", not <class>/<file> with a class folder of images/`, { file, fix: FIX });
    yield { key: text, path: path.join(dir, 'images', text), label: l };
  }
}

export const dtd = {
  id: 'dtd',
  description: `DTD (Cimpoi et al. 2014): 47 texture classes; split ${PARTITION} of the ten official ones, as the paper's counts show: test = labels/test${PARTITION}.txt (1,880 images).`,
  splits: ['test', 'train', 'val'],
  layout: LAYOUT,
  expectedCount: { test: 1_880, train: 1_880, val: 1_880 },
  defaultPrompts: 'dtd',
  metric: 'top1',
  classIds: async (root: string, split: string) => (await classes(root, split)).ids,
  samples: dtdSamples,
} as const satisfies DatasetAdapter;

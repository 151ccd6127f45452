/**
 * NWPU-RESISC45 (Cheng et al. 2017): 31,500 aerial scenes, 700 per class, in 45 class folders
 * `NWPU-RESISC45/<class>/<class>_<nnn>.jpg`. The distribution defines no split. The paper (Table 9) uses 3,150
 * train and 25,200 test images — 70 and 560 per class, with 70 per class left for validation — but never
 * published which; CLIP_benchmark's VTAB version (tfds train[80%:], 6,300) depends on tfds's record order. So the
 * splits here are documented deterministic ones with the paper's sizes: within each class, ranked by the sha256
 * of "<class>/<file>" (`rankedSplit`), the first 560 are test, the next 70 train, the last 70 val.
 * Classes: the sorted folder names (torchvision's ImageFolder).
 */
import { listDir } from './imagenet-fs.js';
import { locateDistribution, rankedFolderSamples, type DistributionSpec, type SplitQuota } from './split-files.js';
import type { DatasetAdapter } from './types.js';

const QUOTAS: readonly SplitQuota[] = [
  { split: 'test', perClass: 560 },
  { split: 'train', perClass: 70 },
];

const SPEC: DistributionSpec = {
  name: 'NWPU-RESISC45',
  layout: 'ROOT/<class>/<class>_<nnn>.jpg for the 45 classes airplane … wetland (or ROOT/NWPU-RESISC45/<class>/, as the archive unpacks)',
  subs: ['NWPU-RESISC45'],
  markers: ['airplane/', 'wetland/'],
};

async function classes(root: string): Promise<{ dir: string; ids: string[] }> {
  const dir = await locateDistribution(root, SPEC);
  return { dir, ids: (await listDir(dir)).dirs };
}

export const resisc45 = {
  id: 'resisc45',
  description:
    'NWPU-RESISC45 (Cheng et al. 2017): 45 scene classes, 700 images each. No official split: within each class, ranked by sha256 of "<class>/<file>", the first 560 are test (25,200, the paper\'s test size; the paper\'s own selection is unpublished), the next 70 train (3,150), the last 70 val.',
  splits: ['test', 'train', 'val', 'all'],
  layout: SPEC.layout,
  expectedCount: { test: 25_200, train: 3_150, val: 3_150, all: 31_500 },
  defaultPrompts: 'resisc45',
  metric: 'top1',
  classIds: async (root: string) => (await classes(root)).ids,
  async *samples(root: string, split: string) {
    const { dir, ids } = await classes(root);
    yield* await rankedFolderSamples(dir, ids, QUOTAS, 'val', split);
  },
} as const satisfies DatasetAdapter;

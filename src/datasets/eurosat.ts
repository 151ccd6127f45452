/**
 * EuroSAT (Helber et al. 2019), the RGB version: 27,000 Sentinel-2 patches (64×64) in 10 land-use class folders,
 * `2750/<Class>/<Class>_<n>.jpg` (EuroSAT.zip) or `EuroSAT_RGB/<Class>/…` (EuroSAT_RGB.zip). The distribution
 * defines no split. The paper (Table 9) evaluates on 5,000 test images (10,000 train) but never published which;
 * CLIP_benchmark's torchvision version uses all 27,000 and its VTAB version (tfds train[80%:], 5,400) depends on
 * tfds's record order. So the test split here is a documented deterministic one with the paper's size:
 * 500 images per class chosen by `rankedSplit` (lowest sha256 of "<Class>/<file>"), i.e. 5,000; "train" the next
 * 1,000 per class (10,000); "all" every image. Classes: the sorted folder names (torchvision's ImageFolder).
 */
import { listDir } from './imagenet-fs.js';
import { locateDistribution, rankedFolderSamples, type DistributionSpec, type SplitQuota } from './split-files.js';
import type { DatasetAdapter } from './types.js';

/** the other 12,000 images (classes hold 2,000–3,000) are in no split but "all" */
const QUOTAS: readonly SplitQuota[] = [
  { split: 'test', perClass: 500 },
  { split: 'train', perClass: 1000 },
];

const SPEC: DistributionSpec = {
  name: 'EuroSAT (RGB)',
  layout: "ROOT/<Class>/<Class>_<n>.jpg for the 10 classes AnnualCrop … SeaLake (or ROOT/2750/<Class>/, ROOT/EuroSAT_RGB/<Class>/ as the archives unpack, or ROOT/eurosat/2750/<Class>/ as torchvision's EuroSAT keeps it)",
  subs: ['2750', 'EuroSAT_RGB', 'EuroSAT', 'EuroSAT/2750', 'eurosat/2750'],
  markers: ['AnnualCrop/', 'SeaLake/'],
};

async function classes(root: string): Promise<{ dir: string; ids: string[] }> {
  const dir = await locateDistribution(root, SPEC);
  return { dir, ids: (await listDir(dir)).dirs };
}

export const eurosat = {
  id: 'eurosat',
  description:
    'EuroSAT RGB (Helber et al. 2019): 10 land-use classes. No official split: test = 500 images per class with the lowest sha256 of "<Class>/<file>" (5,000, the paper\'s test size; the paper\'s own selection is unpublished), train = the next 1,000 per class, all = all 27,000.',
  splits: ['test', 'train', 'all'],
  layout: SPEC.layout,
  expectedCount: { test: 5_000, train: 10_000, all: 27_000 },
  defaultPrompts: 'eurosat',
  metric: 'top1',
  classIds: async (root: string) => (await classes(root)).ids,
  async *samples(root: string, split: string) {
    const { dir, ids } = await classes(root);
    yield* await rankedFolderSamples(dir, ids, QUOTAS, 'unassigned', split);
  },
} as const satisfies DatasetAdapter;

/**
 * Caltech-101 (Fei-Fei et al. 2004): `101_ObjectCategories/<class>/image_<nnnn>.jpg`, 101 object categories plus
 * BACKGROUND_Google. The paper keeps the background class: its Table 9 lists 102 classes and 3,060 = 30 × 102
 * training images, CLIP's prompt list names it ("background"), and CLIP_benchmark's caltech101 module is
 * torchvision's "where the background class is not removed". So here it is an ordinary class, in the classifier
 * and with its samples. The split is the usual protocol the paper follows — 30 training images per class, the
 * rest test — but the paper's draw is unpublished (tfds/VTAB draw with numpy's RNG over an unsorted directory
 * listing), so the 30 are chosen deterministically: the 30 with the lowest sha256 of "<class>/<file>"
 * (`rankedSplit`). Test: the other 6,084 of the 9,144 JPEGs (the paper reports 6,085); the stray non-image file
 * BACKGROUND_Google/tmp is skipped. Classes: the sorted folder names (torchvision's order).
 */
import { listDir } from './imagenet-fs.js';
import { locateDistribution, rankedFolderSamples, type DistributionSpec, type SplitQuota } from './split-files.js';
import type { DatasetAdapter } from './types.js';

const QUOTAS: readonly SplitQuota[] = [{ split: 'train', perClass: 30 }];

const SPEC: DistributionSpec = {
  name: 'Caltech-101',
  layout:
    'ROOT/<class>/image_<nnnn>.jpg for the 102 folders of 101_ObjectCategories (BACKGROUND_Google, Faces, … yin_yang), or ROOT/101_ObjectCategories/<class>/ (also under caltech101/ or caltech-101/)',
  subs: ['101_ObjectCategories', 'caltech101/101_ObjectCategories', 'caltech-101/101_ObjectCategories'],
  markers: ['BACKGROUND_Google/', 'Faces_easy/'],
};

async function classes(root: string): Promise<{ dir: string; ids: string[] }> {
  const dir = await locateDistribution(root, SPEC);
  return { dir, ids: (await listDir(dir)).dirs };
}

export const caltech101 = {
  id: 'caltech101',
  description:
    'Caltech-101 (Fei-Fei et al. 2004): 101 categories plus BACKGROUND_Google, kept as a class as the paper does (102 classes). Split as the paper\'s protocol, 30 training images per class and the rest test, with the 30 chosen deterministically (lowest sha256 of "<class>/<file>"; the paper\'s draw is unpublished).',
  splits: ['test', 'train', 'all'],
  layout: SPEC.layout,
  expectedCount: { test: 6_084, train: 3_060, all: 9_144 },
  defaultPrompts: 'caltech101',
  metric: 'mean-per-class-recall',
  classIds: async (root: string) => (await classes(root)).ids,
  async *samples(root: string, split: string) {
    const { dir, ids } = await classes(root);
    yield* await rankedFolderSamples(dir, ids, QUOTAS, 'test', split);
  },
} as const satisfies DatasetAdapter;

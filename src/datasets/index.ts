/** Every dataset adapter, in one explicit map. Adding a dataset means adding a line here. */
import { unknownName } from '../errors.js';
import { classFolders, imagefolder as plainImagefolder } from './imagefolder.js';
import { imagenet, imagenetSubsetPlan } from './imagenet.js';
import { objectnet } from './imagenet-objectnet.js';
import { imagenetA, imagenetR, imagenetSketch, imagenetV2 } from './imagenet-variants.js';
import type { DatasetAdapter } from './types.js';

/**
 * ImageFolder, ImageNet-aware: when every class folder is an ImageNet WordNet id, the classifier is built
 * from ImageNet's curated names and templates for exactly those classes (an ImageNet subset needs no files).
 */
const imagefolder = {
  ...plainImagefolder,
  description: `${plainImagefolder.description} Folders named by ImageNet WordNet ids get ImageNet's curated names and 80 templates.`,
  defaultPrompts: (classIds: readonly string[]) => (imagenetSubsetPlan(classIds) ? 'imagenet' : 'single'),
  classifierPlan: async (root: string) => imagenetSubsetPlan(await classFolders(root)),
} satisfies DatasetAdapter;

export const DATASETS = {
  imagefolder,
  imagenet,
  'imagenet-v2': imagenetV2,
  'imagenet-sketch': imagenetSketch,
  'imagenet-r': imagenetR,
  'imagenet-a': imagenetA,
  objectnet,
} as const satisfies Record<string, DatasetAdapter>;

export type DatasetId = keyof typeof DATASETS;

export function getDataset(id: string): DatasetAdapter {
  if (!Object.hasOwn(DATASETS, id)) throw unknownName('dataset', id, Object.keys(DATASETS));
  return DATASETS[id as DatasetId];
}

export type { DatasetAdapter, Sample } from './types.js';

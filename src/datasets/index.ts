/** Every dataset adapter, in one explicit map. Adding a dataset means adding a line here. */
import { unknownName } from '../errors.js';
import { classFolders, imagefolder as plainImagefolder } from './imagefolder.js';
import { imagenet, imagenetSubsetPlan } from './imagenet.js';
import { objectnet } from './imagenet-objectnet.js';
import { imagenetA, imagenetR, imagenetSketch, imagenetV2 } from './imagenet-variants.js';
import { manifest } from './manifest.js';
import { webdataset } from './webdataset.js';
import { caltech101 } from './caltech101.js';
import { dtd } from './dtd.js';
import { eurosat } from './eurosat.js';
import { fgvcAircraft } from './fgvc-aircraft.js';
import { flowers102 } from './flowers102.js';
import { food101 } from './food101.js';
import { oxfordPets } from './pets.js';
import { resisc45 } from './resisc45.js';
import { stanfordCars } from './stanford-cars.js';
import { sun397 } from './sun397.js';
import { birdsnap } from './birdsnap.js';
import { clevrCounts } from './clevr.js';
import { country211 } from './country211.js';
import { gtsrb } from './gtsrb.js';
import { hatefulMemes } from './hateful-memes.js';
import { kinetics700 } from './kinetics700.js';
import { kitti } from './kitti.js';
import { renderedSst2 } from './rendered-sst2.js';
import { ucf101 } from './ucf101.js';
import { voc2007 } from './voc2007.js';
import { cifar10, cifar100 } from './cifar.js';
import { fer2013 } from './fer2013.js';
import { mnist } from './mnist.js';
import { pcam } from './pcam.js';
import { stl10 } from './stl10.js';
import type { DatasetAdapter } from './types.js';

/**
 * ImageFolder, ImageNet-aware: when every class folder is an ImageNet WordNet id, the classifier is built
 * from ImageNet's curated names and templates for exactly those classes (an ImageNet subset needs no files).
 */
const imagefolder = {
  ...plainImagefolder,
  description: `${plainImagefolder.description} Folders named by ImageNet WordNet ids get ImageNet's curated names and 80 templates.`,
  defaultPrompts: (classIds: readonly string[]) => (imagenetSubsetPlan(classIds) ? 'imagenet' : 'single'),
  defaultPromptsNote: 'single; imagenet for WordNet-id folders',
  classifierPlan: async (root: string) => imagenetSubsetPlan(await classFolders(root)),
} satisfies DatasetAdapter;

// Generic layouts first, then the ImageNet family, then the paper's other benchmarks in Table 11's order.
export const DATASETS = {
  imagefolder,
  webdataset,
  manifest,
  imagenet,
  'imagenet-v2': imagenetV2,
  'imagenet-sketch': imagenetSketch,
  'imagenet-r': imagenetR,
  'imagenet-a': imagenetA,
  objectnet,
  food101,
  cifar10,
  cifar100,
  birdsnap,
  sun397,
  'stanford-cars': stanfordCars,
  'fgvc-aircraft': fgvcAircraft,
  voc2007,
  dtd,
  'oxford-pets': oxfordPets,
  caltech101,
  flowers102,
  mnist,
  fer2013,
  stl10,
  eurosat,
  resisc45,
  gtsrb,
  kitti,
  country211,
  pcam,
  ucf101,
  kinetics700,
  'clevr-counts': clevrCounts,
  'hateful-memes': hatefulMemes,
  sst2: renderedSst2,
} as const satisfies Record<string, DatasetAdapter>;

export type DatasetId = keyof typeof DATASETS;

export function getDataset(id: string): DatasetAdapter {
  if (!Object.hasOwn(DATASETS, id)) throw unknownName('dataset', id, Object.keys(DATASETS));
  return DATASETS[id as DatasetId];
}

export type { DatasetAdapter, Sample } from './types.js';

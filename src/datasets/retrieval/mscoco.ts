/**
 * MSCOCO captions on Karpathy's split (test: 5,000 val2014 images, 25,010 captions: most images have 5, some
 * 6 or 7, all kept). Every COCO layout orders images by COCO image id, as torchvision's CocoCaptions (which
 * CLIP_benchmark reads) does, and keys them `<val2014|train2014>/<file name>`, so every layout gives the
 * same images, keys and caption order per image.
 */
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { isFile } from '../imagenet-fs.js';
import { assemble, filesPresent, noImagesError, type ListedImage } from './assemble.js';
import { readCocoCaptions, type CocoImage } from './coco-captions.js';
import { KARPATHY_FIX, readKarpathySplit, type KarpathyImage } from './karpathy.js';
import { describeLayouts, locateRetrieval, WDS_RETRIEVAL, type RetrievalLayout } from './locate.js';
import type { RetrievalAdapter, RetrievalData } from './types.js';

const KARPATHY_FILE = 'dataset_coco.json';
const clipBenchmarkFile = (split: string) => `coco_${split}_karpathy.json`;
const officialFile = (folder: string) => `annotations/captions_${folder}.json`;
/** CLIP_benchmark's image folder per split: train2014 for train, val2014 otherwise. */
const clipBenchmarkFolder = (split: string) => (split === 'train' ? 'train2014' : 'val2014');

interface CocoListed {
  cocoid: number;
  folder: string;
  fileName: string;
  captions: string[];
}

/** Sorted by COCO id, checked against the disk; every image absent is an error, some absent a count. */
async function onDisk(root: string, annotations: string, listed: CocoListed[], source: string): Promise<RetrievalData> {
  listed.sort((a, b) => a.cocoid - b.cocoid);
  const images: ListedImage[] = listed.map((im) => ({ key: `${im.folder}/${im.fileName}`, path: path.join(root, im.folder, im.fileName), captions: im.captions }));
  const present = await filesPresent(images.map((im) => im.path));
  if (!present.some(Boolean)) throw await noImagesError(annotations, images.length, images[0].key, [...new Set(listed.map((im) => im.folder))], root);
  return assemble(images, present, source);
}

function withCaptions(file: string, image: CocoImage): CocoImage {
  if (image.captions.length === 0) throw new UsageError(`${image.where} (id ${image.id}, ${image.fileName}) has no caption in "annotations"`, { file, fix: 'use the annotation file as distributed' });
  return image;
}

/** Karpathy's COCO fields, which its COCO file always has. */
function cocoFields(file: string, im: KarpathyImage): { cocoid: number; folder: string } {
  if (im.cocoid === undefined) throw new UsageError(`${im.where}.cocoid is missing, expected the COCO image id`, { file, fix: KARPATHY_FIX });
  if (im.filepath === undefined || !/^[\w-]+$/.test(im.filepath)) {
    throw new UsageError(`${im.where}.filepath is ${im.filepath === undefined ? 'missing' : JSON.stringify(im.filepath)}, expected the image folder (val2014 or train2014)`, { file, fix: KARPATHY_FIX });
  }
  return { cocoid: im.cocoid, folder: im.filepath };
}

const layouts: RetrievalLayout[] = [
  {
    expects: `ROOT/${clipBenchmarkFile('<split>')} (CLIP_benchmark's annotations, COCO captions format) with the images in ROOT/val2014/ (ROOT/train2014/ for train)`,
    fits: (root, split) => isFile(path.join(root, clipBenchmarkFile(split))),
    async read(root, split) {
      const file = path.join(root, clipBenchmarkFile(split));
      const folder = clipBenchmarkFolder(split);
      const listed = [...(await readCocoCaptions(file)).values()].map((im) => ({ cocoid: im.id, folder, fileName: im.fileName, captions: withCaptions(file, im).captions }));
      if (listed.length === 0) throw new UsageError('"images" is empty, expected the split\'s images', { file, fix: 'use the annotation file as distributed' });
      return onDisk(root, file, listed, `CLIP_benchmark ${clipBenchmarkFile(split)}, images in ${folder}/`);
    },
  },
  {
    expects: `ROOT/${officialFile('val2014')} (+ ${officialFile('train2014')} for train and restval images outside val2014) with Karpathy's split from ROOT/${KARPATHY_FILE}, images in ROOT/val2014/, ROOT/train2014/`,
    fits: async (root) => (await isFile(path.join(root, officialFile('val2014')))) && (await isFile(path.join(root, KARPATHY_FILE))),
    async read(root, split) {
      const karpathyFile = path.join(root, KARPATHY_FILE);
      const wanted = (await readKarpathySplit(karpathyFile, 'coco', split)).map((im) => ({ im, ...cocoFields(karpathyFile, im) }));
      const official = new Map<string, Map<number, CocoImage>>();
      for (const folder of new Set(wanted.map((w) => w.folder))) {
        const file = path.join(root, officialFile(folder));
        if (!(await isFile(file))) {
          throw new UsageError(`split ${split} has images in ${folder}/, whose captions file ${officialFile(folder)} is absent`, { file: root, fix: `extract ${officialFile(folder)} from COCO's annotations_trainval2014.zip` });
        }
        official.set(folder, await readCocoCaptions(file));
      }
      const listed = wanted.map(({ im, cocoid, folder }) => {
        const file = path.join(root, officialFile(folder));
        const image = official.get(folder)!.get(cocoid);
        if (!image) throw new UsageError(`${KARPATHY_FILE} ${im.where} (cocoid ${cocoid}) is not an image of ${officialFile(folder)}`, { file, fix: `use COCO's 2014 annotations with Karpathy's ${KARPATHY_FILE}` });
        if (image.fileName !== im.filename) {
          throw new UsageError(`${image.where}.file_name is ${image.fileName} but ${KARPATHY_FILE} ${im.where} names cocoid ${cocoid} ${im.filename}`, { file, fix: `use COCO's 2014 annotations with Karpathy's ${KARPATHY_FILE}` });
        }
        return { cocoid, folder, fileName: image.fileName, captions: withCaptions(file, image).captions };
      });
      return onDisk(root, karpathyFile, listed, `COCO ${[...official.keys()].map(officialFile).join(' + ')} with Karpathy's split ${split} from ${KARPATHY_FILE}`);
    },
  },
  {
    expects: `ROOT/${KARPATHY_FILE} (Karpathy's splits) with the images in ROOT/val2014/, ROOT/train2014/`,
    fits: (root) => isFile(path.join(root, KARPATHY_FILE)),
    async read(root, split) {
      const file = path.join(root, KARPATHY_FILE);
      const listed = (await readKarpathySplit(file, 'coco', split)).map((im) => ({ ...cocoFields(file, im), fileName: im.filename, captions: im.captions }));
      return onDisk(root, file, listed, `Karpathy ${KARPATHY_FILE} split ${split}`);
    },
  },
  WDS_RETRIEVAL,
];

const splits = ['test', 'val', 'train', 'restval'] as const;

export const mscoco: RetrievalAdapter = {
  id: 'mscoco',
  description:
    "MSCOCO image–caption retrieval on Karpathy's split (test: 5,000 images, 25,010 captions — the images with 6 or 7 captions keep them all), as the CLIP paper's Table 13 and CLIP_benchmark measure it.",
  splits,
  layout: describeLayouts(layouts),
  expectedCount: { test: { images: 5000, captions: 25010 } },
  load: (root, split) => locateRetrieval('mscoco', splits, layouts, root, split),
};

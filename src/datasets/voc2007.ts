/**
 * PASCAL VOC 2007 classification, multi-label, in the devkit's own layout: per class
 * `ImageSets/Main/<class>_<split>.txt` with lines `<image id> <1|-1|0>` (present, absent, difficult) and
 * `JPEGImages/<image id>.jpg`. Every class's logit is kept and scored with the VOC2007 11-point mAP, where
 * difficult images are ignored per class. The test annotations ship separately (VOCtest_06-Nov-2007.tar)
 * and unpack into the same VOCdevkit/VOC2007/.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { firstFitting, isDirectory, layoutMismatch, listDir, nonEmptyLines, readTextFile, some } from './benchmark-fs.js';
import type { DatasetAdapter, Sample } from './types.js';

/** The official class names, in the devkit's (alphabetical) label order. */
export const VOC_CLASSES = [
  'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
] as const;

export const VOC_PRESENT = 1;
export const VOC_ABSENT = 0;
export const VOC_DIFFICULT = 255;

const LAYOUT = 'ROOT/VOCdevkit/VOC2007/ImageSets/Main/<class>_test.txt and ROOT/VOCdevkit/VOC2007/JPEGImages/<id>.jpg (or ROOT = VOCdevkit/ or VOCdevkit/VOC2007/)';
const FIX = 'extract VOCtest_06-Nov-2007.tar (and VOCtrainval_06-Nov-2007.tar for the other splits) into the folder passed as --root';

/** `<class>_<split>.txt` → image ids in file order with each one's flag (1, -1 or 0). */
export function parseVocClassFile(text: string, file: string): { ids: string[]; flags: Map<string, number> } {
  const ids: string[] = [];
  const flags = new Map<string, number>();
  for (const line of nonEmptyLines(text)) {
    const m = /^\s*(\S+)\s+(-1|0|1)$/.exec(line);
    if (!m) throw new UsageError(`expected "<image id> 1|-1|0", found "${line.slice(0, 60)}"`, { file, fix: 'use the ImageSets/Main files of the VOC2007 devkit' });
    if (flags.has(m[1])) throw new UsageError(`image ${m[1]} is listed twice`, { file, fix: 'use the ImageSets/Main files of the VOC2007 devkit' });
    ids.push(m[1]);
    flags.set(m[1], Number(m[2]));
  }
  return { ids, flags };
}

/** Per image (in the first class file's order): targets per class, 1 present / 0 absent / 255 difficult. */
export async function vocTargets(mainDir: string, split: string): Promise<{ ids: string[]; targets: Uint8Array[] }> {
  let ids: string[] | undefined;
  let targets: Uint8Array[] = [];
  for (let c = 0; c < VOC_CLASSES.length; c++) {
    const file = path.join(mainDir, `${VOC_CLASSES[c]}_${split}.txt`);
    const parsed = parseVocClassFile(await readTextFile(file, split === 'test' ? 'extract VOCtest_06-Nov-2007.tar (the test annotations) into the same VOCdevkit/' : FIX), file);
    if (!ids) {
      ids = parsed.ids;
      targets = ids.map(() => new Uint8Array(VOC_CLASSES.length));
    }
    if (parsed.ids.length !== ids.length || ids.some((id) => !parsed.flags.has(id))) {
      throw new UsageError(`lists ${parsed.ids.length} images, not the same ${ids.length} as ${VOC_CLASSES[0]}_${split}.txt`, { file, fix: 'use the ImageSets/Main files of one VOC2007 devkit' });
    }
    ids.forEach((id, i) => {
      const f = parsed.flags.get(id)!;
      targets[i][c] = f === 1 ? VOC_PRESENT : f === 0 ? VOC_DIFFICULT : VOC_ABSENT;
    });
  }
  return { ids: ids!, targets };
}

/** The display label: the first present class, else the first difficult one, else 0. */
export function vocDisplayLabel(targets: Uint8Array): number {
  const present = targets.indexOf(VOC_PRESENT);
  if (present >= 0) return present;
  return Math.max(0, targets.indexOf(VOC_DIFFICULT));
}

async function findVoc(root: string, split: string): Promise<string> {
  const fits = async (d: string) => (await isDirectory(path.join(d, 'ImageSets', 'Main'))) && (await isDirectory(path.join(d, 'JPEGImages')));
  const dir = await firstFitting(root, ['', 'VOC2007', path.join('VOCdevkit', 'VOC2007')], fits);
  if (!dir) throw await layoutMismatch(root, LAYOUT.replace('_test', `_${split}`), FIX, 'no VOC2007 folder with ImageSets/Main/ and JPEGImages/');
  return dir;
}

async function* vocSamples(root: string, split: string): AsyncGenerator<Sample> {
  const dir = await findVoc(root, split);
  const { ids, targets } = await vocTargets(path.join(dir, 'ImageSets', 'Main'), split);
  const jpegs = new Set((await listDir(path.join(dir, 'JPEGImages'))).files);
  const missing = ids.filter((id) => !jpegs.has(`${id}.jpg`));
  if (missing.length) throw new UsageError(`${missing.length} of the ${ids.length} ${split} images are not in JPEGImages/: ${some(missing)}`, { file: path.join(dir, 'JPEGImages'), fix: FIX });
  for (let i = 0; i < ids.length; i++) {
    yield { key: `JPEGImages/${ids[i]}.jpg`, path: path.join(dir, 'JPEGImages', `${ids[i]}.jpg`), label: vocDisplayLabel(targets[i]), targets: targets[i] };
  }
}

export const voc2007 = {
  id: 'voc2007',
  description:
    'PASCAL VOC 2007 classification test set: 4,952 images, 20 classes, multi-label (targets from ImageSets/Main/<class>_test.txt; difficult = ignored). Scored with the 11-point mAP over every class logit; the stored label is the first present class, for display.',
  splits: ['test', 'trainval', 'train', 'val'],
  layout: LAYOUT,
  expectedCount: { test: 4_952, trainval: 5_011, train: 2_501, val: 2_510 },
  defaultPrompts: 'voc2007',
  metric: 'map-11pt',
  multiLabel: true,
  async classIds(root: string, split: string) {
    await findVoc(root, split);
    return [...VOC_CLASSES];
  },
  samples: (root: string, split: string) => vocSamples(root, split),
} as const satisfies DatasetAdapter;

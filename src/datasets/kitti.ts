/**
 * KITTI closest-vehicle distance (VTAB `kitti(task="closest_vehicle_distance")`), computed from the KITTI
 * object-detection distribution: `training/image_2/*.png`, `training/label_2/*.txt` and the object devkit's
 * `mapping/{train_rand.txt,train_mapping.txt}`.
 *
 * Split (TFDS `kitti:3.1.0`, which VTAB uses; KITTI's own test images have no labels): the 7,481 labelled
 * training images are grouped by the raw-data drive ("video") each comes from (`train_rand.txt` gives, per
 * image, its 1-based line in `train_mapping.txt`, whose 2nd field is the drive); with numpy's legacy RNG
 * seeded 123, `choice(sorted(drives), ⌊10%·#drives⌋, replace=False)` are the test drives, then the same of
 * the remaining sorted drives the validation drives; every image of a drive is in its split.
 * test = 711 images, validation = 423, train = 6,347.
 *
 * Label (VTAB `_closest_vehicle_distance_pp`): the objects other than DontCare; z (depth, metres) of the
 * Car, Van and Truck objects, plus 1000; dist = their minimum, in float32 as TFDS stores it; label = the
 * largest i with thrs[i] < dist for thrs = [-100, 8, 20, 999]: 0 = up to 8 m, 1 = (8, 20], 2 = (20, 999],
 * 3 = no vehicle.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { byCodePoint } from './imagefolder.js';
import { firstFitting, isDirectory, isFile, layoutMismatch, listDir, nonEmptyLines, readTextFile, some } from './benchmark-fs.js';
import { LegacyRandomState } from './numpy-random.js';
import type { DatasetAdapter, Sample } from './types.js';

const LAYOUT =
  "ROOT/training/image_2/000000.png …, ROOT/training/label_2/000000.txt … (data_object_image_2.zip, data_object_label_2.zip) and ROOT/mapping/{train_rand.txt,train_mapping.txt} (devkit_object.zip; or ROOT/devkit_object/mapping/); training/ may also be under ROOT/Kitti/raw/, as torchvision's Kitti keeps it, with mapping/ there or in ROOT";
/** where the object data may be: ROOT itself, torchvision's Kitti/raw/ (or raw/ with ROOT = Kitti/) */
const DATA_DIRS = ['', path.join('Kitti', 'raw'), 'raw'];
const FIX = 'extract data_object_image_2.zip, data_object_label_2.zip and devkit_object.zip into the folder passed as --root';
const MAPPING_DIRS = ['mapping', path.join('devkit_object', 'mapping'), path.join('devkit', 'mapping')];

/** TFDS kitti's object types; DontCare rows are dropped. Types 0–2 are vehicles. */
const OBJECT_TYPES = ['Car', 'Van', 'Truck', 'Pedestrian', 'Person_sitting', 'Cyclist', 'Tram', 'Misc'];
const VEHICLES = new Set(['Car', 'Van', 'Truck']);
const THRESHOLDS = [-100, 8, 20, 999];
const NO_VEHICLE_Z = 1000;
/** percentage of drives in the test and in the validation split (TFDS) */
const SPLIT_PERCENT = 10;
const SEED = 123;

export const KITTI_SPLITS = ['test', 'validation', 'train'] as const;
type KittiSplit = (typeof KITTI_SPLITS)[number];

/** VTAB's bucket of the closest vehicle's depth, from the rows of one label_2 file. */
export function closestVehicleLabel(labelText: string, file = 'label file'): number {
  let dist = NO_VEHICLE_Z;
  for (const line of nonEmptyLines(labelText)) {
    const f = line.split(' ');
    if (f[0] === 'DontCare') continue;
    if (f.length !== 15) throw new UsageError(`expected 15 space-separated fields per object, found ${f.length} in "${line.slice(0, 60)}"`, { file, fix: 'use the label_2 files of data_object_label_2.zip' });
    if (!OBJECT_TYPES.includes(f[0])) throw new UsageError(`unknown object type "${f[0]}"`, { file, fix: `KITTI types are ${OBJECT_TYPES.join(', ')}, DontCare` });
    const z = Math.fround(Number(f[13]));
    if (Number.isNaN(z)) throw new UsageError(`the z location "${f[13]}" is not a number`, { file, fix: 'use the label_2 files of data_object_label_2.zip' });
    if (VEHICLES.has(f[0]) && z < dist) dist = z;
  }
  let label = -1;
  THRESHOLDS.forEach((t, i) => {
    if (t < dist) label = i;
  });
  if (label < 0) throw new UsageError(`the closest vehicle is at z = ${dist} m, below VTAB's lowest bucket`, { file, fix: 'use the label_2 files of data_object_label_2.zip' });
  return label;
}

/**
 * TFDS's split of the labelled training images into test / validation / train image ids (0-based,
 * the number in `000123.png`), from the devkit's mapping files.
 */
export function kittiSplits(trainRand: string, trainMapping: string): Record<KittiSplit, number[]> {
  const lineIds = trainRand.split(',').map((x) => Number(x.trim()) - 1);
  const lines = trainMapping.split('\n');
  const videoOf = new Map<string, number[]>();
  lineIds.forEach((lineId, imageId) => {
    const line = lines[lineId];
    const video = line?.split(' ')[1];
    if (!Number.isInteger(lineId) || video === undefined) throw new RangeError(`image ${imageId}: train_rand.txt points to line ${lineId + 1} of train_mapping.txt, which has no drive`);
    videoOf.set(video, [...(videoOf.get(video) ?? []), imageId]);
  });
  const rng = new LegacyRandomState(SEED);
  const videos = [...videoOf.keys()].sort(byCodePoint);
  const count = Math.max(1, Math.floor((SPLIT_PERCENT * videos.length) / 100));
  const test = new Set(rng.choiceWithoutReplacement(videos, count));
  const validation = new Set(rng.choiceWithoutReplacement(videos.filter((v) => !test.has(v)), count));
  const ids = (keep: (v: string) => boolean) => [...videoOf].filter(([v]) => keep(v)).flatMap(([, imgs]) => imgs).sort((a, b) => a - b);
  return { test: ids((v) => test.has(v)), validation: ids((v) => validation.has(v)), train: ids((v) => !test.has(v) && !validation.has(v)) };
}

async function findKitti(root: string): Promise<{ images: string; labels: string; mapping: string }> {
  const data = await firstFitting(root, DATA_DIRS, async (d) => (await isDirectory(path.join(d, 'training', 'image_2'))) && (await isDirectory(path.join(d, 'training', 'label_2'))));
  if (!data) throw await layoutMismatch(root, LAYOUT, FIX, 'no training/image_2/ with training/label_2/');
  const images = path.join(data, 'training', 'image_2');
  const labels = path.join(data, 'training', 'label_2');
  const hasMapping = async (d: string) => (await isFile(path.join(d, 'train_rand.txt'))) && (await isFile(path.join(d, 'train_mapping.txt')));
  const mapping = (await firstFitting(data, MAPPING_DIRS, hasMapping)) ?? (data === root ? undefined : await firstFitting(root, MAPPING_DIRS, hasMapping));
  if (!mapping) {
    throw new UsageError("found training/image_2/ and training/label_2/ but not the devkit's mapping/train_rand.txt and mapping/train_mapping.txt, which define the split", {
      file: root,
      fix: 'extract devkit_object.zip into ROOT (it holds mapping/)',
    });
  }
  return { images, labels, mapping };
}

async function* kittiSamples(root: string, split: string): AsyncGenerator<Sample> {
  const { images, labels, mapping } = await findKitti(root);
  const randFile = path.join(mapping, 'train_rand.txt');
  let ids: number[];
  try {
    ids = kittiSplits(await readTextFile(randFile, FIX), await readTextFile(path.join(mapping, 'train_mapping.txt'), FIX))[split as KittiSplit];
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message, { file: randFile, fix: 'use the mapping files of devkit_object.zip' });
    throw err;
  }
  const names = ids.map((id) => String(id).padStart(6, '0'));
  const pngs = new Set((await listDir(images)).files);
  const txts = new Set((await listDir(labels)).files);
  const missing = names.filter((n) => !pngs.has(`${n}.png`) || !txts.has(`${n}.txt`));
  if (missing.length) throw new UsageError(`${missing.length} of the ${names.length} ${split} images lack their .png or label .txt: ${some(missing)}`, { file: path.join(root, 'training'), fix: FIX });
  for (const n of names) {
    const labelFile = path.join(labels, `${n}.txt`);
    yield { key: `training/image_2/${n}.png`, path: path.join(images, `${n}.png`), label: closestVehicleLabel(await readTextFile(labelFile, FIX), labelFile) };
  }
}

export const kitti = {
  id: 'kitti',
  description:
    "KITTI closest-vehicle distance (VTAB kitti/closest_vehicle_distance): depth of the nearest car, van or truck in 4 buckets (≤ 8 m, ≤ 20 m, > 20 m, none) from the label_2 files. Splits are TFDS kitti:3.1.0's, made by drive from the devkit's mapping files (test = VTAB's test, 711 images).",
  splits: KITTI_SPLITS,
  layout: LAYOUT,
  expectedCount: { test: 711, validation: 423, train: 6_347 },
  defaultPrompts: 'kitti',
  metric: 'top1',
  async classIds(root: string) {
    await findKitti(root);
    return ['0', '1', '2', '3'];
  },
  samples: (root: string, split: string) => kittiSamples(root, split),
} as const satisfies DatasetAdapter;

/**
 * CLEVR counts (VTAB `clevr(task="count_all")`), read from the CLEVR v1.0 distribution: the images of a
 * split with the scene graphs of `scenes/CLEVR_<split>_scenes.json`. The label is the number of objects in
 * the scene (3–10; VTAB's label is this count minus 3, the class id here is the count itself).
 *
 * VTAB's test split is TFDS clevr's "validation" split, i.e. CLEVR v1.0 `val` (15,000 images); its train
 * and val splits are the first 90% / last 10% of CLEVR `train`. The CLIP paper evaluated a smaller,
 * unpublished subset of these; this adapter evaluates the whole `val` split.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { firstFitting, isDirectory, isFile, layoutMismatch, listDir, parseJson, readTextFile, some } from './benchmark-fs.js';
import type { DatasetAdapter, Sample } from './types.js';

export const CLEVR_COUNT_IDS = ['3', '4', '5', '6', '7', '8', '9', '10'] as const;
const LAYOUT = "ROOT/CLEVR_v1.0/images/{val,train}/*.png with ROOT/CLEVR_v1.0/scenes/CLEVR_{val,train}_scenes.json (or ROOT = CLEVR_v1.0/, or ROOT/clevr/CLEVR_v1.0/ as torchvision's CLEVRClassification keeps it)";
const FIX = 'pass the folder CLEVR_v1.0.zip was extracted into, or CLEVR_v1.0/ itself';

/** Per scene of a CLEVR scenes file: its image file and object count. */
export function parseClevrScenes(raw: unknown, file: string): { image: string; count: number }[] {
  const scenes = (raw as { scenes?: unknown } | null)?.scenes;
  if (!Array.isArray(scenes)) throw new UsageError('expected {"scenes": [...]} (a CLEVR scenes file)', { file, fix: 'use the scenes file of the CLEVR v1.0 distribution' });
  return scenes.map((s: { image_filename?: unknown; objects?: unknown }, i) => {
    if (typeof s?.image_filename !== 'string' || !Array.isArray(s.objects)) {
      throw new UsageError(`scene ${i} has no image_filename or objects list`, { file, fix: 'use the scenes file of the CLEVR v1.0 distribution' });
    }
    return { image: s.image_filename, count: s.objects.length };
  });
}

async function findClevr(root: string, split: string): Promise<{ imageDir: string; scenes: string }> {
  const fits = async (d: string) => (await isDirectory(path.join(d, 'images', split))) && (await isFile(path.join(d, 'scenes', `CLEVR_${split}_scenes.json`)));
  const dir = await firstFitting(root, ['', 'CLEVR_v1.0', path.join('clevr', 'CLEVR_v1.0')], fits);
  if (!dir) throw await layoutMismatch(root, LAYOUT, FIX, `no images/${split}/ with scenes/CLEVR_${split}_scenes.json`);
  return { imageDir: path.join(dir, 'images', split), scenes: path.join(dir, 'scenes', `CLEVR_${split}_scenes.json`) };
}

async function* clevrSamples(root: string, split: string): AsyncGenerator<Sample> {
  const { imageDir, scenes } = await findClevr(root, split);
  const rows = parseClevrScenes(parseJson(await readTextFile(scenes, FIX), scenes, FIX), scenes);
  const present = new Set((await listDir(imageDir)).files);
  const missing = rows.filter((r) => !present.has(r.image)).map((r) => r.image);
  if (missing.length) throw new UsageError(`${missing.length} of the ${rows.length} scenes' images are not in ${imageDir}: ${some(missing)}`, { file: scenes, fix: 'extract all of CLEVR_v1.0.zip' });
  for (const r of rows) {
    const label = CLEVR_COUNT_IDS.indexOf(String(r.count) as (typeof CLEVR_COUNT_IDS)[number]);
    if (label < 0) throw new UsageError(`the scene of ${r.image} has ${r.count} objects; CLEVR counts are 3–10`, { file: scenes, fix: 'use the scenes file of the CLEVR v1.0 distribution' });
    yield { key: `${split}/${r.image}`, path: path.join(imageDir, r.image), label };
  }
}

export const clevrCounts = {
  id: 'clevr-counts',
  description:
    "CLEVR counts (VTAB clevr/count_all): how many objects (3–10) a rendered CLEVR scene holds. Split val = VTAB's test split (TFDS clevr validation = CLEVR v1.0 val, 15,000 images; the paper's smaller test subset is not published); labels from the scenes JSON.",
  splits: ['val', 'train'],
  layout: LAYOUT,
  expectedCount: { val: 15_000, train: 70_000 },
  defaultPrompts: 'clevr-counts',
  metric: 'top1',
  async classIds(root: string, split: string) {
    await findClevr(root, split);
    return [...CLEVR_COUNT_IDS];
  },
  samples: (root: string, split: string) => clevrSamples(root, split),
} as const satisfies DatasetAdapter;

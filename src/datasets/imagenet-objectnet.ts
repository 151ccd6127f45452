/**
 * ObjectNet (Barbu et al. 2019), the variant the robustness literature and CLIP report: only the 113 ObjectNet
 * classes that overlap ImageNet-1k, each scored by the max logit over the ImageNet classes mapped to it,
 * with ObjectNet's 2-pixel border cropped off (Taori et al. 2020; the wise-ft/model-soups code).
 *
 * The mapping is read from the user's copy of the distribution (`objectnet-1.0/mappings/`), never embedded:
 *  - `folder_to_objectnet_label.json`: image folder → ObjectNet class name (313 classes);
 *  - `objectnet_to_imagenet_1k.json`: ObjectNet class name → ImageNet class names joined by "; " (the 113 overlapping
 *    classes; each ImageNet name is a full synset label such as "analog clock" or "mouse, computer mouse");
 *  - `imagenet_to_label_2012_v2`: one ImageNet class name per line; line i is ImageNet "2012 id" i;
 *  - `pytorch_to_imagenet_2012_id.json`: PyTorch class index → that 2012 id.
 * So a name resolves to a line, the line to a PyTorch class index, exactly as the reference code does.
 * Assumption (documented, not checkable from ObjectNet's files): the PyTorch class index is the position of the
 * class's wnid in the 1000 sorted wnids, i.e. torchvision's ImageFolder order, which is clip-bench's class index.
 * An ImageNet name that matches no line, or more than one (ImageNet has two "crane" lines), is an error rather
 * than a guess.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { byCodePoint } from './imagefolder.js';
import { isDirectory, isFile, listDir, nonEmptyFolderSamples } from './imagenet-fs.js';
import { requireDirectory } from './imagefolder.js';
import type { ClassifierPlan, DatasetAdapter } from './types.js';
import { imagenetWnids } from './wnids.js';

export const OBJECTNET_MAPPINGS = {
  folderToLabel: 'folder_to_objectnet_label.json',
  objectnetToImagenet: 'objectnet_to_imagenet_1k.json',
  imagenetLabels: 'imagenet_to_label_2012_v2',
  pytorchTo2012: 'pytorch_to_imagenet_2012_id.json',
} as const;

export type ObjectNetMappingKey = keyof typeof OBJECTNET_MAPPINGS;

export interface ObjectNetClass {
  /** image folder name, e.g. "alarm_clock": the dataset's class id */
  folder: string;
  /** ObjectNet class name, e.g. "Alarm clock" */
  name: string;
  /** ImageNet class indices (positions in the sorted wnids) mapped to it */
  imagenetIndices: number[];
}

const FIX = 'use the mappings/ folder of the ObjectNet 1.0 distribution unchanged';

function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`not valid JSON: ${(err as Error).message}`, { file, fix: FIX });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError('expected a JSON object', { file, fix: FIX });
  return raw as Record<string, unknown>;
}

function stringMap(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(parseJsonObject(text, file))) {
    if (typeof v !== 'string') throw new UsageError(`the value of ${JSON.stringify(k)} is not a string`, { file, fix: FIX });
    out.set(k, v);
  }
  return out;
}

/**
 * The 113 (in ObjectNet 1.0) overlapping classes, sorted by folder name, from the four mapping files' texts.
 * `files` names each file in errors.
 */
export function objectnetClasses(texts: Record<ObjectNetMappingKey, string>, files: Record<ObjectNetMappingKey, string>): ObjectNetClass[] {
  // ObjectNet name → folder
  const folderOf = new Map<string, string>();
  for (const [folder, name] of stringMap(texts.folderToLabel, files.folderToLabel)) {
    if (folderOf.has(name)) throw new UsageError(`class ${JSON.stringify(name)} has two folders (${folderOf.get(name)}, ${folder})`, { file: files.folderToLabel, fix: FIX });
    folderOf.set(name, folder);
  }

  // 2012 id → PyTorch class index, checked to be a permutation of 0…999
  const pytorchOf = new Map<number, number>();
  const pt = parseJsonObject(texts.pytorchTo2012, files.pytorchTo2012);
  for (const [k, v] of Object.entries(pt)) {
    const idx = /^\d+$/.test(k) ? Number(k) : NaN;
    if (!(idx >= 0 && idx < 1000) || typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= 1000 || pytorchOf.has(v)) {
      throw new UsageError(`entry ${JSON.stringify(k)}: ${JSON.stringify(v)} is not a one-to-one map of class indices 0…999 to 2012 ids 0…999`, { file: files.pytorchTo2012, fix: FIX });
    }
    pytorchOf.set(v, idx);
  }
  if (pytorchOf.size !== 1000) throw new UsageError(`maps ${pytorchOf.size} class indices, expected 1000`, { file: files.pytorchTo2012, fix: FIX });

  // ImageNet class name → 2012 ids (line numbers), as Python's `for i, v in enumerate(f): v.strip()` reads them
  const lines = texts.imagenetLabels.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== 1000) throw new UsageError(`has ${lines.length} lines, expected one ImageNet class name per line (1000)`, { file: files.imagenetLabels, fix: FIX });
  const linesOf = new Map<string, number[]>();
  lines.forEach((l, i) => {
    const name = l.trim();
    linesOf.set(name, [...(linesOf.get(name) ?? []), i]);
  });

  const classes: ObjectNetClass[] = [];
  for (const [name, imagenetNames] of stringMap(texts.objectnetToImagenet, files.objectnetToImagenet)) {
    const folder = folderOf.get(name);
    if (folder === undefined) throw new UsageError(`class ${JSON.stringify(name)} has no folder in ${OBJECTNET_MAPPINGS.folderToLabel}`, { file: files.objectnetToImagenet, fix: FIX });
    const imagenetIndices = imagenetNames.split('; ').map((raw) => {
      const inName = raw.trim();
      const at = linesOf.get(inName) ?? [];
      if (at.length !== 1) {
        throw new UsageError(
          `ImageNet class ${JSON.stringify(inName)} (for ${JSON.stringify(name)}) is on ${at.length === 0 ? 'no line' : `${at.length} lines (${at.map((i) => i + 1).join(', ')})`} of ${OBJECTNET_MAPPINGS.imagenetLabels}`,
          { file: files.objectnetToImagenet, fix: FIX },
        );
      }
      return pytorchOf.get(at[0])!;
    });
    classes.push({ folder, name, imagenetIndices: [...new Set(imagenetIndices)].sort((a, b) => a - b) });
  }
  if (classes.length === 0) throw new UsageError('maps no ObjectNet class to ImageNet', { file: files.objectnetToImagenet, fix: FIX });
  return classes.sort((a, b) => byCodePoint(a.folder, b.folder));
}

/** The ObjectNet classifier: prompts of the mapped ImageNet classes (ascending index), max over each class's group. */
export function objectnetPlan(classes: readonly ObjectNetClass[]): ClassifierPlan {
  const wnids = imagenetWnids();
  const used = [...new Set(classes.flatMap((c) => c.imagenetIndices))].sort((a, b) => a - b);
  const pos = new Map(used.map((idx, i) => [idx, i]));
  return {
    promptClassIds: used.map((i) => wnids[i]),
    groups: classes.map((c) => c.imagenetIndices.map((i) => pos.get(i)!)),
    description: `objectnet-max-over-mapped: ${classes.length} ObjectNet classes, each scored by the max logit of its mapped ImageNet classes (${used.length} in all)`,
  };
}

interface ObjectNetTree {
  mappingsDir: string;
  imagesDir: string;
  classes: ObjectNetClass[];
}

const ROOT_FIX = 'pass the objectnet-1.0 folder (holding images/ and mappings/) as --root';

/** Finds mappings/ and the image folders (ROOT/images/<folder>/ or ROOT/<folder>/) and reads the mapping. */
export async function readObjectnetTree(root: string): Promise<ObjectNetTree> {
  await requireDirectory(root);
  let base = root;
  if (!(await isDirectory(path.join(root, 'mappings'))) && (await isDirectory(path.join(root, 'objectnet-1.0', 'mappings')))) base = path.join(root, 'objectnet-1.0');
  const mappingsDir = path.join(base, 'mappings');
  const files = Object.fromEntries(Object.entries(OBJECTNET_MAPPINGS).map(([k, f]) => [k, path.join(mappingsDir, f)])) as Record<ObjectNetMappingKey, string>;
  const texts = {} as Record<ObjectNetMappingKey, string>;
  for (const [k, file] of Object.entries(files) as [ObjectNetMappingKey, string][]) {
    if (!(await isFile(file))) {
      throw new UsageError(`missing mappings/${OBJECTNET_MAPPINGS[k]}, one of the four mapping files ObjectNet ships (objectnet-1.0/mappings/)`, { file, fix: ROOT_FIX });
    }
    texts[k] = await readFile(file, 'utf8');
  }
  const classes = objectnetClasses(texts, files);
  const imagesDir = (await isDirectory(path.join(base, 'images'))) ? path.join(base, 'images') : base;
  const present = new Set((await listDir(imagesDir)).dirs);
  const missing = classes.filter((c) => !present.has(c.folder)).map((c) => c.folder);
  if (missing.length) {
    throw new UsageError(`${missing.length} of the ${classes.length} ImageNet-overlapping class folders are missing: ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''}`, {
      file: imagesDir,
      fix: 'extract the whole ObjectNet archive (images/<folder>/ for every class)',
    });
  }
  return { mappingsDir, imagesDir, classes };
}

export const objectnet = {
  id: 'objectnet',
  description:
    "ObjectNet 1.0 (Barbu et al. 2019), ImageNet-overlap variant as in CLIP and the robustness literature: the images of the 113 classes that objectnet_to_imagenet_1k.json maps to ImageNet (the other 200 folders are skipped), each class scored by the max logit over its mapped ImageNet classes, 2-pixel border cropped; mapping read from the distribution's mappings/.",
  splits: ['test'],
  layout:
    'ROOT/images/<folder>/*.png (or ROOT/<folder>/*.png) with ROOT/mappings/{folder_to_objectnet_label.json,objectnet_to_imagenet_1k.json,imagenet_to_label_2012_v2,pytorch_to_imagenet_2012_id.json}, as in objectnet-1.0/',
  /** the 113 overlapping classes' images (recalled from the robustness literature, not re-counted here) */
  expectedCount: { test: 18_574 },
  defaultPrompts: 'imagenet',
  metric: 'top1',
  preprocess: { trimBorder: 2 },
  classIds: async (root: string) => (await readObjectnetTree(root)).classes.map((c) => c.folder),
  async *samples(root: string) {
    const { imagesDir, classes } = await readObjectnetTree(root);
    yield* nonEmptyFolderSamples(imagesDir, classes.map((c) => c.folder));
  },
  classifierPlan: async (root: string) => objectnetPlan((await readObjectnetTree(root)).classes),
} as const satisfies DatasetAdapter;

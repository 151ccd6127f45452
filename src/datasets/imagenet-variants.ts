/**
 * The ImageNet test-set variants that ship as class folders, each read in its distribution's own layout:
 *  - ImageNetV2 (Recht et al. 2019): folders `0`…`999` named by ImageNet class index (NOT sorted as strings);
 *  - ImageNet-Sketch (Wang et al. 2019): the 1000 WordNet-id folders, under `sketch/` in the archive;
 *  - ImageNet-R (Hendrycks et al. 2021) and ImageNet-A (Hendrycks et al. 2021): 200-class WordNet-id
 *    subsets, whose folders must be exactly their canonical 200 wnids (configs/datasets/imagenet-{r,a}-wnids.json),
 *    scored with a 200-row classifier built from the ImageNet prompts of those classes
 *    (the same as masking the other 800 ImageNet logits).
 * All use the ImageNet prompts; labels index the 1000 wnids except for the 200-class subsets, whose
 * labels index their own sorted folder names.
 */
import { UsageError } from '../errors.js';
import { imagenetSubsetPlan } from './imagenet.js';
import { checkWnidFolders, dataDir, describeListing, hasWnidFolders, listDir, nonEmptyFolderSamples } from './imagenet-fs.js';
import type { ClassifierPlan, DatasetAdapter } from './types.js';
import { imagenetSubsetWnids, imagenetWnids } from './wnids.js';

/** "0" … "999", written as ImageNetV2 names its folders. */
const CLASS_INDEX = /^(0|[1-9]\d{0,2})$/;

const V2_FIX = 'pass one ImageNetV2 variant folder as --root, e.g. imagenetv2-matched-frequency-format-val/';

/** ImageNetV2's class folders, checked: exactly `0`…`999`, returned in class-index order. */
export async function imagenetV2Folders(root: string): Promise<string[]> {
  const l = await listDir(root);
  if (!l.dirs.some((d) => CLASS_INDEX.test(d))) {
    const variants = l.dirs.filter((d) => /^imagenetv2-/i.test(d));
    if (variants.length) {
      throw new UsageError(`this folder holds ${variants.length} ImageNetV2 variant folder(s) (${variants.join(', ')}), not the class folders of one`, {
        file: root,
        fix: `pass one variant as --root, e.g. ${variants[0]}/`,
      });
    }
    throw new UsageError(`expected ImageNetV2's class folders 0 … 999 (named by ImageNet class index), found ${describeListing(l)}`, { file: root, fix: V2_FIX });
  }
  const bad = l.dirs.filter((d) => !CLASS_INDEX.test(d));
  if (bad.length) {
    throw new UsageError(`${bad.length} folder(s) are not named by an ImageNet class index 0 … 999: ${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ', …' : ''}`, { file: root, fix: V2_FIX });
  }
  const folders = Array.from({ length: 1000 }, (_, i) => String(i));
  if (l.dirs.length !== 1000) {
    const present = new Set(l.dirs);
    const missing = folders.filter((f) => !present.has(f));
    throw new UsageError(`found ${l.dirs.length} of the 1000 class folders; missing ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', …' : ''}`, {
      file: root,
      fix: 'extract the whole ImageNetV2 archive (every variant has all 1000 folders)',
    });
  }
  return folders;
}

export const imagenetV2 = {
  id: 'imagenet-v2',
  description:
    'ImageNetV2 (Recht et al. 2019): 10,000 new test images of the 1000 ImageNet classes; the folder name is the class index. The matched-frequency, threshold0.7 and top-images variants are different roots.',
  splits: ['test'],
  layout: 'ROOT/0/ … ROOT/999/<image>.jpeg: one folder per ImageNet class index (e.g. ROOT = imagenetv2-matched-frequency-format-val/)',
  expectedCount: { test: 10_000 },
  defaultPrompts: 'imagenet',
  metric: 'top1',
  async classIds(root: string) {
    await imagenetV2Folders(root);
    return [...imagenetWnids()];
  },
  async *samples(root: string) {
    // labels are positions in the folder list "0" … "999", i.e. the folder's integer
    yield* nonEmptyFolderSamples(root, await imagenetV2Folders(root));
  },
} as const satisfies DatasetAdapter;

/** The folder of WordNet-id class folders: ROOT, or ROOT/<sub> as the archive unpacks. */
async function wnidDir(root: string, sub: string, all: boolean, fix: string): Promise<{ dir: string; classIds: string[] }> {
  const l = await dataDir(root, [sub], hasWnidFolders);
  return { dir: l.dir, classIds: checkWnidFolders(l, { all, fix }) };
}

const SKETCH_FIX = 'pass the ImageNet-Sketch folder (sketch/, or its parent) holding the 1000 WordNet-id folders';

export const imagenetSketch = {
  id: 'imagenet-sketch',
  description: 'ImageNet-Sketch (Wang et al. 2019): 50,889 black-and-white sketches of the 1000 ImageNet classes, one WordNet-id folder per class.',
  splits: ['test'],
  layout: 'ROOT/<wnid>/*.JPEG: the 1000 WordNet-id folders, e.g. ROOT/n01440764/ (or ROOT/sketch/<wnid>/, as the archive unpacks)',
  expectedCount: { test: 50_889 },
  defaultPrompts: 'imagenet',
  metric: 'top1',
  async classIds(root: string) {
    await wnidDir(root, 'sketch', true, SKETCH_FIX);
    return [...imagenetWnids()];
  },
  async *samples(root: string) {
    const { dir } = await wnidDir(root, 'sketch', true, SKETCH_FIX);
    yield* nonEmptyFolderSamples(dir, imagenetWnids());
  },
} as const satisfies DatasetAdapter;

interface SubsetSpec {
  id: string;
  /** the archive's top folder, also the name of its canonical list configs/datasets/<sub>-wnids.json */
  sub: string;
  /** the dataset's name in messages */
  name: string;
  description: string;
  count: number;
  /** the other 200-class subset, to name it when its folders are passed for this one */
  sibling: { id: string; sub: string; name: string };
}

const some = (xs: readonly string[]) => xs.slice(0, 5).join(', ') + (xs.length > 5 ? `, … (${xs.length - 5} more)` : '');

/**
 * The class folders checked against the canonical 200 wnids of the distribution: a partial archive, or the
 * other subset's folders, would silently be another classifier. The error names the missing and the extra
 * wnids, and the sibling dataset when the folders are its classes.
 */
export function checkCanonicalSubset(folders: readonly string[], spec: SubsetSpec, dir: string): string[] {
  const canonical = imagenetSubsetWnids(spec.sub, 200);
  const wanted = new Set(canonical);
  const present = new Set(folders);
  const missing = canonical.filter((w) => !present.has(w));
  const extra = folders.filter((w) => !wanted.has(w));
  if (!missing.length && !extra.length) return [...canonical];
  const sibling = new Set(imagenetSubsetWnids(spec.sibling.sub, 200));
  const looksLikeSibling = extra.length > 0 && folders.every((w) => sibling.has(w));
  throw new UsageError(
    `found ${folders.length - extra.length} of the 200 ${spec.name} class folders` +
      (missing.length ? `; missing ${some(missing)}` : '') +
      (extra.length ? `; not ${spec.name} classes: ${some(extra)}` : '') +
      (looksLikeSibling ? `; this looks like ${spec.sibling.name}` : ''),
    {
      file: dir,
      fix: looksLikeSibling
        ? `pass --dataset ${spec.sibling.id} for ${spec.sibling.name}`
        : `extract the whole ${spec.sub}.tar (its 200 class folders are configs/datasets/${spec.sub}-wnids.json)`,
    },
  );
}

/** An adapter for a 200-class WordNet-id subset of ImageNet (ImageNet-R, ImageNet-A), checked against its canonical list. */
function imagenetSubset(spec: SubsetSpec): DatasetAdapter {
  const fix = `pass the ${spec.sub}/ folder (or its parent) holding the WordNet-id class folders`;
  const classes = async (root: string) => {
    const { dir, classIds } = await wnidDir(root, spec.sub, false, fix);
    return { dir, classIds: checkCanonicalSubset(classIds, spec, dir) };
  };
  return {
    id: spec.id,
    description: spec.description,
    splits: ['test'],
    layout: `ROOT/<wnid>/*.jpg: the 200 WordNet-id folders of configs/datasets/${spec.sub}-wnids.json, a subset of the 1000 ImageNet classes (or ROOT/${spec.sub}/<wnid>/, as the archive unpacks)`,
    expectedCount: { test: spec.count },
    defaultPrompts: 'imagenet',
    metric: 'top1',
    classIds: async (root: string) => (await classes(root)).classIds,
    async *samples(root: string) {
      const { dir, classIds } = await classes(root);
      yield* nonEmptyFolderSamples(dir, classIds);
    },
    async classifierPlan(root: string): Promise<ClassifierPlan> {
      const { classIds } = await classes(root);
      // every id is an ImageNet wnid (the canonical lists are checked), so there is a plan
      return imagenetSubsetPlan(classIds, spec.id)!;
    },
  };
}

const R = { id: 'imagenet-r', sub: 'imagenet-r', name: 'ImageNet-R' };
const A = { id: 'imagenet-a', sub: 'imagenet-a', name: 'ImageNet-A' };

export const imagenetR = imagenetSubset({
  ...R,
  sibling: A,
  description:
    'ImageNet-R(endition) (Hendrycks et al. 2021): 30,000 renditions (art, cartoons, sculptures, …) of 200 ImageNet classes, scored with a 200-class classifier from the ImageNet prompts (the other 800 logits masked).',
  count: 30_000,
});

export const imagenetA = imagenetSubset({
  ...A,
  sibling: R,
  description:
    'ImageNet-A (Hendrycks et al. 2021): 7,500 natural adversarial examples of 200 ImageNet classes, scored with a 200-class classifier from the ImageNet prompts (the other 800 logits masked).',
  count: 7_500,
});

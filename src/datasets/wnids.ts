/**
 * The 1000 ImageNet-1k (ILSVRC-2012) WordNet ids in class-index order, read once from
 * `configs/datasets/imagenet-wnids.json`. Class index i is the i-th wnid in ascending order: the label
 * order of torchvision's ImageFolder/ImageNet over the train folders, hence of every PyTorch ImageNet
 * model and of OpenAI's CLIP prompt list. Every ImageNet-family adapter labels through this list.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';

export const WNIDS_FILE = path.join(packageRoot, 'configs', 'datasets', 'imagenet-wnids.json');

/** What a WordNet noun synset id looks like: `n` and eight digits. */
export const WNID_PATTERN = /^n\d{8}$/;

interface WnidTable {
  wnids: readonly string[];
  index: ReadonlyMap<string, number>;
}

let cached: WnidTable | undefined;

/** Checks the shipped list: exactly 1000 well-formed, strictly ascending (hence unique) wnids. */
export function validateWnidList(wnids: unknown, file = WNIDS_FILE): string[] {
  const fix = 'restore configs/datasets/imagenet-wnids.json from the clip-bench package';
  if (!Array.isArray(wnids) || wnids.length !== 1000) {
    throw new UsageError(`"wnids" must list exactly 1000 WordNet ids, found ${Array.isArray(wnids) ? wnids.length : typeof wnids}`, { file, fix });
  }
  wnids.forEach((w, i) => {
    if (typeof w !== 'string' || !WNID_PATTERN.test(w)) throw new UsageError(`entry ${i} (${JSON.stringify(w)}) is not a WordNet id like n01440764`, { file, fix });
    if (i > 0 && !(wnids[i - 1] < w)) throw new UsageError(`entry ${i} (${w}) is not after ${wnids[i - 1]}: the list must be strictly ascending`, { file, fix });
  });
  return wnids as string[];
}

function table(): WnidTable {
  if (cached) return cached;
  const raw = JSON.parse(readFileSync(WNIDS_FILE, 'utf8')) as { wnids?: unknown };
  const wnids = Object.freeze(validateWnidList(raw.wnids));
  cached = { wnids, index: new Map(wnids.map((w, i) => [w, i])) };
  return cached;
}

/** The 1000 wnids; position = ImageNet class index. */
export function imagenetWnids(): readonly string[] {
  return table().wnids;
}

/** wnid → ImageNet class index (0…999). */
export function imagenetWnidIndex(): ReadonlyMap<string, number> {
  return table().index;
}

/** Whether `id` is one of the 1000 ILSVRC-2012 class wnids. */
export function isImagenetWnid(id: string): boolean {
  return table().index.has(id);
}

const subsets = new Map<string, readonly string[]>();

/**
 * A canonical ImageNet subset shipped as `configs/datasets/<name>-wnids.json` (ImageNet-R, ImageNet-A):
 * `count` strictly ascending ImageNet-1k wnids, read once and checked.
 */
export function imagenetSubsetWnids(name: string, count: number): readonly string[] {
  const hit = subsets.get(name);
  if (hit) return hit;
  const file = path.join(packageRoot, 'configs', 'datasets', `${name}-wnids.json`);
  const fix = `restore configs/datasets/${name}-wnids.json from the clip-bench package`;
  const wnids = (JSON.parse(readFileSync(file, 'utf8')) as { wnids?: unknown }).wnids;
  if (!Array.isArray(wnids) || wnids.length !== count) throw new UsageError(`"wnids" must list exactly ${count} WordNet ids`, { file, fix });
  wnids.forEach((w, i) => {
    if (typeof w !== 'string' || !isImagenetWnid(w)) throw new UsageError(`entry ${i} (${JSON.stringify(w)}) is not an ImageNet-1k WordNet id`, { file, fix });
    if (i > 0 && !(wnids[i - 1] < w)) throw new UsageError(`entry ${i} (${w}) is not after ${wnids[i - 1]}: the list must be strictly ascending`, { file, fix });
  });
  const list = Object.freeze([...(wnids as string[])]);
  subsets.set(name, list);
  return list;
}

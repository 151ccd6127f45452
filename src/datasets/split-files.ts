/**
 * What the adapters of the fine-grained benchmarks share: finding a distribution's own folder under --root
 * (the archive's top folder or --root itself), reading its split and annotation text files strictly, mapping
 * class ids to labels, and — for the datasets that ship without a split (EuroSAT, RESISC45, Caltech-101) — a
 * deterministic stratified split that any machine reproduces from the file names alone.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { IMAGE_EXTENSIONS, imageFolderSamples } from './imagefolder.js';
import { describeListing, firstFitting, listDir } from './imagenet-fs.js';
import type { Sample } from './types.js';

/** How a distribution looks on disk, for finding it and for the error when it is not there. */
export interface DistributionSpec {
  /** the dataset's name in messages, e.g. "Food-101" */
  name: string;
  /** the expected tree (the adapter's `layout`) */
  layout: string;
  /** folders under --root that may hold the distribution (e.g. the archive's `food-101/`), tried after --root itself */
  subs: readonly string[];
  /** paths, relative to the distribution's folder, that must all exist there; a trailing / asks for a folder */
  markers: readonly string[];
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder holding the distribution: --root itself or the first of `spec.subs` under it that has every marker.
 * Otherwise one UsageError saying what was expected and what was found (the markers a candidate has, when it has
 * some, else the listing of --root).
 */
export async function locateDistribution(root: string, spec: DistributionSpec): Promise<string> {
  const top = await listDir(root);
  let partial: { dir: string; have: string[]; missing: string[] } | undefined;
  const hasMarkers = async (dir: string) => {
    const present = await Promise.all(spec.markers.map((m) => exists(path.join(dir, m))));
    const have = spec.markers.filter((_, i) => present[i]);
    if (have.length && have.length < spec.markers.length && !partial) partial = { dir, have, missing: spec.markers.filter((_, i) => !present[i]) };
    return have.length === spec.markers.length;
  };
  const located = await firstFitting(root, ['', ...spec.subs], hasMarkers);
  if (located) return located;
  const found = partial
    ? `found ${partial.have.join(', ')} in ${partial.dir} but not ${partial.missing.join(', ')}`
    : `found ${describeListing(top)}`;
  throw new UsageError(`${found}; expected the ${spec.name} distribution: ${spec.layout}`, {
    file: root,
    fix: partial ? `extract the whole ${spec.name} archive (the missing files are part of it)` : `pass the folder that holds ${spec.markers.join(' and ')} as --root`,
  });
}

/** A non-empty line of a text file with its 1-based line number, trimmed. */
export interface Line {
  n: number;
  text: string;
}

/** The non-empty lines of a split or annotation file (BOM, CRLF and surrounding spaces removed). */
export async function readLines(file: string, fix: string): Promise<Line[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `missing ${path.basename(file)}` : `cannot read ${path.basename(file)} (${code ?? (err as Error).message})`, { file, fix, cause: err });
  }
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((t, i) => ({ n: i + 1, text: t.trim() }))
    .filter((l) => l.text !== '');
}

/** id → label (position), refusing a list that names a class twice. */
export function labelIndex(ids: readonly string[], file: string, fix: string): Map<string, number> {
  const index = new Map<string, number>();
  ids.forEach((id, i) => {
    if (index.has(id)) throw new UsageError(`class "${id}" is listed twice (positions ${index.get(id)! + 1} and ${i + 1})`, { file, fix });
    index.set(id, i);
  });
  return index;
}

/** One split of a deterministic split: `perClass` samples of every class (fewer where a class has fewer left). */
export interface SplitQuota {
  split: string;
  perClass: number;
}

/** sha256 of a sample key as hex: the rank order of `rankedSplit`. */
export function keyRank(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * A deterministic stratified split for a dataset that ships without one. Within each class the samples are
 * ranked by the sha256 of their key (the path under the class folders, e.g. "AnnualCrop/AnnualCrop_1.jpg") and
 * dealt out in rank order: the first `quotas[0].perClass` to `quotas[0].split`, the next `quotas[1].perClass` to
 * `quotas[1].split`, …, and the rest to `rest`. The hash makes the split independent of file-system listing order
 * and of any random number generator, and spreads it evenly over each class's files.
 * Returns the split of each sample, in the order given.
 * @example rankedSplit([{ key: 'a/1.jpg', label: 0 }, { key: 'a/2.jpg', label: 0 }], [{ split: 'test', perClass: 1 }], 'train')
 *   // → one 'test' and one 'train', whichever key hashes lower being the 'test' one
 */
export function rankedSplit(samples: readonly { key: string; label: number }[], quotas: readonly SplitQuota[], rest: string): string[] {
  const byClass = new Map<number, number[]>();
  samples.forEach((s, i) => {
    const list = byClass.get(s.label) ?? [];
    list.push(i);
    byClass.set(s.label, list);
  });
  const out = new Array<string>(samples.length).fill(rest);
  for (const members of byClass.values()) {
    const ranked = members.map((i) => ({ i, r: keyRank(samples[i].key) })).sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0));
    let at = 0;
    for (const q of quotas) {
      for (const { i } of ranked.slice(at, at + q.perClass)) out[i] = q.split;
      at += q.perClass;
    }
  }
  return out;
}

/**
 * The samples of split `split` of a class-folder tree `dir/<class>/…/<image>` (labels = positions in `classIds`,
 * files walked in sorted order as torchvision's ImageFolder), split by `rankedSplit`; split "all" is every sample.
 */
export async function rankedFolderSamples(dir: string, classIds: readonly string[], quotas: readonly SplitQuota[], rest: string, split: string): Promise<Sample[]> {
  const all: Sample[] = [];
  for await (const s of imageFolderSamples(dir, classIds)) all.push(s);
  if (all.length === 0) {
    throw new UsageError(`no images found under the ${classIds.length} class folders (extensions: ${IMAGE_EXTENSIONS.join(' ')})`, { file: dir, fix: 'check --root and that the images were extracted' });
  }
  if (split === 'all') return all;
  const of = rankedSplit(all, quotas, rest);
  return all.filter((_, i) => of[i] === split);
}

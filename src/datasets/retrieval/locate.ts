/**
 * The one locator for retrieval datasets: `--root` a .csv/.jsonl file is a retrieval manifest; otherwise the
 * dataset's layouts are tried in their order and the first whose files are there is read. None there is one
 * line naming every layout expected and what the folder holds.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { requireDirectory } from '../imagefolder.js';
import { describeListing, listDir } from '../imagenet-fs.js';
import { readRetrievalManifest, RETRIEVAL_MANIFEST_LAYOUT } from './manifest.js';
import type { RetrievalData } from './types.js';
import { isRetrievalWds, readRetrievalWds, RETRIEVAL_WDS_LAYOUT } from './wds.js';

export interface RetrievalLayout {
  /** the files it reads, for `layout`, the README and "expected … found …" (`<split>` stands for the split) */
  expects: string;
  fits(root: string, split: string): Promise<boolean>;
  /** `language`: a multilingual dataset's caption language (undefined where none was given: its reader says which it found) */
  read(root: string, split: string, language?: string): Promise<RetrievalData>;
}

/** CLIP_benchmark's WebDataset shards: the same for every retrieval dataset. */
export const WDS_RETRIEVAL: RetrievalLayout = { expects: RETRIEVAL_WDS_LAYOUT, fits: (root) => isRetrievalWds(root), read: readRetrievalWds };

/** Every layout a dataset accepts, in the order they are tried, then the manifest, for `layout`. */
export function describeLayouts(layouts: readonly RetrievalLayout[]): string {
  return [...layouts.map((l) => l.expects), RETRIEVAL_MANIFEST_LAYOUT].map((e, i) => `(${i + 1}) ${e}`).join('; ');
}

export async function isManifestFile(root: string): Promise<boolean> {
  const ext = path.extname(root).toLowerCase();
  if (ext !== '.csv' && ext !== '.jsonl') return false;
  try {
    return (await stat(root)).isFile();
  } catch {
    return false;
  }
}

export async function locateRetrieval(dataset: string, splits: readonly string[], layouts: readonly RetrievalLayout[], root: string, split: string, language?: string): Promise<RetrievalData> {
  if (!splits.includes(split)) {
    throw new UsageError(`${dataset} has no split "${split}"`, { fix: `pass --split with one of: ${splits.join(', ')}` });
  }
  if (await isManifestFile(root)) return readRetrievalManifest(root, split);
  await requireDirectory(root);
  for (const layout of layouts) if (await layout.fits(root, split)) return layout.read(root, split, language);
  const expected = layouts.map((l) => l.expects.replaceAll('<split>', split)).join('; or ');
  throw new UsageError(`no ${dataset} ${split} split found: expected ${expected}; or a retrieval manifest file as --root; found ${describeListing(await listDir(root))}`, {
    file: root,
    fix: `point --root at the folder holding the annotation file (clip-bench datasets shows each layout)`,
  });
}

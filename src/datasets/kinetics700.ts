/**
 * Kinetics-700 validation set, scored on one frame per clip. The distribution is a list of YouTube clips
 * (annotation CSVs: label, youtube_id, time_start, time_end), so this adapter reads frames extracted
 * beforehand, one per clip, in one folder per class: `ROOT/val/<class name>/<youtube id>….{jpg,png}`.
 * Class folders are the official label strings (`abseiling`, `petting animal (not cat)`); folders written
 * with underscores for spaces, as some download scripts do, are accepted. Labels index the 700 sorted
 * label strings. The paper's headline metric is mean(top-1, top-5).
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { classFolderMap, firstFitting, isDirectory, layoutMismatch, promptClassIds } from './benchmark-fs.js';
import { imageFolderSamples } from './imagefolder.js';
import type { DatasetAdapter, Sample } from './types.js';

const LAYOUT = 'ROOT/val/<class name>/<youtube id>.jpg: one extracted frame per validation clip, one folder for each of the 700 classes (e.g. ROOT/val/abseiling/), or ROOT = val/';
const FIX = 'pass the folder holding val/ (or val/ itself) with one folder of frames per Kinetics-700 class; create empty folders for classes without clips';

const kineticsClassIds = () => promptClassIds('kinetics700');
const looksLikeClasses = async (d: string) => (await isDirectory(path.join(d, 'abseiling'))) || (await isDirectory(path.join(d, 'zumba')));

async function classFolders(root: string, split: string): Promise<{ dir: string; folders: string[] }> {
  const dir = await firstFitting(root, [split, ''], async (d) => (await isDirectory(d)) && (await looksLikeClasses(d)));
  if (!dir) throw await layoutMismatch(root, LAYOUT, FIX, `no ${split}/ folder of class folders`);
  const folders = await classFolderMap(dir, kineticsClassIds(), { all: true, fix: FIX, what: 'Kinetics-700', folderToId: (f) => f.replace(/_/g, ' ') });
  return { dir, folders: folders as string[] };
}

async function* kineticsSamples(root: string, split: string): AsyncGenerator<Sample> {
  const { dir, folders } = await classFolders(root, split);
  let n = 0;
  for (let label = 0; label < folders.length; label++) {
    for await (const s of imageFolderSamples(dir, [folders[label]])) {
      n++;
      yield { ...s, label };
    }
  }
  if (n === 0) throw new UsageError('no frames under the 700 class folders', { file: dir, fix: 'extract the middle frame of each clip (see the README)' });
}

export const kinetics700 = {
  id: 'kinetics700',
  description:
    "Kinetics-700 validation clips, one extracted frame each (the distribution is YouTube links); 700 classes = the sorted label strings. Headline: mean of top-1 and top-5. The count depends on the clips still online.",
  splits: ['val'],
  layout: LAYOUT,
  defaultPrompts: 'kinetics700',
  metric: 'mean-top1-top5',
  async classIds(root: string, split: string) {
    await classFolders(root, split);
    return kineticsClassIds();
  },
  samples: (root: string, split: string) => kineticsSamples(root, split),
} as const satisfies DatasetAdapter;

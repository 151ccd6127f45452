/**
 * Birdsnap (Berg et al. 2014) test set. The distribution (birdsnap.tgz) holds only lists and links:
 * `species.txt` (id, common, scientific, dir; tab-separated, with a header), `test_images.txt` (a header,
 * then the `path` of each of the 2,443 test images, e.g. `Coopers_Hawk/0561.jpg`) and `get_birdsnap.py`,
 * which downloads the images to `download/images/<path>`. Many Flickr links are dead, so the test images
 * evaluated are those of the list that are on disk (the CLIP paper evaluated fewer than the 2,443 listed).
 *
 * Class ids are the names as CLIP's prompt list spells them, in its alphabetical order: the species' dir
 * with underscores as spaces (which drops apostrophes and turns hyphens into spaces, e.g. Coopers Hawk,
 * Sharp shinned Hawk), checked against species.txt's common names.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { firstFitting, isDirectory, isFile, layoutMismatch, nonEmptyLines, promptClassIds, readTextFile, some } from './benchmark-fs.js';
import type { DatasetAdapter, Sample } from './types.js';

const LAYOUT = 'ROOT/species.txt, ROOT/test_images.txt and ROOT/download/images/<species dir>/<file>.jpg, as birdsnap.tgz unpacks and its get_birdsnap.py downloads (or ROOT = the folder holding birdsnap/)';
const FIX = 'pass the birdsnap/ folder of birdsnap.tgz after running its get_birdsnap.py there';

/** CLIP's spelling of a Birdsnap common name: apostrophes dropped, hyphens as spaces. */
export const clipBirdName = (common: string) => common.replace(/['’]/g, '').replace(/-/g, ' ').replace(/\s+/g, ' ').trim();

/** species.txt → the class id of each species dir. */
export function parseBirdsnapSpecies(text: string, file: string, classIds: readonly string[]): Map<string, string> {
  const [header, ...rows] = nonEmptyLines(text);
  const cols = (header ?? '').split('\t');
  const commonCol = cols.indexOf('common');
  const dirCol = cols.indexOf('dir');
  if (commonCol < 0 || dirCol < 0) throw new UsageError('expected a tab-separated header with the columns id, common, scientific, dir', { file, fix: FIX });
  const known = new Set(classIds);
  const byDir = new Map<string, string>();
  const unmatched: string[] = [];
  for (const row of rows) {
    const f = row.split('\t');
    const fromDir = (f[dirCol] ?? '').replace(/_/g, ' ');
    const id = known.has(fromDir) ? fromDir : clipBirdName(f[commonCol] ?? '');
    if (!known.has(id)) unmatched.push(f[commonCol] ?? row);
    else byDir.set(f[dirCol], id);
  }
  if (unmatched.length) throw new UsageError(`${unmatched.length} species match no class of the birdsnap prompt set: ${some(unmatched)}`, { file, fix: 'use species.txt of Birdsnap v1.1' });
  if (new Set(byDir.values()).size !== classIds.length) throw new UsageError(`lists ${byDir.size} species, not the ${classIds.length} of Birdsnap`, { file, fix: 'use species.txt of Birdsnap v1.1' });
  return byDir;
}

async function findBirdsnap(root: string): Promise<{ dir: string; images: string }> {
  const fits = async (d: string) => (await isFile(path.join(d, 'species.txt'))) && (await isFile(path.join(d, 'test_images.txt')));
  const dir = await firstFitting(root, ['', 'birdsnap'], fits);
  if (!dir) throw await layoutMismatch(root, LAYOUT, FIX, 'no species.txt with test_images.txt');
  const images = await firstFitting(dir, [path.join('download', 'images'), 'images'], isDirectory);
  if (!images) throw new UsageError('found the Birdsnap lists but no download/images/ folder', { file: dir, fix: 'run get_birdsnap.py in this folder (it downloads the images to download/images/)' });
  return { dir, images };
}

async function* birdsnapSamples(root: string): AsyncGenerator<Sample> {
  const { dir, images } = await findBirdsnap(root);
  const classIds = promptClassIds('birdsnap');
  const speciesFile = path.join(dir, 'species.txt');
  const byDir = parseBirdsnapSpecies(await readTextFile(speciesFile, FIX), speciesFile, classIds);
  const index = new Map(classIds.map((id, i) => [id, i]));
  const listFile = path.join(dir, 'test_images.txt');
  const [header, ...paths] = nonEmptyLines(await readTextFile(listFile, FIX));
  if (header?.trim() !== 'path') throw new UsageError(`expected the header line "path", found "${header?.slice(0, 40)}"`, { file: listFile, fix: 'use test_images.txt of Birdsnap v1.1' });
  let n = 0;
  for (const rel of paths.map((p) => p.trim())) {
    const species = byDir.get(rel.split('/')[0]);
    if (species === undefined) throw new UsageError(`${rel} is in no species dir of species.txt`, { file: listFile, fix: 'use test_images.txt and species.txt of the same Birdsnap release' });
    const file = path.join(images, ...rel.split('/'));
    if (!(await isFile(file))) continue; // a dead link: get_birdsnap.py could not download it
    n++;
    yield { key: rel, path: file, label: index.get(species)! };
  }
  if (n === 0) throw new UsageError(`none of the ${paths.length} test images of test_images.txt is under ${images}`, { file: images, fix: 'run get_birdsnap.py to download the images' });
}

export const birdsnap = {
  id: 'birdsnap',
  description:
    "Birdsnap test set: the images of test_images.txt (2,443 listed) that get_birdsnap.py could download (Flickr links die; missing ones are skipped); 500 species, class ids = CLIP's spelling of the common names.",
  splits: ['test'],
  layout: LAYOUT,
  defaultPrompts: 'birdsnap',
  metric: 'top1',
  async classIds(root: string) {
    await findBirdsnap(root);
    return promptClassIds('birdsnap');
  },
  samples: (root: string) => birdsnapSamples(root),
} as const satisfies DatasetAdapter;

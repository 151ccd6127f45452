/**
 * From "image → its captions" as an annotation file lists them to `RetrievalData`: captions flattened image by
 * image (CLIP_benchmark's order), the image folder chosen among a dataset's candidates, and the listed images
 * that are absent counted (not an error: the engine records them as failed samples) — unless all are.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { describeListing, firstFitting, listDir } from '../imagenet-fs.js';
import type { RetrievalData, RetrievalImage } from './types.js';

export interface ListedImage extends RetrievalImage {
  /** at least one; the caller has checked each for emptiness where it can name the line */
  captions: string[];
}

/** The file names in a folder (links followed), or an empty set where there is no folder. */
async function namesIn(dir: string): Promise<Set<string>> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    const names = new Set<string>();
    for (const e of entries) {
      if (e.isFile()) names.add(e.name);
      else if (e.isSymbolicLink()) {
        try {
          if ((await stat(path.join(dir, e.name))).isFile()) names.add(e.name);
        } catch {
          // a dangling link is an absent image
        }
      }
    }
    return names;
  } catch {
    return new Set();
  }
}

/** For each path, whether it is a file; one directory listing per folder rather than one stat per image. */
export async function filesPresent(paths: readonly string[]): Promise<boolean[]> {
  const listings = new Map<string, Set<string>>();
  const out: boolean[] = [];
  for (const p of paths) {
    const dir = path.dirname(p);
    let names = listings.get(dir);
    if (!names) listings.set(dir, (names = await namesIn(dir)));
    out.push(names.has(path.basename(p)));
  }
  return out;
}

/**
 * The first of `root/<candidate>` ('' = root itself) holding at least one of `names` (paths relative to the
 * image folder), with each name's presence there; undefined where no candidate holds any.
 */
export async function locateImageFolder(root: string, candidates: readonly string[], names: readonly string[]): Promise<{ dir: string; rel: string; present: boolean[] } | undefined> {
  let present: boolean[] = []; // the fitting folder's, kept so the names are not looked up twice
  const dir = await firstFitting(root, candidates, async (d) => (present = await filesPresent(names.map((n) => path.join(d, n)))).some(Boolean));
  return dir === undefined ? undefined : { dir, rel: path.relative(root, dir), present };
}

/** "flickr30k-images/" or "ROOT", for messages. */
export const folderName = (rel: string) => (rel === '' ? 'ROOT' : `${rel.replace(/\/$/, '')}/`);

/** The one line for a caption file none of whose images is on disk: where it looked, and what ROOT holds. */
export async function noImagesError(annotations: string, count: number, example: string, lookedIn: readonly string[], root: string): Promise<UsageError> {
  return new UsageError(
    `none of the ${count} images it lists is present (e.g. ${example}); looked in ${lookedIn.map(folderName).join(', ')}; ROOT (${root}) holds ${describeListing(await listDir(root))}`,
    { file: annotations, fix: 'extract the images beside the annotation file, or point --root at the folder that holds both' },
  );
}

/** Flattens the listed images into `RetrievalData`; `present[i]` says whether image i is on disk. */
export function assemble(listed: readonly ListedImage[], present: readonly boolean[], layoutFound: string): RetrievalData {
  const images: RetrievalImage[] = [];
  const captions: RetrievalData['captions'] = [];
  listed.forEach(({ captions: texts, ...image }, i) => {
    images.push(image);
    for (const text of texts) captions.push({ text, image: i });
  });
  return { images, captions, layoutFound, missingImages: present.filter((p) => !p).length };
}

/**
 * Small filesystem helpers shared by the dataset adapters: listing a folder (following symlinks,
 * as torchvision does), saying what was found for error messages, accepting a distribution's own
 * top folder under --root, and checking WordNet-id class folders against the 1000 ImageNet classes.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { byCodePoint, IMAGE_EXTENSIONS, imageFolderSamples, requireDirectory } from './imagefolder.js';
import type { Sample } from './types.js';
import { imagenetWnidIndex, imagenetWnids, WNID_PATTERN } from './wnids.js';

export interface DirListing {
  dir: string;
  /** sub-folder names (symlinks to folders included), sorted by code point */
  dirs: string[];
  /** other entries' names, sorted by code point */
  files: string[];
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

export async function listDir(dir: string): Promise<DirListing> {
  await requireDirectory(dir);
  const entries = await readdir(dir, { withFileTypes: true });
  const dirs: string[] = [];
  const files: string[] = [];
  for (const e of entries) {
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(path.join(dir, e.name))));
    (isDir ? dirs : files).push(e.name);
  }
  return { dir, dirs: dirs.sort(byCodePoint), files: files.sort(byCodePoint) };
}

function some(names: readonly string[], n = 4): string {
  return names.length <= n ? names.join(', ') : `${names.slice(0, n).join(', ')}, … (${names.length - n} more)`;
}

/** "3 folders (a, b, c) and 2 files (x.txt, y.csv)", for error messages. */
export function describeListing(l: DirListing): string {
  const part = (names: string[], what: string) => (names.length ? `${names.length} ${what}${names.length === 1 ? '' : 's'} (${some(names)})` : '');
  const parts = [part(l.dirs, 'folder'), part(l.files, 'file')].filter(Boolean);
  return parts.length ? parts.join(' and ') : 'an empty folder';
}

export function hasWnidFolders(l: DirListing): boolean {
  return l.dirs.some((d) => WNID_PATTERN.test(d));
}

/**
 * The one way a distribution is found under --root: the first of `root/<candidate>` (in order; '' is root
 * itself, a candidate may be nested, e.g. torchvision's `dtd/dtd`) for which `fits` holds, or undefined.
 * The adapters' locators (`dataDir`, split-files' `locateDistribution`, container-files' `findInRoot`) are
 * this search with their own "expected … found …" error.
 */
export async function firstFitting(root: string, candidates: readonly string[], fits: (dir: string) => Promise<boolean>): Promise<string | undefined> {
  for (const c of candidates) {
    const dir = path.join(root, c);
    if (await fits(dir)) return dir;
  }
  return undefined;
}

/** `fits` on a folder's listing, false where there is no folder. */
export const listingFits = (fits: (l: DirListing) => boolean) => async (dir: string) => (await isDirectory(dir)) && fits(await listDir(dir));

/**
 * The folder holding the data: `root` itself when `fits` it, else the first of `root/<sub>` that fits
 * (a distribution's own top folder, e.g. ImageNet-Sketch's `sketch/`), else `root` (whose checks then fail
 * with a message about `root`).
 */
export async function dataDir(root: string, subs: readonly string[], fits: (l: DirListing) => boolean): Promise<DirListing> {
  await requireDirectory(root);
  return listDir((await firstFitting(root, ['', ...subs], listingFits(fits))) ?? root);
}

/**
 * Checks that every sub-folder is one of the 1000 ImageNet wnids and, with `all`, that all 1000 are there.
 * Returns the folder names (sorted, which is class-index order).
 */
export function checkWnidFolders(l: DirListing, opts: { all: boolean; fix: string }): string[] {
  const index = imagenetWnidIndex();
  if (l.dirs.length === 0) {
    throw new UsageError(`expected WordNet-id class folders (e.g. n01440764/), found ${describeListing(l)}`, { file: l.dir, fix: opts.fix });
  }
  const unknown = l.dirs.filter((d) => !index.has(d));
  if (unknown.length) {
    const kind = unknown.every((d) => WNID_PATTERN.test(d)) ? 'WordNet ids outside the 1000 ImageNet classes' : 'not ImageNet WordNet ids';
    throw new UsageError(`${unknown.length} of ${l.dirs.length} class folders are ${kind}: ${some(unknown)}`, { file: l.dir, fix: opts.fix });
  }
  if (opts.all && l.dirs.length !== 1000) {
    const present = new Set(l.dirs);
    const missing = imagenetWnids().filter((w) => !present.has(w));
    throw new UsageError(`found ${l.dirs.length} of the 1000 ImageNet class folders; missing ${some(missing)}`, { file: l.dir, fix: opts.fix });
  }
  return l.dirs;
}

/** Samples of `dir/<class>/…/<image>` labelled by position in `classIds`; an error if there are none. */
export async function* nonEmptyFolderSamples(dir: string, classIds: readonly string[]): AsyncGenerator<Sample> {
  let count = 0;
  for await (const s of imageFolderSamples(dir, classIds)) {
    count++;
    yield s;
  }
  if (count === 0) {
    throw new UsageError(`no images found under the ${classIds.length} class folders (extensions: ${IMAGE_EXTENSIONS.join(' ')})`, {
      file: dir,
      fix: 'check --root and that the images were extracted',
    });
  }
}

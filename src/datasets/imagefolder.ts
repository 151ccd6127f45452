/**
 * torchvision's ImageFolder: `<root>/<class>/…/<image>`, classes = sorted sub-folder names,
 * samples = every file with an image extension under each class folder, walked in sorted order.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { DatasetAdapter, Sample } from './types.js';

/** torchvision's IMG_EXTENSIONS, matched case-insensitively. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'] as const;

/** Python's `sorted()` on str compares code points; JS's default sort compares UTF-16 units. */
export function byCodePoint(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

function isImage(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** Throws the usual "pass --root" error unless `root` is a folder. */
export async function requireDirectory(root: string, what = 'dataset root'): Promise<void> {
  let s;
  try {
    s = await stat(root);
  } catch {
    throw new UsageError(`${what} does not exist`, { file: root, fix: 'pass --root with the folder that holds the dataset' });
  }
  if (!s.isDirectory()) throw new UsageError(`${what} is not a folder`, { file: root, fix: 'pass --root with the folder that holds the dataset' });
}

/** Sorted names of the sub-folders of `root` (following symlinks, as torchvision does). */
export async function classFolders(root: string): Promise<string[]> {
  await requireDirectory(root);
  const entries = await readdir(root, { withFileTypes: true });
  const dirs: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() || (e.isSymbolicLink() && (await stat(path.join(root, e.name)).catch(() => undefined))?.isDirectory())) dirs.push(e.name);
  }
  if (dirs.length === 0) {
    const files = entries.filter((e) => e.isFile()).slice(0, 3).map((e) => e.name);
    throw new UsageError(
      `expected one sub-folder per class (<root>/<class>/<image>), found ${files.length ? `files such as ${files.join(', ')}` : 'nothing'}`,
      { file: root, fix: 'point --root at the folder whose sub-folders are the classes' },
    );
  }
  return dirs.sort(byCodePoint);
}

/** A directory's identity whatever path or link leads to it: device and inode. */
async function dirIdentity(dir: string): Promise<string | undefined> {
  const s = await stat(dir).catch(() => undefined);
  return s?.isDirectory() ? `${s.dev}:${s.ino}` : undefined;
}

/**
 * Image paths under `dir` in sorted order, following symlinks as torchvision does but entering each real
 * directory once: `seen` holds the directories already walked (and every class folder), so a link back up
 * the tree, or into another class, adds nothing.
 */
async function* walkImages(dir: string, rel: string, seen: Set<string>): AsyncGenerator<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => byCodePoint(a.name, b.name));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    const target = e.isSymbolicLink() ? await stat(full).catch(() => undefined) : e;
    if (target?.isDirectory()) {
      const id = await dirIdentity(full);
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      yield* walkImages(full, path.posix.join(rel, e.name), seen);
    }
    // Regular files only: a FIFO or device named *.jpg would block the reader forever.
    else if ((target === undefined || target.isFile()) && isImage(e.name)) yield path.posix.join(rel, e.name); // a broken link fails later, recorded
  }
}

/** Samples of an ImageFolder tree; `classIds` fixes the label order. Two class folders that are one real folder are refused. */
export async function* imageFolderSamples(root: string, classIds: readonly string[]): AsyncGenerator<Sample> {
  const seen = new Set<string>();
  const owner = new Map<string, string>();
  for (const id of classIds) {
    const key = await dirIdentity(path.join(root, id));
    if (key === undefined) continue; // a missing folder fails below with readdir's own error
    const other = owner.get(key);
    if (other !== undefined) {
      throw new UsageError(`class folders ${other} and ${id} are the same folder (a symlink): its images would be counted under both labels`, {
        file: path.join(root, id),
        fix: 'give each class its own folder',
      });
    }
    owner.set(key, id);
    seen.add(key);
  }
  for (let label = 0; label < classIds.length; label++) {
    for await (const rel of walkImages(path.join(root, classIds[label]), classIds[label], seen)) {
      yield { key: rel, path: path.join(root, rel), label };
    }
  }
}

export const imagefolder = {
  id: 'imagefolder',
  description: 'Any torchvision-style ImageFolder: <root>/<class>/<image>; classes are the sorted folder names.',
  splits: ['all'],
  layout: 'ROOT/<class>/…/<image>.{jpg,jpeg,png,ppm,bmp,pgm,tif,tiff,webp}',
  classIds: (root: string) => classFolders(root),
  async *samples(root: string) {
    const ids = await classFolders(root);
    let count = 0;
    for await (const s of imageFolderSamples(root, ids)) {
      count++;
      yield s;
    }
    if (count === 0) {
      throw new UsageError(`no images found under the ${ids.length} class folders (extensions: ${IMAGE_EXTENSIONS.join(' ')})`, {
        file: root,
        fix: 'check --root and that the images have one of these extensions',
      });
    }
  },
} as const satisfies DatasetAdapter;

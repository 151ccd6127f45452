/**
 * Helpers shared by the adapters of datasets shipped as arrays inside container files (CIFAR, MNIST,
 * STL-10, FER2013, PatchCamelyon): finding the folder that holds a split's files under --root, reading a
 * file that may be gzipped, and turning planar pixel rows into the interleaved HWC a PIL image holds.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../errors.js';
import { describeListing, firstFitting, isDirectory, listDir, type DirListing } from './imagenet-fs.js';
import type { RawImage } from '../models/preprocess/image.js';

/**
 * The first folder among `root` and `root/<sub>` (in that order, each sub tried as given, e.g.
 * `cifar-10-batches-py` or `MNIST/raw`) for which `pick` finds the split's files; `pick` returns what it
 * found or undefined. Otherwise one error saying what `layout` expects and what `root` holds.
 */
export async function findInRoot<T>(
  root: string,
  subs: readonly string[],
  pick: (l: DirListing) => T | undefined,
  expected: { layout: string; fix: (top: DirListing) => string },
): Promise<T> {
  const top = await listDir(root);
  let hit: T | undefined;
  const picks = async (dir: string) => {
    hit = (await isDirectory(dir)) ? pick(await listDir(dir)) : undefined;
    return hit !== undefined;
  };
  if (await firstFitting(root, ['', ...subs.map((s) => path.join(...s.split('/')))], picks)) return hit!;
  throw new UsageError(`found ${describeListing(top)}; expected ${expected.layout}`, { file: root, fix: expected.fix(top) });
}

/** The fix for a root that holds the distribution's archive but not its extracted files. */
export function extractFix(top: DirListing, archive: RegExp, otherwise: string): string {
  const found = top.files.find((f) => archive.test(f));
  return found ? `extract ${found} into ROOT (or point --root at the extracted folder)` : otherwise;
}

/** A file's bytes, gunzipped when its name ends in `.gz`; a file that is not gzip is an error naming it. */
export async function readMaybeGzip(file: string, fix: string): Promise<Uint8Array> {
  const raw = await readFile(file);
  if (!file.endsWith('.gz')) return raw;
  try {
    return gunzipSync(raw);
  } catch (err) {
    throw new UsageError(`cannot gunzip: ${(err as Error).message}`, { file, fix });
  }
}

/**
 * Interleaved HWC pixels from channel planes: `src` holds `channels` planes of height·width bytes, each
 * row-major (CIFAR), or column-major when `columnMajor` (STL-10, written from MATLAB). A fresh array, so a
 * sample never keeps (or, posted to a worker, copies) its whole container.
 */
export function planesToHwc(src: Uint8Array, width: number, height: number, channels: number, columnMajor = false): Uint8Array {
  const plane = width * height;
  const out = new Uint8Array(plane * channels);
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[(y * width + x) * channels + c] = src[base + (columnMajor ? x * height + y : y * width + x)];
    }
  }
  return out;
}

/** What `Image.fromarray` holds for a uint8 HWC array with 3 channels ('RGB') or an HW array ('L'). */
export function rawImage(data: Uint8Array, width: number, height: number, mode: 'RGB' | 'L'): RawImage {
  return { width, height, channels: mode === 'RGB' ? 3 : 1, mode, data };
}

export { nonEmptyLines } from './benchmark-fs.js';

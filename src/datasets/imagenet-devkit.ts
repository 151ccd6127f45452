/**
 * ImageNet-1k validation labels for the flat folder of `ILSVRC2012_val_*.JPEG` files, from either
 *  - the ILSVRC-2012 devkit: `data/ILSVRC2012_validation_ground_truth.txt` holds one ILSVRC2012_ID (1…1000)
 *    per image, in file-name order. These ids are the devkit's own numbering, NOT class indices: the
 *    `synsets` struct array of `data/meta.mat` maps each ILSVRC2012_ID to its WordNet id, and the class
 *    index is the wnid's position in the sorted list (as torchvision's `parse_devkit_archive` does); or
 *  - Kaggle's ImageNet localization challenge `LOC_val_solution.csv` (`ImageId,PredictionString`, the
 *    prediction string being `wnid x0 y0 x1 y1 [wnid x0 y0 x1 y1 …]`; the first wnid is the class).
 * Parsers are pure; the loaders only read the files.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { loadMat, matScalar, matStruct, matText, matVariable, type MatFile } from './mat5.js';
import { imagenetWnidIndex, WNID_PATTERN } from './wnids.js';

/** `ILSVRC2012_val_00000001.JPEG` → 1. */
export const VAL_IMAGE = /^ILSVRC2012_val_(\d{8})\.jpe?g$/i;

const DEVKIT_FIX = 'use the ILSVRC2012_devkit_t12 that matches the ILSVRC-2012 validation images';

/** One ILSVRC2012_ID (1…1000) per line; a final newline is optional, blank lines elsewhere are errors. */
export function parseGroundTruth(text: string, file?: string): number[] {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((line, i) => {
    const t = line.trim();
    const id = /^\d+$/.test(t) ? Number(t) : NaN;
    if (!(id >= 1 && id <= 1000)) {
      throw new UsageError(`line ${i + 1} is ${JSON.stringify(line)}, not an ILSVRC2012_ID between 1 and 1000`, { file, fix: DEVKIT_FIX });
    }
    return id;
  });
}

/** ILSVRC2012_ID → WordNet id, from the devkit's `meta.mat` (`synsets` with fields ILSVRC2012_ID, WNID, …). */
export function synsetWnids(mat: MatFile, file = mat.file): Map<number, string> {
  const synsets = matStruct(matVariable(mat, 'synsets', file), 'synsets', ['ILSVRC2012_ID', 'WNID'], file);
  const out = new Map<number, string>();
  synsets.elements.forEach((s, i) => {
    const id = matScalar(s.get('ILSVRC2012_ID')!, `synsets(${i + 1}).ILSVRC2012_ID`, file);
    const wnid = matText(s.get('WNID')!, `synsets(${i + 1}).WNID`, file);
    if (out.has(id)) throw new UsageError(`ILSVRC2012_ID ${id} appears twice in synsets (${out.get(id)} and ${wnid})`, { file, fix: DEVKIT_FIX });
    out.set(id, wnid);
  });
  return out;
}

/**
 * Class index of each ground-truth line: ILSVRC2012_ID → wnid (meta.mat) → position in the 1000 sorted wnids.
 * Errors name the file at fault.
 */
export function devkitLabels(ids: readonly number[], idToWnid: ReadonlyMap<number, string>, files: { groundTruth?: string; meta?: string } = {}): number[] {
  const index = imagenetWnidIndex();
  const cache = new Map<number, number>();
  return ids.map((id, line) => {
    const hit = cache.get(id);
    if (hit !== undefined) return hit;
    const wnid = idToWnid.get(id);
    if (wnid === undefined) {
      throw new UsageError(`no synset has ILSVRC2012_ID ${id} (used on line ${line + 1} of ${files.groundTruth ?? 'the ground truth'})`, { file: files.meta, fix: DEVKIT_FIX });
    }
    const label = index.get(wnid);
    if (label === undefined) {
      throw new UsageError(`ILSVRC2012_ID ${id} maps to ${JSON.stringify(wnid)}, which is not one of the 1000 ImageNet class wnids`, { file: files.meta, fix: DEVKIT_FIX });
    }
    cache.set(id, label);
    return label;
  });
}

/** Reads both devkit files and returns one class index per ground-truth line. */
export async function loadDevkitLabels(groundTruthFile: string, metaFile: string): Promise<number[]> {
  const ids = parseGroundTruth(await readFile(groundTruthFile, 'utf8'), groundTruthFile);
  const idToWnid = synsetWnids(await loadMat(metaFile));
  return devkitLabels(ids, idToWnid, { groundTruth: groundTruthFile, meta: metaFile });
}

const KAGGLE_FIX = "use Kaggle's LOC_val_solution.csv from the ImageNet Object Localization Challenge";

/** Kaggle's `LOC_val_solution.csv`: ImageId (file name without extension) → class index. */
export function parseKaggleSolution(text: string, file?: string): Map<string, number> {
  const index = imagenetWnidIndex();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== 'ImageId,PredictionString') {
    throw new UsageError(`the first line is ${JSON.stringify(lines[0] ?? '')}, expected "ImageId,PredictionString"`, { file, fix: KAGGLE_FIX });
  }
  const out = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const comma = line.indexOf(',');
    const id = comma < 0 ? line : line.slice(0, comma);
    const wnid = comma < 0 ? '' : line.slice(comma + 1).trim().split(/\s+/)[0];
    if (!WNID_PATTERN.test(wnid)) throw new UsageError(`line ${i + 1} (${id}) has no WordNet id at the start of its PredictionString`, { file, fix: KAGGLE_FIX });
    const label = index.get(wnid);
    if (label === undefined) throw new UsageError(`line ${i + 1} (${id}): ${wnid} is not one of the 1000 ImageNet class wnids`, { file, fix: KAGGLE_FIX });
    if (out.has(id)) throw new UsageError(`line ${i + 1}: ${id} is listed twice`, { file, fix: KAGGLE_FIX });
    out.set(id, label);
  }
  return out;
}

export async function loadKaggleSolution(file: string): Promise<Map<string, number>> {
  return parseKaggleSolution(await readFile(file, 'utf8'), file);
}

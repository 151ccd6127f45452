/**
 * The annotation file CLIP_benchmark writes for a multilingual retrieval dataset on first use and reads from
 * then on (`create_annotation_file` in datasets/crossmodal3600.py, xtd10.py, multilingual_mscoco.py):
 * `ROOT/<name>-<lang>.json` = {"image_paths": […], "annotations": […], "indicies" | "indices": […]}, image i
 * with caption i, the images it found on disk only. The paths were written as `<its --dataset_root>/<data
 * folder>/images/<file>`; they are read from `<data folder>/images/` on, under our ROOT, so a moved root still reads.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { isFile } from '../imagenet-fs.js';
import { assemble, filesPresent, noImagesError, type ListedImage } from './assemble.js';
import { JsonFields, readJsonFile } from './json-fields.js';
import type { RetrievalData } from './types.js';

export interface GeneratedAnnotation {
  /** `crossmodal3600_captions-`, `xtd10-`, `multilingual_mscoco_captions-` (CLIP_benchmark's OUTPUT_FILENAME_TEMPLATE before its `{}`) */
  prefix: string;
  /** the data folder whose `images/` the paths point into: xm3600, xtd10, multilingual_mscoco */
  dataFolder: string;
}

const FIX = 'delete it to read the dataset\'s own files, or let CLIP_benchmark write it again';

/** Language → file of every generated annotation file in ROOT. */
export async function generatedLanguages(root: string, g: GeneratedAnnotation): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let names: string[] = [];
  try {
    names = await readdir(root);
  } catch {
    return found;
  }
  for (const name of names) {
    if (!name.startsWith(g.prefix) || !name.endsWith('.json')) continue;
    const language = name.slice(g.prefix.length, -'.json'.length);
    if (language && (await isFile(path.join(root, name)))) found.set(language, path.join(root, name));
  }
  return found;
}

/** The images of one generated file, each with its one caption, paths under ROOT/<data folder>/images/. */
export async function readGenerated(file: string, root: string, g: GeneratedAnnotation): Promise<ListedImage[]> {
  const f = new JsonFields(file, FIX);
  const top = f.object(await readJsonFile(file, FIX), '');
  const paths = f.array(top.image_paths, 'image_paths');
  const annotations = f.array(top.annotations, 'annotations');
  if (paths.length !== annotations.length) throw new UsageError(`"image_paths" has ${paths.length} entries and "annotations" ${annotations.length}`, { file, fix: FIX });
  if (paths.length === 0) throw new UsageError('"image_paths" is empty: CLIP_benchmark found none of the images when it wrote the file', { file, fix: FIX });
  const marker = `${g.dataFolder}/images/`;
  const seen = new Map<string, number>();
  return paths.map((raw, i) => {
    const written = f.string(raw, `image_paths[${i}]`).replaceAll('\\', '/');
    const at = written.startsWith(marker) ? 0 : written.lastIndexOf(`/${marker}`) + 1;
    const rel = written.slice(at);
    if (at === 0 && !written.startsWith(marker)) throw new UsageError(`image_paths[${i}] is ${JSON.stringify(written)}, expected a path through ${marker}`, { file, fix: FIX });
    const name = rel.slice(marker.length);
    const first = seen.get(name);
    if (first !== undefined) throw new UsageError(`image_paths[${i}] repeats image_paths[${first}] (${name})`, { file, fix: FIX });
    seen.set(name, i);
    return { key: name, path: path.join(root, rel), captions: [f.caption(annotations[i], `annotations[${i}]`)] };
  });
}

/** A generated file as the split: its images checked against the disk (CLIP_benchmark listed only those it found). */
export async function readGeneratedData(file: string, root: string, g: GeneratedAnnotation, language: string): Promise<RetrievalData> {
  const listed = await readGenerated(file, root, g);
  const present = await filesPresent(listed.map((im) => im.path));
  if (!present.some(Boolean)) throw await noImagesError(file, listed.length, listed[0].key, [`${g.dataFolder}/images`], root);
  return assemble(listed, present, `CLIP_benchmark's ${path.basename(file)} (${language}: the images and captions it wrote), images in ${g.dataFolder}/images/`);
}

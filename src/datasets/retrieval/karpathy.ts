/**
 * Karpathy's splits (`caption_datasets.zip`: dataset_flickr30k.json, dataset_flickr8k.json, dataset_coco.json):
 * `{"dataset": "coco", "images": [{"filepath": "val2014", "filename": "COCO_val2014_….jpg", "cocoid": 391895,
 * "split": "test" | "val" | "train" | "restval", "sentences": [{"raw": "A man …", "tokens": […]}, …]}, …]}`.
 * The caption is `raw` (the text as written; `tokens` are lower-cased and stripped of punctuation).
 * `filepath` and `cocoid` exist for COCO only.
 */
import { UsageError } from '../../errors.js';
import { JsonFields, readJsonFile } from './json-fields.js';

export const KARPATHY_FIX = "use the file as it comes in Karpathy's caption_datasets.zip";

export interface KarpathyImage {
  /** where it is in the file, for messages: `images[12]` */
  where: string;
  filename: string;
  filepath?: string;
  cocoid?: number;
  captions: string[];
}

/** The images of one split, in file order, each with its `raw` captions (at least one, none empty). */
export async function readKarpathySplit(file: string, dataset: string, split: string): Promise<KarpathyImage[]> {
  const f = new JsonFields(file, KARPATHY_FIX);
  const top = f.object(await readJsonFile(file, KARPATHY_FIX), '');
  if (top.dataset !== undefined && top.dataset !== dataset) {
    throw new UsageError(`"dataset" is ${JSON.stringify(top.dataset)}, expected "${dataset}"`, { file, fix: `use dataset_${dataset}.json for this dataset` });
  }
  const images = f.array(top.images, 'images');
  const out: KarpathyImage[] = [];
  const splitCounts = new Map<string, number>();
  images.forEach((raw, i) => {
    const where = `images[${i}]`;
    const image = f.object(raw, where);
    const imageSplit = f.string(image.split, `${where}.split`);
    splitCounts.set(imageSplit, (splitCounts.get(imageSplit) ?? 0) + 1);
    if (imageSplit !== split) return;
    const sentences = f.array(image.sentences, `${where}.sentences`);
    if (sentences.length === 0) throw new UsageError(`${where}.sentences is empty, expected the image's captions`, { file, fix: KARPATHY_FIX });
    out.push({
      where,
      filename: f.string(image.filename, `${where}.filename`),
      filepath: image.filepath === undefined ? undefined : f.string(image.filepath, `${where}.filepath`),
      cocoid: image.cocoid === undefined ? undefined : f.integer(image.cocoid, `${where}.cocoid`),
      captions: sentences.map((s, j) => f.caption(f.object(s, `${where}.sentences[${j}]`).raw, `${where}.sentences[${j}].raw`)),
    });
  });
  if (out.length === 0) {
    const found = [...splitCounts].map(([s, n]) => `${s} (${n})`).join(', ') || 'no images';
    throw new UsageError(`no image has split "${split}"; found ${found}`, { file, fix: 'pass --split with one of the splits found' });
  }
  const seen = new Map<string, string>();
  for (const im of out) {
    const name = im.filepath === undefined ? im.filename : `${im.filepath}/${im.filename}`;
    const first = seen.get(name);
    if (first) throw new UsageError(`${im.where} lists ${name} again (first at ${first})`, { file, fix: KARPATHY_FIX });
    seen.set(name, im.where);
  }
  return out;
}

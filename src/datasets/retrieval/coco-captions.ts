/**
 * The COCO captions format, read as torchvision's `CocoCaptions` (which CLIP_benchmark uses) reads it:
 * `{"images": [{"id", "file_name"}, …], "annotations": [{"image_id", "caption"}, …]}`; images in increasing
 * `id` (its `sorted(coco.imgs.keys())`), each image's captions in annotation order. Used for CLIP_benchmark's
 * `coco_<split>_karpathy.json` and COCO's official `annotations/captions_{val,train}2014.json`.
 */
import { UsageError } from '../../errors.js';
import { JsonFields, readJsonFile } from './json-fields.js';

export const COCO_CAPTIONS_FIX = 'use the COCO captions file as distributed ({"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]})';

export interface CocoImage {
  id: number;
  fileName: string;
  /** where it is in the file, for messages: `images[12]` */
  where: string;
  captions: string[];
}

/** Every image of the file in increasing id, with its captions (possibly none: the caller decides). */
export async function readCocoCaptions(file: string): Promise<Map<number, CocoImage>> {
  const f = new JsonFields(file, COCO_CAPTIONS_FIX);
  const top = f.object(await readJsonFile(file, COCO_CAPTIONS_FIX), '');
  const byId = new Map<number, CocoImage>();
  f.array(top.images, 'images').forEach((raw, i) => {
    const where = `images[${i}]`;
    const image = f.object(raw, where);
    const id = f.integer(image.id, `${where}.id`);
    const first = byId.get(id);
    if (first) throw new UsageError(`${where}.id ${id} is already used by ${first.where}`, { file, fix: COCO_CAPTIONS_FIX });
    byId.set(id, { id, fileName: f.string(image.file_name, `${where}.file_name`), where, captions: [] });
  });
  f.array(top.annotations, 'annotations').forEach((raw, i) => {
    const where = `annotations[${i}]`;
    const ann = f.object(raw, where);
    const id = f.integer(ann.image_id, `${where}.image_id`);
    const image = byId.get(id);
    if (!image) throw new UsageError(`${where}.image_id ${id} is not the id of any image in "images"`, { file, fix: COCO_CAPTIONS_FIX });
    image.captions.push(f.caption(ann.caption, `${where}.caption`));
  });
  return new Map([...byId].sort(([a], [b]) => a - b));
}

/**
 * Flickr30k and Flickr8k (Karpathy's splits: 1,000 test images with 5 captions each), read from CLIP_benchmark's
 * `<id>_<split>_karpathy.txt` or Karpathy's `dataset_<id>.json`, the images in the dataset's own folder or in ROOT.
 * Images keep the annotation file's order and are keyed by their file name, so both layouts give the same keys.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isFile } from '../imagenet-fs.js';
import { assemble, folderName, locateImageFolder, noImagesError, type ListedImage } from './assemble.js';
import { parseClipBenchmarkTxt } from './clip-benchmark-txt.js';
import { readKarpathySplit } from './karpathy.js';
import { describeLayouts, locateRetrieval, WDS_RETRIEVAL, type RetrievalLayout } from './locate.js';
import type { RetrievalAdapter, RetrievalData } from './types.js';

interface FlickrSpec {
  id: 'flickr30k' | 'flickr8k';
  /** where the images may be, in the order looked at ('' = ROOT) */
  imageFolders: readonly string[];
}

const folderList = (folders: readonly string[]) => folders.map(folderName).join(' or ');

/** The listed images in the first image folder that holds any of them. */
async function inImageFolder(spec: FlickrSpec, root: string, annotations: string, listed: readonly { name: string; captions: string[] }[], source: string): Promise<RetrievalData> {
  const names = listed.map((im) => im.name);
  const found = await locateImageFolder(root, spec.imageFolders, names);
  if (!found) throw await noImagesError(annotations, names.length, names[0], spec.imageFolders, root);
  const images: ListedImage[] = listed.map((im) => ({ key: im.name, path: path.join(found.dir, im.name), captions: im.captions }));
  return assemble(images, found.present, `${source}, images in ${folderName(found.rel)}`);
}

function flickrLayouts(spec: FlickrSpec): RetrievalLayout[] {
  const txt = (split: string) => `${spec.id}_${split}_karpathy.txt`;
  const karpathy = `dataset_${spec.id}.json`;
  return [
    {
      expects: `ROOT/${txt('<split>')} (CLIP_benchmark's annotations) with the images in ${folderList(spec.imageFolders)}`,
      fits: (root, split) => isFile(path.join(root, txt(split))),
      async read(root, split) {
        const file = path.join(root, txt(split));
        const listed = parseClipBenchmarkTxt(await readFile(file, 'utf8'), file);
        return inImageFolder(spec, root, file, listed, `CLIP_benchmark ${txt(split)}`);
      },
    },
    {
      expects: `ROOT/${karpathy} (Karpathy's splits) with the images in ${folderList(spec.imageFolders)}`,
      fits: (root) => isFile(path.join(root, karpathy)),
      async read(root, split) {
        const file = path.join(root, karpathy);
        const listed = (await readKarpathySplit(file, spec.id, split)).map((im) => ({ name: im.filename, captions: im.captions }));
        return inImageFolder(spec, root, file, listed, `Karpathy ${karpathy} split ${split}`);
      },
    },
    WDS_RETRIEVAL,
  ];
}

function flickr(spec: FlickrSpec, description: string): RetrievalAdapter {
  const layouts = flickrLayouts(spec);
  const splits = ['test', 'val', 'train'] as const;
  return {
    id: spec.id,
    description,
    splits,
    layout: describeLayouts(layouts),
    expectedCount: { test: { images: 1000, captions: 5000 } },
    load: (root, split) => locateRetrieval(spec.id, splits, layouts, root, split),
  };
}

export const flickr30k = flickr(
  { id: 'flickr30k', imageFolders: ['flickr30k-images', ''] },
  "Flickr30k image–caption retrieval on Karpathy's split (test: 1,000 images × 5 captions), as the CLIP paper's Table 13 and CLIP_benchmark measure it.",
);

export const flickr8k = flickr(
  { id: 'flickr8k', imageFolders: ['Flicker8k_Dataset', 'Images', ''] },
  "Flickr8k image–caption retrieval on Karpathy's split (test: 1,000 images × 5 captions), as CLIP_benchmark measures it.",
);

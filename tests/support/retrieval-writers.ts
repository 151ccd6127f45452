/**
 * Retrieval datasets in each native layout, written from one description of the truth (which image has which
 * captions, in which split) so a test derives its expected pairings from its own input: Karpathy's
 * dataset_*.json, CLIP_benchmark's Flickr .txt and COCO-format .json, COCO's official captions files,
 * CLIP_benchmark's WebDataset retrieval shards and the generic manifest. Images are real tiny JPEGs (sharp).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { writeTar, type TarIn } from './tar-writer.js';

export interface FixtureImage {
  /** the file name (Flickr: "1000092795.jpg"; COCO: "COCO_val2014_000000000042.jpg") */
  name: string;
  split: string;
  captions: string[];
  /** COCO only */
  cocoid?: number;
  /** COCO only: val2014 or train2014 */
  folder?: string;
  /** colour seed of its pixels */
  seed: number;
}

export function write(root: string, rel: string, content: string | Uint8Array): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

const colour = (seed: number) => ({ r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 193) % 256 });

export function jpeg(seed: number): Promise<Buffer> {
  return sharp({ create: { width: 8 + (seed % 5), height: 6 + (seed % 3), channels: 3, background: colour(seed) } }).jpeg().toBuffer();
}

/** Each image's JPEG under `root/<folder>/` (COCO images under their own folder when `folder` is undefined). */
export async function writeImages(root: string, folder: string | undefined, images: readonly FixtureImage[]): Promise<void> {
  for (const im of images) write(root, path.join(folder ?? im.folder ?? '', im.name), await jpeg(im.seed));
}

/** Flickr-like images: `counts[i]` captions for image i, some with commas and a leading space, splits as given. */
export function flickrImages(splits: readonly string[], counts: readonly number[] = splits.map(() => 5)): FixtureImage[] {
  return splits.map((split, i) => ({
    name: `${1000 + 37 * i}.jpg`,
    split,
    seed: i + 1,
    captions: Array.from({ length: counts[i] }, (_, j) => (j === 1 ? `A dog, ${i}, runs "fast" on grass #${j}.` : `Image ${i} caption ${j}: a person rides a bike.`)),
  }));
}

/** COCO-like images (ids not in file order; some with 6 and 7 captions). */
export function cocoImages(rows: readonly { cocoid: number; split: string; count: number; folder?: string }[]): FixtureImage[] {
  return rows.map(({ cocoid, split, count, folder = 'val2014' }, i) => ({
    name: `COCO_${folder}_${String(cocoid).padStart(12, '0')}.jpg`,
    split,
    cocoid,
    folder,
    seed: 100 + i,
    captions: Array.from({ length: count }, (_, j) => `A kitchen, ${cocoid}, with ${j} chairs.${j === 0 ? ' ' : ''}`),
  }));
}

/** Karpathy's dataset_<id>.json, images in the given order. */
export function writeKarpathy(root: string, dataset: 'flickr30k' | 'flickr8k' | 'coco', images: readonly FixtureImage[]): string {
  let sentid = 0;
  const json = {
    images: images.map((im, imgid) => ({
      ...(im.folder ? { filepath: im.folder } : {}),
      sentids: im.captions.map((_, j) => sentid + j),
      filename: im.name,
      imgid,
      split: im.split,
      sentences: im.captions.map((raw) => ({ tokens: raw.toLowerCase().split(/\W+/).filter(Boolean), raw, imgid, sentid: sentid++ })),
      ...(im.cocoid !== undefined ? { cocoid: im.cocoid } : {}),
    })),
    dataset,
  };
  return write(root, `dataset_${dataset}.json`, JSON.stringify(json));
}

/** CLIP_benchmark's `<id>_<split>_karpathy.txt`: header, then `name.jpg,caption`; `interleave` writes caption j of every image before caption j+1. */
export function writeFlickrTxt(root: string, id: string, split: string, images: readonly FixtureImage[], opts: { interleave?: boolean; eol?: string } = {}): string {
  const mine = images.filter((im) => im.split === split);
  const lines: string[] = ['image,caption'];
  if (opts.interleave) {
    const most = Math.max(...mine.map((im) => im.captions.length));
    for (let j = 0; j < most; j++) for (const im of mine) if (j < im.captions.length) lines.push(`${im.name},${im.captions[j]}`);
  } else {
    for (const im of mine) for (const c of im.captions) lines.push(`${im.name},${c}`);
  }
  const eol = opts.eol ?? '\n';
  return write(root, `${id}_${split}_karpathy.txt`, lines.join(eol) + eol);
}

/** A COCO captions file: images listed in reverse, annotations round-robin across images (so readers must sort and group). */
export function writeCocoCaptions(root: string, rel: string, images: readonly FixtureImage[]): string {
  let id = 1;
  const annotations: { image_id: number; id: number; caption: string }[] = [];
  const most = Math.max(...images.map((im) => im.captions.length));
  for (let j = 0; j < most; j++) for (const im of images) if (j < im.captions.length) annotations.push({ image_id: im.cocoid!, id: id++, caption: im.captions[j] });
  const json = { info: {}, licenses: [], images: [...images].reverse().map((im) => ({ file_name: im.name, id: im.cocoid, height: 6, width: 8 })), annotations };
  return write(root, rel, JSON.stringify(json));
}

/** CLIP_benchmark's retrieval shards: ROOT/dataset_type.txt, ROOT/<split>/{0..n-1}.tar + nshards.txt, `perShard` samples a shard. */
export async function writeRetrievalWds(root: string, split: string, images: readonly FixtureImage[], perShard: number): Promise<void> {
  write(root, 'dataset_type.txt', 'retrieval\n');
  const shards: TarIn[][] = [];
  for (let i = 0; i < images.length; i++) {
    const key = `s${String(i).padStart(7, '0')}`;
    if (i % perShard === 0) shards.push([]);
    shards[shards.length - 1].push({ name: `${key}.jpg`, data: new Uint8Array(await jpeg(images[i].seed)) }, { name: `${key}.txt`, data: images[i].captions.map((c) => c.replace(/\n/g, '\\n')).join('\n') });
  }
  shards.forEach((members, s) => write(root, `${split}/${s}.tar`, writeTar(members)));
  write(root, `${split}/nshards.txt`, `${shards.length}\n`);
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** A retrieval manifest, one row per caption, image paths as given by `pathOf`. */
export function writeRetrievalManifest(root: string, rel: string, images: readonly FixtureImage[], pathOf: (im: FixtureImage) => string): string {
  const rows = images.flatMap((im) => im.captions.map((caption) => ({ path: pathOf(im), caption })));
  const text = rel.endsWith('.csv')
    ? ['caption,path', ...rows.map((r) => `${csvField(r.caption)},${csvField(r.path)}`)].join('\r\n') + '\r\n'
    : rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  return write(root, rel, text);
}

/** A multilingual image: its captions per language (a language absent from `captions` is absent from the files). */
export interface MultilingualImage {
  /** XM3600: the image key (file `<key>.jpg`); XTD10: the file name */
  name: string;
  captions: Record<string, string[]>;
  seed: number;
}

/** Multilingual images: each caption names its image, language and position, some with commas, quotes and spaces. */
export function multilingualImages(n: number, languages: readonly string[], perLanguage = 2): MultilingualImage[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${(0x1f00 + 31 * i).toString(16).padStart(16, '0')}`,
    seed: 300 + i,
    captions: Object.fromEntries(languages.map((l) => [l, Array.from({ length: perLanguage }, (_, j) => (j === 0 ? `${l} Bild ${i}, "erste" Zeile ${j}` : ` ${l} image ${i} caption ${j} `))])),
  }));
}

/**
 * Google's Crossmodal-3600 `captions.jsonl` under `root/<folder>/` (one object per line: "image/key", "image/locale",
 * then per language {"caption", "caption/tokenized", "caption/tokenized/lowercase"}) and its images in `images/`.
 */
export async function writeXm3600(root: string, folder: string, images: readonly MultilingualImage[], opts: { withImages?: (im: MultilingualImage) => boolean } = {}): Promise<string> {
  const lines = images.map((im) =>
    JSON.stringify({
      'image/key': im.name,
      'image/locale': Object.keys(im.captions)[0],
      ...Object.fromEntries(Object.entries(im.captions).map(([l, cs]) => [l, { caption: cs, 'caption/tokenized': cs.map((c) => c.trim()), 'caption/tokenized/lowercase': cs.map((c) => c.trim().toLowerCase()) }])),
    }),
  );
  for (const im of images) if (opts.withImages?.(im) ?? true) write(root, path.join(folder, 'images', `${im.name}.jpg`), await jpeg(im.seed));
  return write(root, path.join(folder, 'captions.jsonl'), lines.join('\n') + '\n');
}

/** The folder of adobe-research/Cross-lingual-Test-Dataset-XTD10 holding a language's captions (MIC: de, fr; STAIR: jp). */
export const xtdFolder = (language: string) => (language === 'de' || language === 'fr' ? 'MIC' : language === 'jp' ? 'STAIR' : 'XTD10');

/**
 * The XTD10 repository's files under `root/<base>` (`XTD10/test_image_names.txt`, `<folder>/test_1kcaptions_<lang>.txt`,
 * the first caption of each image per language; `flat` writes them all in `root/<base>` itself); `crlf` languages
 * are written as the repository's es, it, ko… files are: CRLF line ends and no final line end.
 */
export function writeXtd10Files(root: string, base: string, images: readonly MultilingualImage[], opts: { crlf?: readonly string[]; flat?: boolean } = {}): void {
  const at = (folder: string, name: string) => path.join(base, opts.flat ? '' : folder, name);
  write(root, at('XTD10', 'test_image_names.txt'), images.map((im) => im.name).join('\n') + '\n');
  for (const l of Object.keys(images[0].captions)) {
    const lines = images.map((im) => im.captions[l][0]);
    write(root, at(xtdFolder(l), `test_1kcaptions_${l}.txt`), opts.crlf?.includes(l) ? lines.join('\r\n') : lines.join('\n') + '\n');
  }
}

/**
 * The annotation file CLIP_benchmark writes on first use (`create_annotation_file`): ROOT/<file> =
 * {"image_paths", "annotations", "indicies"}, each path as it wrote it, `<its root>/<dataFolder>/images/<name>`.
 */
export function writeClipBenchmarkAnnotation(root: string, file: string, writtenRoot: string, dataFolder: string, pairs: readonly { name: string; caption: string; index: number }[]): string {
  const json = { image_paths: pairs.map((p) => `${writtenRoot}/${dataFolder}/images/${p.name}`), annotations: pairs.map((p) => p.caption), indicies: pairs.map((p) => p.index) };
  return write(root, file, JSON.stringify(json));
}

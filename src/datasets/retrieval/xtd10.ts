/**
 * XTD10 (Aggarwal & Kale 2020; adobe-research/Cross-lingual-Test-Dataset-XTD10): 1,000 MSCOCO 2014 images, one
 * caption each in 11 languages, and CLIP_benchmark's `multilingual_mscoco_captions`, the same files under another
 * data folder. Read as CLIP_benchmark's `datasets/xtd10.py` and `multilingual_mscoco.py` read them: the image
 * names of `XTD10/test_image_names.txt` paired line by line (Python's `splitlines`) with the language's
 * `test_1kcaptions_<lang>.txt` — from `MIC/` for de and fr, `STAIR/` for jp, `XTD10/` otherwise — captions kept
 * as written; images in `<data folder>/images/`. Where CLIP_benchmark would silently pair fewer lines (files of
 * different lengths) we refuse; a listed image whose file is absent counts as a failed image (CLIP_benchmark
 * drops it: `--exclude-failures` gives its number). CLIP_benchmark's own `xtd10-<lang>.json` /
 * `multilingual_mscoco_captions-<lang>.json` in ROOT is read first for its language, as CLIP_benchmark does.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { isFile } from '../imagenet-fs.js';
import { assemble, folderName, locateImageFolder, noImagesError, type ListedImage } from './assemble.js';
import { chooseLanguage, manifestLanguage } from './caption-language.js';
import { generatedLanguages, readGeneratedData } from './clip-benchmark-annotation.js';
import { describeLayouts, isManifestFile, locateRetrieval, type RetrievalLayout } from './locate.js';
import type { RetrievalAdapter, RetrievalData } from './types.js';
import { pySplitlines } from './wds.js';

/** CLIP_benchmark's `SUPPORTED_LANGUAGES` (xtd10.py; multilingual_mscoco.py lists the same 11). */
export const XTD10_LANGUAGES = ['de', 'en', 'es', 'fr', 'it', 'jp', 'ko', 'pl', 'ru', 'tr', 'zh'] as const;

const INDEX = 'test_image_names.txt';
const captionsFile = (language: string) => `test_1kcaptions_${language}.txt`;
const CAPTIONS_FILE = /^test_1kcaptions_(.+)\.txt$/;
/** The repository's folder per language (CLIP_benchmark's GITHUB_MIC_DATA_PATH, GITHUB_STAIR_DATA_PATH, GITHUB_DATA_PATH). */
const sourceFolder = (language: string) => (language === 'de' || language === 'fr' ? 'MIC' : language === 'jp' ? 'STAIR' : 'XTD10');
const SOURCE_FOLDERS = ['XTD10', 'MIC', 'STAIR', ''] as const;
/** where the repository's files may be: ROOT itself (a clone, or the files flat) or a clone inside it */
const BASES = ['', 'Cross-lingual-Test-Dataset-XTD10'] as const;
const FIX = 'use the files of github.com/adobe-research/Cross-lingual-Test-Dataset-XTD10 as they are (one line per image)';

interface XtdSpec {
  id: 'xtd10' | 'multilingual_mscoco';
  /** CLIP_benchmark's data folder under its --dataset_root: `<folder>/images/` */
  dataFolder: string;
  /** CLIP_benchmark's own annotation file `ROOT/<prefix><lang>.json` (its OUTPUT_FILENAME_TEMPLATE), read first where present, as CLIP_benchmark does */
  generatedPrefix: string;
}

/** The first base holding the image index, and the index's path. */
async function findIndex(root: string): Promise<{ base: string; index: string } | undefined> {
  for (const base of BASES) {
    for (const sub of ['XTD10', '']) {
      const index = path.join(root, base, sub, INDEX);
      if (await isFile(index)) return { base: path.join(root, base), index };
    }
  }
  return undefined;
}

/** Every language with a caption file in the base's folders, sorted. */
async function languagesIn(base: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const sub of SOURCE_FOLDERS) {
    let names: string[] = [];
    try {
      names = await readdir(path.join(base, sub));
    } catch {
      continue;
    }
    for (const name of names) {
      const language = CAPTIONS_FILE.exec(name)?.[1];
      const file = path.join(base, sub, name);
      // the repository's own folder for the language first, then any other
      if (language && (await isFile(file)) && (!found.has(language) || sub === sourceFolder(language))) found.set(language, file);
    }
  }
  return new Map([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The lines of a file as CLIP_benchmark reads them (`response.text.splitlines()`); an empty one is refused. */
async function lines(file: string, what: string): Promise<string[]> {
  const out = pySplitlines(await readFile(file, 'utf8'));
  const empty = out.findIndex((l) => l.trim() === '');
  if (empty >= 0) throw new UsageError(`line ${empty + 1} is empty, expected ${what}`, { file: `${file}:${empty + 1}`, fix: FIX });
  if (out.length === 0) throw new UsageError(`the file is empty, expected one ${what} per line`, { file, fix: FIX });
  return out;
}

async function readXtd(spec: XtdSpec, root: string, language: string | undefined): Promise<RetrievalData> {
  const generated = await generatedLanguages(root, { prefix: spec.generatedPrefix, dataFolder: spec.dataFolder });
  const repo = await findIndex(root);
  const files = repo ? await languagesIn(repo.base) : new Map<string, string>();
  const lang = chooseLanguage(spec.id, language, [...new Set([...generated.keys(), ...files.keys()])].sort(), repo?.base ?? root);
  if (generated.has(lang) || !repo) return readGeneratedData(generated.get(lang)!, root, { prefix: spec.generatedPrefix, dataFolder: spec.dataFolder }, lang);
  const { index } = repo;
  const captionFile = files.get(lang)!;
  const names = await lines(index, 'an image file name');
  const captions = await lines(captionFile, 'a caption');
  if (captions.length !== names.length) {
    throw new UsageError(`${captions.length} captions for the ${names.length} images of ${INDEX}; CLIP_benchmark would pair only the first ${Math.min(captions.length, names.length)}`, { file: captionFile, fix: FIX });
  }
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) throw new UsageError(`${name} is listed again (first on line ${first + 1})`, { file: `${index}:${i + 1}`, fix: FIX });
    seen.set(name, i);
  });
  const folders = [path.join(spec.dataFolder, 'images'), 'images', ''];
  const found = await locateImageFolder(root, folders, names);
  if (!found) throw await noImagesError(index, names.length, names[0], folders, root);
  const images: ListedImage[] = names.map((name, i) => ({ key: name, path: path.join(found.dir, name), captions: [captions[i]] }));
  const rel = (f: string) => path.relative(root, f);
  return assemble(images, found.present, `${spec.id} ${rel(index)} with ${rel(captionFile)} (${lang}), images in ${folderName(found.rel)}`);
}

function xtd(spec: XtdSpec, description: string): RetrievalAdapter {
  const layouts: RetrievalLayout[] = [
    {
      expects: `ROOT/XTD10/${INDEX} with ROOT/{XTD10,MIC,STAIR}/${captionsFile('<lang>')} (a clone of adobe-research/Cross-lingual-Test-Dataset-XTD10, or its files flat in ROOT) and the images in ROOT/${spec.dataFolder}/images/ (CLIP_benchmark's folder), ROOT/images/ or ROOT; or CLIP_benchmark's own ROOT/${spec.generatedPrefix}<lang>.json with the images in ROOT/${spec.dataFolder}/images/`,
      fits: async (root) => (await findIndex(root)) !== undefined || (await generatedLanguages(root, { prefix: spec.generatedPrefix, dataFolder: spec.dataFolder })).size > 0,
      read: (root, _split, language) => readXtd(spec, root, language),
    },
  ];
  const splits = ['test'] as const;
  return {
    id: spec.id,
    description,
    splits,
    layout: describeLayouts(layouts),
    expectedCount: { test: { images: 1000, captions: 1000 } },
    languages: XTD10_LANGUAGES,
    async load(root, split, language) {
      if (await isManifestFile(root)) manifestLanguage(spec.id, language, root);
      return locateRetrieval(spec.id, splits, layouts, root, split, language);
    },
  };
}

export const xtd10 = xtd(
  { id: 'xtd10', dataFolder: 'xtd10', generatedPrefix: 'xtd10-' },
  'XTD10 multilingual image–caption retrieval in one of 11 languages (--language): 1,000 MSCOCO images, one caption each, as CLIP_benchmark measures it.',
);

export const multilingualMscoco = xtd(
  { id: 'multilingual_mscoco', dataFolder: 'multilingual_mscoco', generatedPrefix: 'multilingual_mscoco_captions-' },
  "CLIP_benchmark's multilingual_mscoco_captions (--language, 11 languages): XTD10's 1,000 MSCOCO images and captions under CLIP_benchmark's multilingual_mscoco/ folder.",
);

/**
 * Crossmodal-3600 (XM3600, Thapliyal et al. 2022): 3,600 Open Images photos captioned in 36 languages, as
 * Google distributes it (captions.zip → `captions.jsonl`, images.tgz → `images/<key>.jpg`) and CLIP_benchmark
 * evaluates it (`datasets/crossmodal3600.py`): one JSON object per line, `{"image/key": "…", "<lang>":
 * {"caption": […], "caption/tokenized": […], …}, …}`; per image, the first caption of the language only,
 * so 3,600 images × 1 caption; images in line order. CLIP_benchmark drops a listed image whose file is absent;
 * here it counts as a failed image (a miss), and `--exclude-failures` gives CLIP_benchmark's number.
 * CLIP_benchmark's own `crossmodal3600_captions-<lang>.json` in ROOT is read first for its language, as it does.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { isFile } from '../imagenet-fs.js';
import { jsonlObjects, rowError } from '../manifest.js';
import { assemble, filesPresent, noImagesError, type ListedImage } from './assemble.js';
import { chooseLanguage, manifestLanguage } from './caption-language.js';
import { generatedLanguages, readGeneratedData, type GeneratedAnnotation } from './clip-benchmark-annotation.js';
import { describeLayouts, isManifestFile, locateRetrieval, type RetrievalLayout } from './locate.js';
import type { RetrievalAdapter, RetrievalData } from './types.js';

/** CLIP_benchmark's `SUPPORTED_LANGUAGES` (crossmodal3600.py), the 36 of Google's captions.jsonl. */
export const XM3600_LANGUAGES = [
  'ar', 'bn', 'cs', 'da', 'de', 'el', 'en', 'es', 'fa', 'fi', 'fil', 'fr', 'he', 'hi', 'hr', 'hu', 'id', 'it', 'ja', 'ko', 'mi', 'nl', 'no', 'pl', 'pt', 'quz', 'ro', 'ru', 'sv', 'sw', 'te', 'th', 'tr', 'uk', 'vi', 'zh',
] as const;

const CAPTIONS = 'captions.jsonl';
const KEY = 'image/key';
/** CLIP_benchmark's `--dataset_root` holds `xm3600/`; the extracted folder itself is accepted too */
const DATA_FOLDERS = ['xm3600', ''] as const;
/** CLIP_benchmark's crossmodal3600_captions-<lang>.json, read first where present, as CLIP_benchmark does */
const GENERATED: GeneratedAnnotation = { prefix: 'crossmodal3600_captions-', dataFolder: 'xm3600' };
const FIX = `use captions.jsonl as Google distributes it (captions.zip): one {"${KEY}": …, "<lang>": {"caption": […]}} per line`;

interface Xm3600Record {
  line: number;
  key: string;
  /** language → its captions (at least one) */
  captions: Map<string, unknown>;
}

/** A value that is a language's entry: an object with a "caption" array. */
const isLanguageEntry = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as { caption?: unknown }).caption);

function parseRecords(text: string, file: string): Xm3600Record[] {
  const records = jsonlObjects(text, file, FIX).map(({ line, obj }) => {
    const key = obj[KEY];
    if (typeof key !== 'string' || key === '' || key.includes('/')) throw rowError(file, line, `"${KEY}" is ${key === undefined ? 'missing' : JSON.stringify(key)}, expected the image's key`, FIX);
    return { line, key, captions: new Map(Object.entries(obj).filter(([, v]) => isLanguageEntry(v))) };
  });
  if (records.length === 0) throw new UsageError('the file lists no images', { file, fix: FIX });
  const seen = new Map<string, number>();
  for (const r of records) {
    const first = seen.get(r.key);
    if (first !== undefined) throw rowError(file, r.line, `image ${r.key} is listed again (first on line ${first})`, FIX);
    seen.set(r.key, r.line);
  }
  return records;
}

/** The first caption in `language` of each record, as CLIP_benchmark takes it (`data_item[lang]["caption"][0]`). */
function firstCaptions(records: readonly Xm3600Record[], language: string, file: string): string[] {
  return records.map((r) => {
    const entry = r.captions.get(language) as { caption: unknown[] } | undefined;
    if (!entry) throw rowError(file, r.line, `image ${r.key} has no "${language}" captions`, FIX);
    const caption = entry.caption[0];
    if (typeof caption !== 'string' || caption.trim() === '') {
      throw rowError(file, r.line, `the first "${language}" caption of image ${r.key} is ${caption === undefined ? 'missing' : `${JSON.stringify(caption)}, expected its text`}`, FIX);
    }
    return caption;
  });
}

/** The first folder holding captions.jsonl (xm3600/ first, as CLIP_benchmark's root holds it), if any. */
async function captionsFolder(root: string): Promise<string | undefined> {
  for (const f of DATA_FOLDERS) if (await isFile(path.join(root, f, CAPTIONS))) return f;
  return undefined;
}

async function readXm3600(root: string, language: string | undefined): Promise<RetrievalData> {
  const generated = await generatedLanguages(root, GENERATED);
  const folder = await captionsFolder(root);
  const file = folder === undefined ? undefined : path.join(root, folder, CAPTIONS);
  const records = file === undefined ? [] : parseRecords(await readFile(file, 'utf8'), file);
  // the languages found: those of the first image (every image has all 36 in Google's file; one lacking the chosen one is named)
  const found = [...new Set([...generated.keys(), ...(records[0]?.captions.keys() ?? [])])].sort();
  const lang = chooseLanguage('crossmodal3600', language, found, file ?? root);
  if (generated.has(lang) || file === undefined || folder === undefined) return readGeneratedData(generated.get(lang)!, root, GENERATED, lang);
  const dir = path.join(root, folder);
  const captions = firstCaptions(records, lang, file);
  const images: ListedImage[] = records.map((r, i) => ({ key: `${r.key}.jpg`, path: path.join(dir, 'images', `${r.key}.jpg`), captions: [captions[i]] }));
  const present = await filesPresent(images.map((im) => im.path));
  if (!present.some(Boolean)) throw await noImagesError(file, images.length, images[0].key, [path.join(folder, 'images')], root);
  return assemble(images, present, `Crossmodal-3600 ${path.join(folder, CAPTIONS)} (${lang}: the first caption of each image, as CLIP_benchmark), images in ${path.join(folder, 'images')}/`);
}

const layouts: RetrievalLayout[] = [
  {
    expects: `ROOT/xm3600/${CAPTIONS} (Google's captions.zip; or ROOT/${CAPTIONS}) with the images in images/ beside it (images.tgz), as CLIP_benchmark downloads them; or CLIP_benchmark's own ROOT/${GENERATED.prefix}<lang>.json with the images in ROOT/xm3600/images/`,
    fits: async (root) => (await captionsFolder(root)) !== undefined || (await generatedLanguages(root, GENERATED)).size > 0,
    read: (root, _split, language) => readXm3600(root, language),
  },
];

const splits = ['test'] as const;

export const crossmodal3600: RetrievalAdapter = {
  id: 'crossmodal3600',
  description:
    'Crossmodal-3600 (XM3600) multilingual image–caption retrieval in one of 36 languages (--language): 3,600 images, the first caption of each in that language, as CLIP_benchmark measures it.',
  splits,
  layout: describeLayouts(layouts),
  expectedCount: { test: { images: 3600, captions: 3600 } },
  languages: XM3600_LANGUAGES,
  async load(root, split, language) {
    if (await isManifestFile(root)) manifestLanguage('crossmodal3600', language, root);
    return locateRetrieval('crossmodal3600', splits, layouts, root, split, language);
  },
};

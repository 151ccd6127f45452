/**
 * FER2013 (Goodfellow et al. 2013, the ICML 2013 facial-expression challenge) from Kaggle's `fer2013.csv`
 * (inside fer2013.tar.gz; columns `emotion,pixels,Usage`) or the newer release's `icml_face_data.csv`
 * (the same rows, columns `emotion, Usage, pixels`). Each row is one 48×48 grey face: 2304 space-separated
 * values, row-major; `emotion` is 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral.
 *
 * Splits follow the `Usage` column: test = PrivateTest (3,589 rows), the challenge's final test set and the
 * closest to the paper's test split (the paper's Table 9 gives a slightly different count, 3,574 as we read it,
 * without saying which images it dropped); public-test = PublicTest (3,589); train = Training (28,709). CLIP_benchmark instead evaluates the `test/` folder of the
 * msambare/fer2013 image release, which is PublicTest + PrivateTest (7,178 images).
 * The newer release's `test.csv` has no labels (only `pixels`) and cannot be evaluated.
 * Images are what torchvision's FER2013 hands to PIL: `Image.fromarray` of the (48, 48) uint8 array, mode 'L'.
 * The CSV is streamed; only the split's pixels are kept (2304 bytes per image).
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.js';
import { extractFix, findInRoot, rawImage } from './container-files.js';
import type { DirListing } from './imagenet-fs.js';
import type { DatasetAdapter, Sample } from './types.js';

const SIDE = 48;
const PIXELS = SIDE * SIDE;
const CSV_FILES = ['fer2013.csv', 'icml_face_data.csv'];
/** split id → the Usage value of its rows */
export const FER_USAGE: Record<string, string> = { test: 'PrivateTest', 'public-test': 'PublicTest', train: 'Training' };

export const FER2013_LAYOUT =
  "ROOT/fer2013.csv (Kaggle's fer2013.tar.gz extracts ROOT/fer2013/fer2013.csv; also accepted) or ROOT/icml_face_data.csv, with columns emotion, pixels, Usage";
const FIX = "use Kaggle's fer2013.csv (from fer2013.tar.gz) or icml_face_data.csv: rows of emotion 0-6, 2304 pixel values and Usage";

async function locate(root: string): Promise<string> {
  const pick = (l: DirListing) => {
    const name = CSV_FILES.find((f) => l.files.includes(f));
    if (name) return path.join(l.dir, name);
    if (l.files.includes('test.csv') || l.files.includes('train.csv')) {
      throw new UsageError(
        "found the newer Kaggle release's train.csv/test.csv: its test.csv has no emotion labels and train.csv no Usage column, so neither defines the test split",
        { file: l.dir, fix: 'use fer2013.csv (inside fer2013.tar.gz of the same release) or icml_face_data.csv' },
      );
    }
    return undefined;
  };
  return findInRoot(root, ['fer2013'], pick, { layout: FER2013_LAYOUT, fix: (top) => extractFix(top, /^fer2013\.tar(\.gz)?$/, 'point --root at the folder holding fer2013.csv') });
}

/** Splits one CSV line into fields (double-quoted fields may hold commas; "" is a quote). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    while (line[i] === ' ') i++;
    if (line[i] === '"') {
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        field += line.slice(i, q);
        i = q + 1;
        if (line[i] === '"') {
          field += '"';
          i++;
        } else break;
      }
      const comma = line.indexOf(',', i);
      if (line.slice(i, comma < 0 ? undefined : comma).trim() !== '') throw new Error('text after a quoted field');
      i = comma < 0 ? line.length : comma;
    } else {
      const comma = line.indexOf(',', i);
      field = line.slice(i, comma < 0 ? undefined : comma);
      i = comma < 0 ? line.length : comma;
    }
    out.push(field.trim());
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/** 2304 space-separated values 0-255 → the 48×48 image's bytes, row-major; undefined if malformed. */
export function parsePixels(text: string): Uint8Array | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== PIXELS) return undefined;
  const out = new Uint8Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    const v = /^\d{1,3}$/.test(parts[i]) ? Number(parts[i]) : NaN;
    if (!(v <= 255)) return undefined;
    out[i] = v;
  }
  return out;
}

interface Row {
  row: number;
  label: number;
  pixels: Uint8Array;
}

/** Streams the CSV and keeps the rows whose Usage is `usage`. */
async function readRows(file: string, usage: string): Promise<Row[]> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const out: Row[] = [];
  let cols: { emotion: number; pixels: number; usage: number } | undefined;
  let lineNo = 0;
  let dataRow = -1;
  const fail = (message: string) => new UsageError(`line ${lineNo}: ${message}`, { file, fix: FIX });
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (line.trim() === '') continue;
      let fields: string[];
      try {
        fields = csvFields(line);
      } catch (err) {
        throw fail((err as Error).message);
      }
      if (!cols) {
        const at = (name: string) => fields.findIndex((f) => f.toLowerCase() === name.toLowerCase());
        cols = { emotion: at('emotion'), pixels: at('pixels'), usage: at('Usage') };
        const missing = Object.entries(cols).filter(([, i]) => i < 0).map(([k]) => (k === 'usage' ? 'Usage' : k));
        if (missing.length) throw fail(`the header ${JSON.stringify(line.slice(0, 80))} has no ${missing.join(', ')} column`);
        continue;
      }
      dataRow++;
      if (fields[cols.usage] !== usage) continue;
      const label = /^\d$/.test(fields[cols.emotion] ?? '') ? Number(fields[cols.emotion]) : NaN;
      if (!(label <= 6)) throw fail(`emotion ${JSON.stringify(fields[cols.emotion] ?? '')} is not a label 0-6`);
      const pixels = parsePixels(fields[cols.pixels] ?? '');
      if (!pixels) throw fail(`pixels are not ${PIXELS} values 0-255`);
      out.push({ row: dataRow, label, pixels });
    }
  } finally {
    lines.close();
  }
  if (!cols) throw new UsageError('the file is empty', { file, fix: FIX });
  return out;
}

async function* ferSamples(root: string, split: string): AsyncGenerator<Sample> {
  const file = await locate(root);
  const usage = FER_USAGE[split];
  const rows = await readRows(file, usage);
  if (rows.length === 0) throw new UsageError(`no rows have Usage ${usage}`, { file, fix: FIX });
  const name = path.basename(file);
  for (const r of rows) {
    yield { key: `${name}#${r.row}`, path: file, label: r.label, load: async () => rawImage(r.pixels.slice(), SIDE, SIDE, 'L') };
  }
}

export const fer2013 = {
  id: 'fer2013',
  description:
    "FER2013 from Kaggle's fer2013.csv or icml_face_data.csv (48×48 grey faces, 7 emotions, class ids 0-6). Split test = Usage PrivateTest (3,589 images, the challenge's final test set, closest to the paper's split; CLIP_benchmark uses PublicTest + PrivateTest, 7,178), public-test = PublicTest, train = Training.",
  splits: ['test', 'public-test', 'train'],
  layout: FER2013_LAYOUT,
  expectedCount: { test: 3_589, 'public-test': 3_589, train: 28_709 },
  defaultPrompts: 'fer2013',
  metric: 'top1',
  async classIds(root: string) {
    await locate(root);
    return Array.from({ length: 7 }, (_, i) => String(i));
  },
  samples: (root: string, split: string) => ferSamples(root, split),
} as const satisfies DatasetAdapter;

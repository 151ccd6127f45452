/**
 * GTSRB (German Traffic Sign Recognition Benchmark) final test set, as the two official archives unpack:
 * GTSRB_Final_Test_Images.zip gives `GTSRB/Final_Test/Images/00000.ppm …` and GTSRB_Final_Test_GT.zip
 * gives `GT-final_test.csv` (semicolon-separated, with the ClassId column). Whole images are used, the ROI
 * columns are not cropped (as torchvision's GTSRB and the paper). Class index = ClassId 0–42.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { firstFitting, isFile, layoutMismatch, listDir, nonEmptyLines, posixKey, readTextFile, some } from './benchmark-fs.js';
import type { DatasetAdapter, Sample } from './types.js';

const GT_CSV = 'GT-final_test.csv';
/** the CSV inside the images archive: the same rows without ClassId */
const UNLABELLED_CSV = 'GT-final_test.test.csv';
/** torchvision's GTSRB keeps the archives under ROOT/gtsrb/ */
const TORCHVISION_BASE = 'gtsrb';
const IMAGE_DIRS = [path.join('GTSRB', 'Final_Test', 'Images'), path.join(TORCHVISION_BASE, 'GTSRB', 'Final_Test', 'Images'), path.join('Final_Test', 'Images'), 'Images', ''];
const N_CLASSES = 43;
const LAYOUT = `ROOT/GTSRB/Final_Test/Images/*.ppm (GTSRB_Final_Test_Images.zip) with ROOT/${GT_CSV} (GTSRB_Final_Test_GT.zip), both extracted into ROOT (or into ROOT/gtsrb/, as torchvision keeps them)`;
const FIX = `extract GTSRB_Final_Test_Images.zip and GTSRB_Final_Test_GT.zip into the folder passed as --root`;

const hasPpm = async (dir: string) => (await listDir(dir).catch(() => undefined))?.files.some((f) => f.toLowerCase().endsWith('.ppm')) ?? false;

/** One row of GT-final_test.csv: the image file name and its ClassId. */
export interface GtsrbRow {
  file: string;
  classId: number;
}

/** Parses `Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId` rows (columns found by header name). */
export function parseGtsrbCsv(text: string, file: string): GtsrbRow[] {
  const [header, ...rows] = nonEmptyLines(text);
  const cols = (header ?? '').split(';');
  const fileCol = cols.indexOf('Filename');
  const classCol = cols.indexOf('ClassId');
  if (fileCol < 0 || classCol < 0) {
    throw new UsageError(`expected a semicolon-separated header with Filename and ClassId, found "${(header ?? '').slice(0, 80)}"`, {
      file,
      fix: `use ${GT_CSV} from GTSRB_Final_Test_GT.zip (the images archive's ${UNLABELLED_CSV} has no ClassId)`,
    });
  }
  return rows.map((line, i) => {
    const f = line.split(';');
    const classId = Number(f[classCol]);
    if (!f[fileCol] || !/^\d+$/.test(f[classCol] ?? '') || classId >= N_CLASSES) {
      throw new UsageError(`row ${i + 2} ("${line.slice(0, 60)}") has no file name or a ClassId outside 0–42`, { file, fix: `use the official ${GT_CSV}` });
    }
    return { file: f[fileCol], classId };
  });
}

async function findGtsrb(root: string): Promise<{ imageDir: string; csv: string }> {
  const imageDir = await firstFitting(root, IMAGE_DIRS, hasPpm);
  if (!imageDir) throw await layoutMismatch(root, LAYOUT, FIX, 'no .ppm images');
  const csvs = [root, path.join(root, 'GTSRB'), path.join(root, TORCHVISION_BASE), imageDir].map((d) => path.join(d, GT_CSV));
  for (const csv of csvs) if (await isFile(csv)) return { imageDir, csv };
  const onlyUnlabelled = await isFile(path.join(imageDir, UNLABELLED_CSV));
  throw new UsageError(`found the test images in ${imageDir} but no ${GT_CSV}${onlyUnlabelled ? ` (${UNLABELLED_CSV} beside them has no ClassId)` : ''}`, {
    file: root,
    fix: `extract GTSRB_Final_Test_GT.zip (it holds ${GT_CSV}) into ROOT`,
  });
}

async function* gtsrbSamples(root: string): AsyncGenerator<Sample> {
  const { imageDir, csv } = await findGtsrb(root);
  const rows = parseGtsrbCsv(await readTextFile(csv, FIX), csv);
  const present = new Set((await listDir(imageDir)).files);
  const missing = rows.filter((r) => !present.has(r.file)).map((r) => r.file);
  if (missing.length) {
    throw new UsageError(`${missing.length} of the ${rows.length} images listed in ${GT_CSV} are not in ${imageDir}: ${some(missing)}`, { file: csv, fix: 'extract all of GTSRB_Final_Test_Images.zip' });
  }
  const rel = path.relative(root, imageDir).split(path.sep).filter(Boolean);
  for (const r of rows) yield { key: posixKey(...rel, r.file), path: path.join(imageDir, r.file), label: r.classId };
}

export const gtsrb = {
  id: 'gtsrb',
  description: `GTSRB final test set: 12,630 traffic-sign images (PPM), 43 classes; labels from the ClassId column of ${GT_CSV}; whole images (the ROI is not cropped), in CSV order.`,
  splits: ['test'],
  layout: LAYOUT,
  expectedCount: { test: 12_630 },
  defaultPrompts: 'gtsrb',
  metric: 'top1',
  async classIds(root: string) {
    await findGtsrb(root);
    return Array.from({ length: N_CLASSES }, (_, i) => String(i));
  },
  samples: (root: string) => gtsrbSamples(root),
} as const satisfies DatasetAdapter;

/**
 * Hateful Memes (Kiela et al. 2020), as the challenge release unpacks (its `data/` folder): `img/<id>.png`
 * and one JSONL annotation file per split, each line `{"id", "img": "img/<id>.png", "label": 0|1, "text"}`.
 * Only the image is classified (the zero-shot prompts are "meme" / "hatespeech meme"); the paper's metric
 * is ROC AUC of the hateful class. Default split dev_seen (500 memes, the paper's test size).
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { firstFitting, isDirectory, isFile, layoutMismatch, listDir, nonEmptyLines, readTextFile, some } from './benchmark-fs.js';
import type { DatasetAdapter, Sample } from './types.js';

const SPLITS = ['dev_seen', 'test_seen', 'dev_unseen', 'test_unseen'] as const;
const LAYOUT = 'ROOT/img/<id>.png with ROOT/{dev_seen,test_seen,dev_unseen,test_unseen}.jsonl (or ROOT/data/…, as the release unpacks)';
const FIX = 'pass the folder of the Hateful Memes release that holds img/ and the .jsonl files';

export interface MemeRow {
  img: string;
  label: 0 | 1;
}

/** One row per line: the image path (relative to the data folder) and the 0/1 label. */
export function parseMemesJsonl(text: string, file: string): MemeRow[] {
  return nonEmptyLines(text).map((line, i) => {
    let row: { img?: unknown; label?: unknown };
    try {
      row = JSON.parse(line);
    } catch {
      throw new UsageError(`line ${i + 1} is not JSON`, { file, fix: 'use the .jsonl files of the Hateful Memes release' });
    }
    if (typeof row?.img !== 'string' || (row.label !== 0 && row.label !== 1)) {
      throw new UsageError(`line ${i + 1} has no "img" path or no label 0/1${row && 'label' in row ? '' : ' (unlabelled test files cannot be scored)'}`, {
        file,
        fix: 'use a labelled split: dev_seen, test_seen, dev_unseen or test_unseen of the final release',
      });
    }
    return { img: row.img, label: row.label };
  });
}

async function findMemes(root: string, split: string): Promise<{ dir: string; jsonl: string }> {
  const dir = await firstFitting(root, ['', 'data'], async (d) => (await isDirectory(path.join(d, 'img'))) && (await isFile(path.join(d, `${split}.jsonl`))));
  if (!dir) throw await layoutMismatch(root, LAYOUT, FIX, `no img/ with ${split}.jsonl`);
  return { dir, jsonl: path.join(dir, `${split}.jsonl`) };
}

async function* memesSamples(root: string, split: string): AsyncGenerator<Sample> {
  const { dir, jsonl } = await findMemes(root, split);
  const rows = parseMemesJsonl(await readTextFile(jsonl, FIX), jsonl);
  const present = new Set((await listDir(path.join(dir, 'img'))).files.map((f) => `img/${f}`));
  const missing = rows.filter((r) => !present.has(r.img.replace(/^\.\//, ''))).map((r) => r.img);
  if (missing.length) throw new UsageError(`${missing.length} of the ${rows.length} memes' images are not under img/: ${some(missing)}`, { file: jsonl, fix: 'extract every image of the release into img/' });
  for (const r of rows) yield { key: r.img, path: path.join(dir, ...r.img.split('/')), label: r.label };
}

export const hatefulMemes = {
  id: 'hateful-memes',
  description:
    'Hateful Memes: memes labelled hateful (1) or not (0), image only; split dev_seen (500, default), test_seen (1,000), dev_unseen (540), test_unseen (2,000) from the jsonl files. Headline: ROC AUC of class 1.',
  splits: SPLITS,
  layout: LAYOUT,
  expectedCount: { dev_seen: 500, test_seen: 1_000, dev_unseen: 540, test_unseen: 2_000 },
  defaultPrompts: 'hateful-memes',
  metric: 'roc-auc',
  async classIds(root: string, split: string) {
    await findMemes(root, split);
    return ['0', '1'];
  },
  samples: (root: string, split: string) => memesSamples(root, split),
} as const satisfies DatasetAdapter;

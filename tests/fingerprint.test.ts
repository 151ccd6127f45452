/**
 * A model's fingerprint keys its cached text embeddings, so it must cover every file the checkpoint reads
 * (graphs, tokenizer files, the configs that set the context length or the pad id, the preprocessing
 * config) and nothing else. The lists below are written from the loaders' documented search order
 * (`src/models/tokenizer/model-dir.ts`, `src/models/preprocess/config.ts`), not from `layout.ts`.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureTexts, toyTowers } from '../src/fixtures/fixture-models.js';
import { writeModelLayout, type FixtureLayout } from '../src/fixtures/model-layouts.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { fingerprintFiles, fingerprintMemoKey } from '../src/models/fingerprint.js';
import { detectLayout } from '../src/models/layout.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';

let tmp: string;
const towers = toyTowers(fixtureTexts(loadPromptSet('colours').templates));
const source = (layout: FixtureLayout) => path.join(tmp, `src-${layout}`);

const cacheDirBefore = process.env.CLIP_BENCH_CACHE_DIR;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-fingerprint-'));
  process.env.CLIP_BENCH_CACHE_DIR = path.join(tmp, 'cache'); // this file's memos stay in its own folder
  for (const layout of ['immich', 'hf-split', 'manifest'] as const) await writeModelLayout(source(layout), towers, layout);
});
afterAll(() => {
  if (cacheDirBefore === undefined) delete process.env.CLIP_BENCH_CACHE_DIR;
  else process.env.CLIP_BENCH_CACHE_DIR = cacheDirBefore;
  rmSync(tmp, { recursive: true, force: true });
});

const fingerprint = async (dir: string) => fingerprintFiles(dir, detectLayout(dir).files);

/** rel → new content, null to delete, or an edit of the current text */
type Setup = Record<string, string | null | ((text: string) => string)>;

let copies = 0;
/** A fresh copy of a fixture with `setup` applied (files added or removed before the baseline). */
function copyOf(layout: FixtureLayout, setup: Setup = {}): string {
  const dir = path.join(tmp, `copy-${copies++}`);
  cpSync(source(layout), dir, { recursive: true });
  for (const [rel, content] of Object.entries(setup)) {
    if (content === null) rmSync(path.join(dir, rel));
    else if (typeof content === 'function') writeFileSync(path.join(dir, rel), content(readFileSync(path.join(dir, rel), 'utf8')));
    else {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
  }
  return dir;
}

/** Changes a file's bytes: one more trailing space. */
function touch(dir: string, rel: string): void {
  writeFileSync(path.join(dir, rel), Buffer.concat([readFileSync(path.join(dir, rel)), Buffer.from(' ')]));
}

// [layout, extra files present, files that are read (each is changed in turn), files present but not read]
const cases: [FixtureLayout, Setup, string[], string[]][] = [
  [
    'immich',
    { 'open_clip_config.json': '{}', 'textual/tokenizer_config.json': '{}', 'preprocessor_config.json': '{}', 'textual/vocab.json': '{}', 'textual/merges.txt': '' },
    ['visual/model.onnx', 'textual/model.onnx', 'textual/tokenizer.json', 'textual/tokenizer_config.json', 'config.json', 'open_clip_config.json', 'visual/preprocess_cfg.json'],
    // tokenizer.json wins over vocab.json + merges.txt; visual/preprocess_cfg.json over preprocessor_config.json
    ['textual/vocab.json', 'textual/merges.txt', 'preprocessor_config.json'],
  ],
  [
    'immich',
    // an Immich export whose tokenizer is vocab.json + merges.txt, with the tokenizer config at the top
    { 'textual/tokenizer.json': null, 'textual/vocab.json': '{}', 'textual/merges.txt': '', 'tokenizer_config.json': '{}' },
    ['textual/vocab.json', 'textual/merges.txt', 'tokenizer_config.json'],
    [],
  ],
  [
    'hf-split',
    { 'open_clip_config.json': '{}', 'vocab.json': '{}', 'merges.txt': '', 'bpe_simple_vocab_16e6.txt.gz': 'x', 'special_tokens_map.json': '{}' },
    ['onnx/vision_model.onnx', 'onnx/text_model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json', 'open_clip_config.json', 'preprocessor_config.json'],
    ['vocab.json', 'merges.txt', 'bpe_simple_vocab_16e6.txt.gz', 'special_tokens_map.json'],
  ],
  [
    'hf-split',
    // open_clip's own tokenizer file, nothing else
    { 'tokenizer.json': null, 'tokenizer_config.json': null, 'bpe_simple_vocab_16e6.txt.gz': 'x' },
    ['bpe_simple_vocab_16e6.txt.gz'],
    [],
  ],
  [
    'manifest',
    // a manifest without "preprocess" uses the folder's preprocessing config
    { 'clip-bench.json': (text) => JSON.stringify({ ...JSON.parse(text), preprocess: undefined }), 'preprocessor_config.json': '{}', 'tokenizer_config.json': '{}' },
    ['clip-bench.json', 'image_encoder.onnx', 'text_encoder.onnx', 'vocab/tokenizer.json', 'preprocessor_config.json'],
    // a manifest's tokenizer file is read alone
    ['tokenizer_config.json'],
  ],
];

describe('the fingerprint covers exactly the files a checkpoint reads', () => {
  it.each(cases)('%s with %o', async (layout, setup, read, unread) => {
    const dir = copyOf(layout, setup);
    let before = await fingerprint(dir);
    for (const rel of read) {
      touch(dir, rel);
      const after = await fingerprint(dir);
      expect(after, `changing ${rel}, which is read, must change the fingerprint`).not.toBe(before);
      before = after;
    }
    for (const rel of [...unread, 'README.md']) {
      if (rel === 'README.md') writeFileSync(path.join(dir, rel), 'not part of the model');
      else touch(dir, rel);
      expect(await fingerprint(dir), `changing ${rel}, which is not read, must keep the fingerprint`).toBe(before);
    }
  });

  it('is what a loaded checkpoint records, open_clip_config.json included', async () => {
    const dir = copyOf('immich', { 'open_clip_config.json': JSON.stringify({ model_cfg: { text_cfg: { context_length: 77 } } }) });
    const a = await loadCheckpoint(dir);
    await a.release();
    expect(a.fingerprint).toBe(await fingerprint(dir));
    expect(a.files).toContain('open_clip_config.json');
    writeFileSync(path.join(dir, 'open_clip_config.json'), JSON.stringify({ model_cfg: { text_cfg: { context_length: 77 } }, preprocess_cfg: {} }));
    const b = await loadCheckpoint(dir);
    await b.release();
    expect(b.fingerprint).not.toBe(a.fingerprint);
  });
});

describe('the fingerprint memo', () => {
  const memoPath = (dir: string, files: string[]) => path.join(tmp, 'cache', 'fingerprints', `${fingerprintMemoKey(dir, files)}.sha256`);

  it('is read back for unchanged files, and ignored once a file is rewritten, even with its old mtime put back', async () => {
    const dir = copyOf('hf-split');
    const files = detectLayout(dir).files;
    const hashed = await fingerprintFiles(dir, files, { memo: false });
    expect(existsSync(memoPath(dir, files))).toBe(false);
    expect(await fingerprintFiles(dir, files)).toBe(hashed);
    expect(readFileSync(memoPath(dir, files), 'utf8').trim()).toBe(hashed);

    // a planted memo is what comes back: the files are not hashed again
    const planted = 'f'.repeat(64);
    writeFileSync(memoPath(dir, files), planted);
    expect(await fingerprintFiles(dir, files)).toBe(planted);
    expect(await fingerprintFiles(dir, files, { memo: false })).toBe(hashed);

    // same size, other bytes, the old mtime restored: the change time still moves, so the key does
    const rel = 'tokenizer.json';
    const file = path.join(dir, rel);
    const { atime, mtime } = statSync(file);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/.$/s, text.endsWith(' ') ? '\n' : ' '));
    utimesSync(file, atime, mtime);
    expect(statSync(file).size).toBe(Buffer.byteLength(text));
    expect(Math.abs(statSync(file).mtimeMs - mtime.getTime())).toBeLessThan(1); // utimes takes a Date: the old mtime to the millisecond
    const rehashed = await fingerprintFiles(dir, files);
    expect(rehashed).not.toBe(planted);
    expect(rehashed).not.toBe(hashed);
    expect(rehashed).toBe(await fingerprintFiles(dir, files, { memo: false }));
  });

  it('that is not a digest is ignored, and an unwritable cache folder only costs the time', async () => {
    const dir = copyOf('immich');
    const files = detectLayout(dir).files;
    const hashed = await fingerprintFiles(dir, files, { memo: false });
    mkdirSync(path.dirname(memoPath(dir, files)), { recursive: true });
    writeFileSync(memoPath(dir, files), 'half-written');
    expect(await fingerprintFiles(dir, files)).toBe(hashed);
    const before = process.env.CLIP_BENCH_CACHE_DIR;
    process.env.CLIP_BENCH_CACHE_DIR = path.join(dir, 'tokenizer.json', 'not-a-folder'); // under a file: cannot be created
    try {
      expect(await fingerprintFiles(dir, files)).toBe(hashed);
    } finally {
      process.env.CLIP_BENCH_CACHE_DIR = before;
    }
  });
});

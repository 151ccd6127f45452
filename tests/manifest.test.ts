import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../src/datasets/index.js';
import { manifest, parseCsv } from '../src/datasets/manifest.js';
import type { Sample } from '../src/datasets/types.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { fixtureTexts, writeToyClip } from '../src/fixtures/fixture-models.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { iteratePredictions } from '../src/store/runs.js';
import { usageFailure as failure } from './support/usage-failure.js';

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `clip-bench-${prefix}-`));
}

/** Writes `files` (relative path → content) under a fresh folder and returns the path of the first. */
function write(files: Record<string, string>): string {
  const dir = tmp('manifest');
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return path.join(dir, Object.keys(files)[0]);
}

async function read(file: string): Promise<{ classIds: string[]; samples: [string, string, number][] }> {
  const out: Sample[] = [];
  for await (const s of manifest.samples(file)) out.push(s);
  return { classIds: await manifest.classIds(file), samples: out.map((s) => [s.key, s.path, s.label]) };
}


describe('CSV parsing (RFC 4180)', () => {
  it('reads quoted commas, doubled quotes, line breaks inside quotes and CRLF, with the line each record starts on', () => {
    const text = '\uFEFFpath,label\r\n"a, b.jpg",cat\r\n"say ""hi"".png","multi\nline"\r\n\r\nplain.jpg,""\r\nlast.jpg,dog';
    expect(parseCsv(text, 'm.csv')).toEqual([
      { line: 1, fields: ['path', 'label'] },
      { line: 2, fields: ['a, b.jpg', 'cat'] },
      { line: 3, fields: ['say "hi".png', 'multi\nline'] },
      { line: 6, fields: ['plain.jpg', ''] },
      { line: 7, fields: ['last.jpg', 'dog'] },
    ]);
  });

  it.each([
    ['path,label\n"open.jpg,cat\n', /m\.csv:2: a quoted field is never closed/],
    ['path,label\n"a.jpg"x,cat\n', /m\.csv:2: text after the closing quote of a field/],
    ['path,label\na"b.jpg,cat\n', /m\.csv:2: a quote inside an unquoted field/],
  ])('%j is refused at its line', (text, message) => {
    let line = 'did not fail';
    try {
      parseCsv(text, 'm.csv');
    } catch (err) {
      line = (err as { oneLine(): string }).oneLine();
    }
    expect(line).toMatch(message);
  });
});

describe('manifest adapter', () => {
  it('is registered', () => {
    expect(getDataset('manifest')).toBe(manifest);
  });

  it('CSV: quoted paths resolve against the manifest\'s folder, extra columns are ignored, class ids are the labels sorted by code point', async () => {
    const file = write({ 'lists/m.csv': 'id,label,path\n1,b,"img/x, y.jpg"\n2,B,/abs/z.png\n3,é,../up.jpg\n4,a,"q""uote.jpg"\n5,b,w.jpg\n6,😀,v.jpg\n7,ｚ,u.jpg\n' });
    const dir = path.dirname(file);
    const r = await read(file);
    // code points: B (66) < a (97) < b < é (233) < ｚ (U+FF5A) < 😀 (U+1F600, which UTF-16 order puts before ｚ)
    expect(r.classIds).toEqual(['B', 'a', 'b', 'é', 'ｚ', '😀']);
    expect(r.samples).toEqual([
      ['img/x, y.jpg', path.join(dir, 'img/x, y.jpg'), 2],
      ['/abs/z.png', '/abs/z.png', 0],
      ['../up.jpg', path.join(dir, '..', 'up.jpg'), 3],
      ['q"uote.jpg', path.join(dir, 'q"uote.jpg'), 1],
      ['w.jpg', path.join(dir, 'w.jpg'), 2],
      ['v.jpg', path.join(dir, 'v.jpg'), 5],
      ['u.jpg', path.join(dir, 'u.jpg'), 4],
    ]);
  });

  it('JSONL: name labels; numeric labels give ids "0"…max, or index classnames.txt beside the manifest', async () => {
    const names = await read(write({ 'm.jsonl': '{"path":"a.jpg","label":"dog"}\n\n{"label":"cat","path":"b.jpg","extra":1}\n' }));
    expect(names.classIds).toEqual(['cat', 'dog']);
    expect(names.samples.map(([k, , l]) => [k, l])).toEqual([['a.jpg', 1], ['b.jpg', 0]]);

    const numeric = await read(write({ 'm.jsonl': '{"path":"a.jpg","label":3}\n{"path":"b.jpg","label":0}\n' }));
    expect(numeric.classIds).toEqual(['0', '1', '2', '3']);
    expect(numeric.samples.map(([, , l]) => l)).toEqual([3, 0]);

    const listed = await read(write({ 'm.csv': 'path,label\na.jpg,2\nb.jpg,0\n', 'classnames.txt': 'zebra\napple\nmango\n' }));
    expect(listed.classIds).toEqual(['zebra', 'apple', 'mango']);
    expect(listed.samples.map(([, , l]) => l)).toEqual([2, 0]);
  });

  it('name labels with classnames.txt beside take its order', async () => {
    const r = await read(write({ 'm.csv': 'path,label\na.jpg,mango\nb.jpg,zebra\n', 'classnames.txt': 'zebra\napple\nmango\n' }));
    expect(r.classIds).toEqual(['zebra', 'apple', 'mango']);
    expect(r.samples.map(([, , l]) => l)).toEqual([2, 0]);
  });

  it('prompts default to the folder\'s classnames.txt × templates where both exist, else "single"', () => {
    const prompts = manifest.defaultPrompts as (ids: readonly string[], root: string) => string;
    const with_ = write({ 'm.csv': 'path,label\na.jpg,0\n', 'classnames.txt': 'x\n', 'zeroshot_classification_templates.txt': 'a {c}.\n' });
    expect(prompts(['x'], with_)).toBe(path.dirname(with_));
    expect(prompts(['x'], write({ 'm.csv': 'path,label\na.jpg,0\n', 'classnames.txt': 'x\n' }))).toBe('single');
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['a row with too few fields', { 'm.csv': 'path,label\na.jpg,cat\nb.jpg\n' }, /m\.csv:3: 1 fields where the header has 2 — quote fields that contain commas/],
    ['an unquoted comma', { 'm.csv': 'path,label\na, b.jpg,cat\n' }, /m\.csv:2: 3 fields where the header has 2/],
    ['no label column', { 'm.csv': 'file,class\na.jpg,cat\n' }, /m\.csv:1: the header \(file,class\) lacks a "path" column — start the file with a header line such as "path,label"/],
    ['an empty label', { 'm.csv': 'path,label\na.jpg,cat\nb.jpg,\n' }, /m\.csv:3: the label is empty/],
    ['an empty path', { 'm.csv': 'path,label\n"",cat\n' }, /m\.csv:2: the path is empty/],
    ['a path listed twice', { 'm.csv': 'path,label\na.jpg,cat\n"a.jpg",dog\n' }, /m\.csv:3: a\.jpg is already listed on line 2 — list each image once/],
    ['bad JSON', { 'm.jsonl': '{"path":"a.jpg","label":"x"}\n{"path": "b.jpg", label: 1}\n' }, /m\.jsonl:2: not valid JSON: .* — write one JSON object per line/],
    ['a JSON array', { 'm.jsonl': '["a.jpg", "x"]\n' }, /m\.jsonl:1: not a JSON object/],
    ['a missing path', { 'm.jsonl': '{"label":"x"}\n' }, /m\.jsonl:1: "path" is missing/],
    ['a fractional label', { 'm.jsonl': '{"path":"a.jpg","label":1.5}\n' }, /m\.jsonl:1: "label" is neither a class name nor a class index \(1\.5\)/],
    ['mixed label kinds', { 'm.jsonl': '{"path":"a.jpg","label":"x"}\n{"path":"b.jpg","label":2}\n' }, /m\.jsonl:2: label 2 is a class index but line 1 gives a class name/],
    ['an index past classnames.txt', { 'm.csv': 'path,label\na.jpg,1\nb.jpg,3\n', 'classnames.txt': 'x\ny\nz\n' }, /m\.csv:3: class index 3 is past the 3 classes of .*classnames\.txt/],
    ['a name not in classnames.txt', { 'm.csv': 'path,label\na.jpg,y\nb.jpg,w\n', 'classnames.txt': 'x\ny\n' }, /m\.csv:3: label "w" is not one of the 2 classes/],
    ['a blank line in classnames.txt', { 'm.csv': 'path,label\na.jpg,0\n', 'classnames.txt': 'x\n\ny\n' }, /classnames\.txt:2: blank line inside the class list/],
    ['no rows', { 'm.csv': 'path,label\n' }, /m\.csv: the manifest lists no images/],
    ['another extension', { 'm.txt': 'path,label\na.jpg,x\n' }, /m\.txt: --root must be a manifest file \(\.csv or \.jsonl\), found a \.txt file/],
  ])('%s: one line naming file:line and the fix', async (_what, files, message) => {
    const file = write(files);
    const line = await failure(read(file));
    expect(line).toMatch(message);
    expect(line.startsWith(path.dirname(file))).toBe(true);
  });

  it('a folder as --root is refused', async () => {
    const dir = tmp('manifest-dir');
    expect(await failure(read(dir))).toMatch(/--root must be a manifest file \(\.csv or \.jsonl\), found a folder/);
  });
});

describe('manifest end to end with the toy CLIP', () => {
  const templates = loadPromptSet('colours').templates;
  let dir: string;
  let model: string;
  let rows: { path: string; label: string }[];

  beforeAll(async () => {
    dir = tmp('manifest-e2e');
    model = path.join(dir, 'toy-clip');
    await writeToyClip(model, fixtureTexts(templates));
    const images = await writeColourDataset(path.join(dir, 'colours'), { perClass: 2, seed: 5 });
    // reversed, so manifest order is not folder order; paths relative to the manifest's folder, quoted in the CSV
    rows = images.reverse().map((img) => ({ path: path.relative(dir, img.path), label: img.label }));
    writeFileSync(path.join(dir, 'colours.csv'), 'path,label\n' + rows.map((r) => `"${r.path}",${r.label}`).join('\r\n') + '\r\n');
    writeFileSync(path.join(dir, 'colours.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  });

  it.each(['colours.csv', 'colours.jsonl'])('%s evaluates by name: every image right, labels by sorted class name, manifest order kept', async (name) => {
    const db = openDb(':memory:');
    const r = await runZeroShot(db, { modelDir: model, dataset: 'manifest', root: path.join(dir, name), prompts: 'colours', batchSize: 6, workers: 1, cache: false });
    expect(r).toMatchObject({ dataset: 'manifest', split: 'all', n: 16, nFailed: 0, top1: 1 });
    const sorted = [...new Set(rows.map((x) => x.label))].sort();
    const preds = [...iteratePredictions(db, r.runId)];
    expect(preds.map((p) => [p.key, p.label])).toEqual(rows.map((x) => [x.path, sorted.indexOf(x.label)]));
  });
});

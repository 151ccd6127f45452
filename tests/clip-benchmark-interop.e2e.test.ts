/**
 * Interop with CLIP_benchmark through the built CLI: `eval --output` writes its per-run JSON (checked against
 * numbers recomputed here from the run's stored predictions), `import` reads that JSON and its benchmark.csv
 * into the DB, `report` shows them apart as imported, `--csv-columns clip-benchmark` writes its build columns,
 * and a file that is neither is refused with exit 2 and nothing written.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { pythonFloat } from '../src/interop/clip-benchmark-record.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { iteratePredictions } from '../src/store/runs.js';
import { cli, lines, requireBuilt } from './faults/support/faults.js';
import { cifarImages, cifarPythonBatch, cifarPythonMeta, write } from './support/array-dataset-writers.js';

let tmp: string;
let demo: DemoPaths;
let tagged: string;
let cifarRoot: string;
const N = 40;

beforeAll(async () => {
  requireBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-interop-'));
  demo = await writeDemo(path.join(tmp, 'demo'), 2);
  // an Immich-style ARCH__tag folder name: model and pretrained come from it
  tagged = path.join(tmp, 'models', 'toy-clip__demo-tag');
  cpSync(demo.model, tagged, { recursive: true });
  cifarRoot = path.join(tmp, 'cifar10');
  const dir = path.join(cifarRoot, 'cifar-10-batches-py');
  write(dir, 'test_batch', cifarPythonBatch(cifarImages(N, 10, 3), false, 'py2'));
  write(dir, 'batches.meta', cifarPythonMeta(Object.values(loadPromptSet('cifar10').classes!) as string[], false, 'py2'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const evalCifar = (model: string, db: string, extra: string[]) => cli(['eval', '--model', model, '--dataset', 'cifar10', '--root', cifarRoot, '--db', db, '--quiet', '--workers', '1', ...extra]);

/** acc1, acc5 and mean per-class recall recomputed from a run's stored top-5 lists, as CLIP_benchmark defines them. */
function recompute(db: string, runId: number): { acc1: number; acc5: number; mean_per_class_recall: number } {
  const h = openDb(db, { readonly: true });
  const rows = [...iteratePredictions(h, runId)];
  h.close();
  const hit = (k: number) => rows.filter((r) => r.top5!.slice(0, k).includes(r.label)).length / rows.length;
  const recalls: number[] = [];
  for (let c = 0; c < 10; c++) {
    const of = rows.filter((r) => r.label === c);
    if (of.length) recalls.push(of.filter((r) => r.top5![0] === c).length / of.length);
  }
  return { acc1: hit(1), acc5: hit(5), mean_per_class_recall: recalls.reduce((a, b) => a + b, 0) / recalls.length };
}

describe('eval --output: CLIP_benchmark per-run JSON', () => {
  it('writes the dict cli.py dumps, in its key order and json.dump spelling, with fractions recomputed from the stored predictions', () => {
    const db = path.join(tmp, 'measured.sqlite');
    const template = path.join(tmp, 'out', '{dataset}_{pretrained}_{model}_{language}_{task}.json');
    const r = evalCifar(tagged, db, ['--output', template]);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(tmp, 'out', 'cifar10_demo-tag_toy-clip_en_zeroshot_classification.json');
    expect(r.stdout).toContain(`wrote CLIP_benchmark JSON ${file}`);
    const text = readFileSync(file, 'utf8');
    const got = JSON.parse(text);
    const want = recompute(db, 1);
    expect(Object.keys(got)).toEqual(['dataset', 'model', 'pretrained', 'task', 'metrics', 'language']);
    expect(Object.keys(got.metrics)).toEqual(['acc1', 'acc5', 'mean_per_class_recall']);
    expect({ ...got, metrics: {} }).toEqual({ dataset: 'cifar10', model: 'toy-clip', pretrained: 'demo-tag', task: 'zeroshot_classification', metrics: {}, language: 'en' });
    expect(got.metrics.acc1).toBe(want.acc1);
    expect(got.metrics.acc5).toBe(want.acc5);
    expect(got.metrics.mean_per_class_recall).toBeCloseTo(want.mean_per_class_recall, 12);
    // json.dump's separators, one line, no newline at the end
    expect(text).toBe(`{"dataset": "cifar10", "model": "toy-clip", "pretrained": "demo-tag", "task": "zeroshot_classification", "metrics": {"acc1": ${pythonFloat(got.metrics.acc1)}, "acc5": ${pythonFloat(got.metrics.acc5)}, "mean_per_class_recall": ${pythonFloat(got.metrics.mean_per_class_recall)}}, "language": "en"}`);
  });

  it('a model name without ARCH__tag: model is the whole name, pretrained the model folder, and it says so', () => {
    const db = path.join(tmp, 'untagged.sqlite');
    const file = path.join(tmp, 'out', 'untagged.json');
    const r = evalCifar(demo.model, db, ['--output', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('note: model name "toy-clip" has no ARCH__pretrained tag');
    const got = JSON.parse(readFileSync(file, 'utf8'));
    expect([got.model, got.pretrained]).toEqual(['toy-clip', demo.model]);
  });

  it.each([
    [['--limit', '8'], /--output writes CLIP_benchmark JSON of a whole split.*leave out --limit/],
    [['--output', '{dataset}_{arch}.json'], /unknown template field \{arch\}/],
  ])('refuses %j before running, exit 2, no DB made', (extra, message) => {
    const db = path.join(tmp, `refused-${extra.length}-${extra[0].length}.sqlite`);
    const r = evalCifar(tagged, db, extra[0] === '--limit' ? [...extra, '--output', path.join(tmp, 'x.json')] : extra);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(db)).toBe(false);
  });

  it('a dataset CLIP_benchmark has no counterpart for is refused before the run', () => {
    const db = path.join(tmp, 'colours.sqlite');
    const r = cli(['eval', '--model', tagged, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--db', db, '--quiet', '--output', path.join(tmp, 'c.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--output: a folder of your own has no CLIP_benchmark name/);
    expect(existsSync(db)).toBe(false);
  });
});

describe('suite --output', () => {
  it("writes one file per run CLIP_benchmark has a dataset for, and says on stderr why it wrote none for the others; the suite goes on", () => {
    const dataRoot = path.join(tmp, 'suite-data');
    mkdirSync(dataRoot, { recursive: true });
    symlinkSync(cifarRoot, path.join(dataRoot, 'cifar10'));
    symlinkSync(demo.root, path.join(dataRoot, 'colours'));
    const suiteFile = path.join(tmp, 'mixed-suite.json');
    writeFileSync(suiteFile, JSON.stringify({ datasets: [{ dataset: 'cifar10', dirs: ['cifar10'] }, { dataset: 'imagefolder', dirs: ['colours'], prompts: 'colours' }] }));
    const db = path.join(tmp, 'suite.sqlite');
    const template = path.join(tmp, 'suite-out', '{dataset}_{pretrained}_{model}_{language}_{task}.json');
    const r = cli(['suite', '--model', tagged, '--suite', suiteFile, '--data-root', dataRoot, '--db', db, '--quiet', '--workers', '1', '--output', template]);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(tmp, 'suite-out', 'cifar10_demo-tag_toy-clip_en_zeroshot_classification.json');
    expect(lines(r.stderr)).toEqual([`  wrote CLIP_benchmark JSON ${file}`, '  no CLIP_benchmark JSON: run 2: a folder of your own has no CLIP_benchmark name — CLIP_benchmark JSON is written for finished runs over a whole split of a dataset CLIP_benchmark has']);
    const want = recompute(db, 1);
    expect(JSON.parse(readFileSync(file, 'utf8')).metrics).toEqual({ acc1: want.acc1, acc5: want.acc5, mean_per_class_recall: expect.closeTo(want.mean_per_class_recall, 12) });
  });
});

describe('import, and report showing imported results apart', () => {
  it('round trip: the JSON written by --output, imported into a fresh DB, is reported with the same numbers, marked imported, with its source', () => {
    const measured = path.join(tmp, 'measured.sqlite');
    const file = path.join(tmp, 'out', 'cifar10_demo-tag_toy-clip_en_zeroshot_classification.json');
    const want = recompute(measured, 1);
    const db = path.join(tmp, 'imported.sqlite');
    const r = cli(['import', file, '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files).toMatchObject([{ source: file, status: 'imported', records: 1, values: 3 }]);
    const report = JSON.parse(cli(['report', '--db', db, '--format', 'json']).stdout);
    expect(report.imported.label).toBe('imported, not measured here');
    expect(report.imported.sources).toHaveLength(1);
    const src = report.imported.sources[0];
    expect(src).toMatchObject({ sourceFile: file, format: 'clip_benchmark_json' });
    expect(src.results).toEqual([{ theirDataset: 'cifar10', dataset: 'cifar10', note: null, model: 'toy-clip', pretrained: 'demo-tag', task: 'zeroshot_classification', language: 'en', metrics: { acc1: want.acc1, acc5: want.acc5, mean_per_class_recall: expect.closeTo(want.mean_per_class_recall, 12) } }]);
    const md = cli(['report', '--db', db]).stdout;
    expect(md).toContain('### Imported results (imported, not measured here)');
    expect(md).toContain(`From \`${file}\``);
    expect(md).toContain(`acc1 ${(100 * want.acc1).toFixed(2)}, acc5 ${(100 * want.acc5).toFixed(2)}`);
    const csv = cli(['report', '--db', db, '--format', 'csv']).stdout;
    expect(csv).toContain(`"imported, not measured here",${file},`);
  });

  it('importing the same file again adds nothing', () => {
    const db = path.join(tmp, 'imported.sqlite');
    const file = path.join(tmp, 'out', 'cifar10_demo-tag_toy-clip_en_zeroshot_classification.json');
    const r = cli(['import', file, '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^already imported, nothing added: /);
    const h = openDb(db, { readonly: true });
    expect(h.prepare('SELECT COUNT(*) AS n FROM imported_results').get()).toEqual({ n: 3 });
    h.close();
  });

  // rows copied from LAION-AI/CLIP_benchmark benchmark/benchmark.csv (commit 48de38c), its header as published
  const BENCHMARK_CSV = [
    'acc1,acc5,mean_per_class_recall,dataset,model,pretrained,task,mean_average_precision,image_retrieval_recall@5,text_retrieval_recall@5,model_fullname',
    '0.0232340494791666,0.1152615017361111,0.0242046402834269,vtab/dsprites_label_orientation,ViT-L-14,openai,zeroshot_classification,,,,ViT-L-14 openai',
    '0.4460852605182502,0.9469211479520758,0.3940612716631316,fer2013,ViT-B-16-plus-240,laion400m_e32,zeroshot_classification,,,,ViT-B-16-plus-240 laion400m_e32',
    ',,,flickr30k,ViT-B-32-quickgelu,laion400m_e32,zeroshot_retrieval,,0.8546000123023987,0.9409999847412108,ViT-B-32-quickgelu laion400m_e32',
    ',,,voc2007_multilabel,ViT-B-32,laion2b_s34b_b79k,zeroshot_classification,0.796263575553894,,,ViT-B-32 laion2b_s34b_b79k',
  ].join('\n') + '\n';

  it("benchmark.csv: each row's non-empty metric cells, their dataset names mapped to ours where comparable, the rest kept under theirs with the reason", () => {
    const file = path.join(tmp, 'benchmark.csv');
    writeFileSync(file, BENCHMARK_CSV);
    const db = path.join(tmp, 'bench-csv.sqlite');
    const r = cli(['import', file, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('4 results, 9 values');
    const results = JSON.parse(cli(['report', '--db', db, '--format', 'json']).stdout).imported.sources[0].results;
    expect(results.map((x: { theirDataset: string; dataset: string | null; language: string | null; metrics: object }) => [x.theirDataset, x.dataset, x.language, x.metrics])).toEqual([
      ['vtab/dsprites_label_orientation', null, null, { acc1: 0.0232340494791666, acc5: 0.1152615017361111, mean_per_class_recall: 0.0242046402834269 }],
      ['fer2013', 'fer2013', null, { acc1: 0.4460852605182502, acc5: 0.9469211479520758, mean_per_class_recall: 0.3940612716631316 }],
      ['flickr30k', 'flickr30k', null, { 'image_retrieval_recall@5': 0.8546000123023987, 'text_retrieval_recall@5': 0.9409999847412108 }],
      ['voc2007_multilabel', null, null, { mean_average_precision: 0.796263575553894 }],
    ]);
    expect(results[1].note).toMatch(/PublicTest \+ PrivateTest/);
    expect(results[3].note).toMatch(/^not comparable: /);
  });

  it.each([
    ['no-metrics.json', '{"dataset": "cifar10", "model": "ViT-B-32", "pretrained": "openai", "task": "zeroshot_classification", "language": "en"}', /no-metrics\.json: not a CLIP_benchmark result: "metrics" is missing/],
    ['no-dataset.csv', 'acc1,model,pretrained,task\n0.5,ViT-B-32,openai,zeroshot_classification\n', /no-dataset\.csv: not a CLIP_benchmark result file/],
    ['no-task.csv', 'acc1,dataset,model,pretrained\n0.5,cifar10,ViT-B-32,openai\n', /no-task\.csv: not CLIP_benchmark's benchmark\.csv: no "task" column/],
    ['words.csv', 'acc1,dataset,model,pretrained,task\nhigh,cifar10,ViT-B-32,openai,zeroshot_classification\n', /words\.csv:2: acc1 is "high", not a number/],
    ['notes.txt', 'my results: 95%\n', /notes\.txt: not a CLIP_benchmark result file/],
  ])('%s: exit 2, one line naming the file and the fix, nothing written (a good file beside it is not imported either)', (name, content, message) => {
    const bad = path.join(tmp, name);
    writeFileSync(bad, content);
    const good = path.join(tmp, 'benchmark.csv');
    const fresh = path.join(tmp, `bad-${name}.sqlite`);
    const r = cli(['import', good, bad, '--db', fresh]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/ — /);
    expect(existsSync(fresh)).toBe(false);
    const existing = path.join(tmp, 'imported.sqlite');
    expect(cli(['import', good, bad, '--db', existing]).code).toBe(2);
    const h = openDb(existing, { readonly: true });
    expect(h.prepare('SELECT COUNT(*) AS n FROM imported_results').get()).toEqual({ n: 3 });
    h.close();
  });
});

describe('report --csv-columns clip-benchmark', () => {
  it("has CLIP_benchmark build's columns and the run's values as its JSON has them", () => {
    const db = path.join(tmp, 'measured.sqlite');
    const want = recompute(db, 1);
    const r = cli(['report', '--db', db, '--format', 'csv', '--csv-columns', 'clip-benchmark']);
    expect(r.code, r.stderr).toBe(0);
    const [head, row, ...rest] = lines(r.stdout);
    expect(rest).toEqual([]);
    expect(head).toBe('acc1,acc5,mean_per_class_recall,dataset,model,pretrained,task,language,model_fullname');
    const cells = row.split(',');
    expect(cells.slice(3)).toEqual(['cifar10', 'toy-clip', 'demo-tag', 'zeroshot_classification', 'en', 'toy-clip demo-tag']);
    expect(cells.slice(0, 2).map(Number)).toEqual([want.acc1, want.acc5]);
    expect(Number(cells[2])).toBeCloseTo(want.mean_per_class_recall, 12);
  });

  it('is for --format csv only', () => {
    const r = cli(['report', '--db', path.join(tmp, 'measured.sqlite'), '--csv-columns', 'clip-benchmark']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--csv-columns clip-benchmark is for --format csv/);
  });
});

describe("pythonFloat: Python's repr(float), as json.dump writes metric values", () => {
  // each expected string is what CPython 3 prints for repr() of the same double
  it.each([
    [1, '1.0'],
    [0, '0.0'],
    [0.5, '0.5'],
    [0.1 + 0.2, '0.30000000000000004'],
    [0.00005, '5e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [123456.789, '123456.789'],
    [2 / 3, '0.6666666666666666'],
    [NaN, 'NaN'],
  ])('%d → %s', (x, want) => expect(pythonFloat(x)).toBe(want));
});

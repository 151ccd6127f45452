import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSuiteArgs, suiteModels, type SuiteArgs } from '../src/cli/suite.js';
import { formatSuiteMatrix, suiteMatrix, type ModelSuite } from '../src/eval/suite-matrix.js';
import type { SuiteTable } from '../src/eval/suite.js';
import { checkDistinctModels, findModelFolders, isModelFolder, modelsDirFolders, parseModelsFile, readModelsFile, splitModelsList } from '../src/models/model-folders.js';
import { usageFailureSync as failureOf } from './support/usage-failure.js';

const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `clip-bench-${prefix}-`));

/** Files named like an export: enough for a layout to recognise the folder (nothing is loaded). */
function fakeExport(dir: string, layout: 'immich' | 'hf'): string {
  const files = layout === 'immich' ? ['visual/model.onnx', 'textual/model.onnx'] : ['onnx/vision_model.onnx', 'onnx/text_model.onnx'];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), 'x');
  }
  return dir;
}

describe('models files (--models-from)', () => {
  it('one folder per line: # comments, blank lines and surrounding spaces dropped, relative paths read from the file\'s folder, line numbers kept', () => {
    const text = ['# my checkpoints', '', '  ViT-B-32__openai  ', 'sub/ViT-L-14__laion2b # the big one', '/abs/model', '\t', 'last'].join('\n');
    expect(parseModelsFile(text, '/base')).toEqual([
      { line: 3, dir: '/base/ViT-B-32__openai' },
      { line: 4, dir: '/base/sub/ViT-L-14__laion2b' },
      { line: 5, dir: '/abs/model' },
      { line: 7, dir: '/base/last' },
    ]);
    expect(parseModelsFile('a\r\nb\r\n', '/x').map((e) => e.dir)).toEqual(['/x/a', '/x/b']);
  });

  it('reads the folders of an existing file; a missing folder names the file, its line and the fix', () => {
    const dir = tmp('models-file');
    mkdirSync(path.join(dir, 'm1'));
    mkdirSync(path.join(dir, 'm2'));
    const file = path.join(dir, 'models.txt');
    writeFileSync(file, 'm1\n# m3\nm2\n');
    expect(readModelsFile(file)).toEqual([path.join(dir, 'm1'), path.join(dir, 'm2')]);
    writeFileSync(file, 'm1\n\nnope\n');
    expect(failureOf(() => readModelsFile(file))).toBe(`${file}: line 3: model folder not found: ${path.join(dir, 'nope')} — fix or remove that line (relative paths are read from the models file's folder)`);
    writeFileSync(file, '# nothing\n\n');
    expect(failureOf(() => readModelsFile(file))).toBe(`${file}: the models file lists no model folder — write one model folder per line (# starts a comment)`);
    expect(failureOf(() => readModelsFile(path.join(dir, 'absent.txt')))).toMatch(/absent\.txt: models file not found — pass --models-from/);
  });

  it('--models A,B splits at commas and drops empty items', () => {
    expect(splitModelsList(' a, b ,,c,')).toEqual(['a', 'b', 'c']);
  });

  it('the same folder twice, or two folders of one name, is refused naming both', () => {
    expect(failureOf(() => checkDistinctModels([{ dir: '/m/a', name: 'a' }, { dir: '/m/a', name: 'a' }], 'models.txt'))).toBe('models.txt: model folder listed twice: /m/a — list each model folder once');
    expect(failureOf(() => checkDistinctModels([{ dir: '/x/a', name: 'a' }, { dir: '/y/a', name: 'a' }]))).toMatch(/^two model folders are named a: \/x\/a and \/y\/a/);
    expect(() => checkDistinctModels([{ dir: '/x/a', name: 'a' }, { dir: '/x/b', name: 'b' }])).not.toThrow();
  });
});

describe('model folders under a folder (--models-dir)', () => {
  it('finds Immich cache folders (clip/<name>/) and others within two levels, in path order, passing over non-model and hidden folders', () => {
    const root = tmp('models-dir');
    const b32 = fakeExport(path.join(root, 'clip', 'ViT-B-32__openai'), 'immich');
    const siglip = fakeExport(path.join(root, 'clip', 'ViT-B-16-SigLIP__webli'), 'immich');
    const hf = fakeExport(path.join(root, 'hf-export'), 'hf');
    fakeExport(path.join(root, '.cache', 'hidden-model'), 'immich');
    fakeExport(path.join(root, 'a', 'b', 'too-deep'), 'immich'); // three levels down
    mkdirSync(path.join(root, 'facial-recognition', 'buffalo_l', 'detection'), { recursive: true });
    writeFileSync(path.join(root, 'facial-recognition', 'buffalo_l', 'detection', 'model.onnx'), 'x');
    const found = findModelFolders(root);
    expect(found.models).toEqual([siglip, b32, hf]);
    expect(found.skipped).toEqual([path.join(root, 'a', 'b'), path.join(root, 'facial-recognition', 'buffalo_l')]);
    // a model folder's own visual/ and textual/ are not models, and the model is not descended into
    expect(isModelFolder(path.join(b32, 'visual'))).toBe(false);
    expect(findModelFolders(b32).models).toEqual([b32]);
  });

  it('a folder without a model, or no folder, is a one-line error naming it', () => {
    const root = tmp('models-dir-empty');
    mkdirSync(path.join(root, 'clip', 'not-a-model'), { recursive: true });
    expect(failureOf(() => modelsDirFolders(root))).toBe(`${root}: no model folder within 2 levels; not models: ${path.join('clip', 'not-a-model')} — pass the folder that holds the model folders, e.g. an Immich model cache (DIR/clip/ViT-B-32__openai/visual/model.onnx)`);
    expect(failureOf(() => modelsDirFolders(path.join(root, 'nope')))).toMatch(/nope: models folder not found/);
  });
});

describe('suite flags', () => {
  const base = { suite: 's', 'data-root': 'd' } as Partial<SuiteArgs>;
  it.each<[Partial<SuiteArgs>, string | null]>([
    [{ model: 'm' }, null],
    [{ models: 'a,b' }, null],
    [{ 'models-from': 'f.txt' }, null],
    [{ 'models-dir': 'cache' }, null],
    [{ model: 'm', name: 'mine' }, null],
    [{}, '--model (or --models, --models-from, --models-dir) is required'],
    [{ model: 'm', models: 'a,b' }, 'give one of --model and --models, not both'],
    [{ 'models-from': 'f', 'models-dir': 'c' }, 'give one of --models-from and --models-dir, not both'],
    [{ models: 'a,b', name: 'x' }, '--name names the single --model; with many models each is named by its folder'],
    [{ model: 'm', name: ' ' }, '--name must not be empty'],
  ])('%j → %s', (flags, problem) => {
    expect(checkSuiteArgs({ ...base, ...flags })).toBe(problem);
  });

  it('--model is named by --name or its folder; --models folders by their folders, a missing one refused', () => {
    expect(suiteModels({ model: '/m/ViT-B-32__openai', name: 'mine' }).models).toEqual([{ dir: '/m/ViT-B-32__openai', name: 'mine' }]);
    expect(suiteModels({ model: '/m/ViT-B-32__openai' }).models).toEqual([{ dir: '/m/ViT-B-32__openai', name: 'ViT-B-32__openai' }]);
    const dir = tmp('models-list');
    mkdirSync(path.join(dir, 'a'));
    expect(suiteModels({ models: `${path.join(dir, 'a')}` }).models).toEqual([{ dir: path.join(dir, 'a'), name: 'a' }]);
    expect(failureOf(() => suiteModels({ models: `${path.join(dir, 'a')},${path.join(dir, 'b')}` }))).toBe(`${path.join(dir, 'b')}: model folder not found — fix that folder in the --models list`);
  });
});

/** A stand-in per-model table with only what the matrix reads. */
function table(rows: [string, number][], of: number, failed: string[] = []): SuiteTable {
  const ours = rows.map(([, v]) => v);
  return {
    suite: 's',
    dataRoot: '/d',
    reference: null,
    rows: rows.map(([name, v], i) => ({ name, dataset: name, split: 'test', root: `/d/${name}`, runId: i + 1, n: 10, nFailed: 0, promptSet: name, metric: 'top1', ours: v, paperDataset: null, paperMetric: null, paper: null, verified: null, delta: null, chance: null })),
    failed: failed.map((name) => ({ name, dataset: name, root: `/d/${name}`, reason: `${name} refused` })),
    skipped: [{ name: 'dtd', dataset: 'dtd', looked: ['/d/dtd'] }],
    groups: [],
    averaging: null,
    mean: { datasets: rows.length, of, ours: rows.length ? ours.reduce((s, x) => s + x, 0) / rows.length : null, paper: null, paperUnverified: false, delta: null, complete: rows.length === of, note: '' },
  };
}

describe('the model × dataset matrix', () => {
  const models: (ModelSuite & { failure?: string })[] = [
    { model: 'a', dir: '/m/a', architecture: null, pretrained: null, table: table([['cifar10', 90], ['stl10', 70]], 4) },
    { model: 'broken', dir: '/m/broken', architecture: null, pretrained: null, table: null, failure: 'cannot load' },
    { model: 'b', dir: '/m/b', architecture: null, pretrained: null, table: table([['stl10', 50]], 4, ['cifar10']) },
  ];

  it('datasets as rows in suite order, models that ran as columns, each mean over its own datasets, every failure with its model', () => {
    const x = suiteMatrix(models, { id: 's', of: 4 }, '/d', null);
    expect(x.columns).toEqual([{ model: 'a', header: 'a' }, { model: 'b', header: 'b' }]);
    expect(x.rows.map((r) => [r.name, r.cells])).toEqual([['cifar10', [90, null]], ['stl10', [70, 50]]]);
    expect(x.mean).toMatchObject({ cells: [(90 + 70) / 2, 50], datasets: [2, 1], paper: null, of: 4 });
    expect(x.failures).toEqual([{ model: 'broken', dataset: null, reason: 'cannot load' }, { model: 'b', dataset: 'cifar10', reason: 'cifar10 refused' }]);
    expect(x.skipped).toEqual(['dtd']);
    const text = formatSuiteMatrix(x);
    expect(text.split('\n').slice(2, 7)).toEqual(['| dataset | metric | a | b |', '|---|---|---:|---:|', '| cifar10 | top1 | 90.00 | — |', '| stl10 | top1 | 70.00 | 50.00 |', '| mean (2 of 4) |  | 80.00 | 50.00 (1) |']);
    expect(text).toContain('failed (2):\n  broken: cannot load\n  b × cifar10: cifar10 refused');
  });

  it("each suite group a row: a model's group mean, or k of n where it lacks a dataset", async () => {
    const { groupAverages } = await import('../src/report/group-averages.js');
    const groups = [{ id: 'both', name: 'CIFAR-10 and STL-10', datasets: ['cifar10', 'stl10'] }];
    const withGroups = models.map((m) => (m.table ? { ...m, table: { ...m.table, groups: groupAverages(groups, new Map(m.table.rows.map((r) => [r.name, r.ours]))) } } : m));
    const x = suiteMatrix(withGroups, { id: 's', of: 4 }, '/d', null);
    expect(x.groups).toEqual([{ id: 'both', name: 'CIFAR-10 and STL-10', cells: [((90 + 70) / 2).toFixed(2), '1 of 2'] }]);
    expect(formatSuiteMatrix(x)).toContain('| group: CIFAR-10 and STL-10 |  | 80.00 | 1 of 2 |');
  });

  it('long model names become M1, M2, … headers with a legend', () => {
    const long = models.map((m) => ({ ...m, model: `${m.model}-${'x'.repeat(20)}` }));
    const text = formatSuiteMatrix(suiteMatrix(long, { id: 's', of: 4 }, '/d', null));
    expect(text).toContain(`  M1 = a-${'x'.repeat(20)}\n  M2 = b-${'x'.repeat(20)}`);
    expect(text).toContain('| dataset | metric | M1 | M2 |');
  });
});

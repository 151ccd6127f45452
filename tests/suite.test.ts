import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { findSuiteDatasets, formatSuiteTable, loadSuite, runSuite, suiteTable, type Suite, type SuiteEvent, type SuiteResult } from '../src/eval/suite.js';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { paperCell } from '../src/report/paper.js';
import { writeTar } from './support/tar-writer.js';
import { usageFailureSync as failureOf } from './support/usage-failure.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `clip-bench-${prefix}-`));
}

function writeJson(file: string, value: unknown): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value));
  return file;
}

const cell = (dataset: string) => paperCell(dataset, 'ViT-B/32')!;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

describe('suite files', () => {
  it('paper-zero-shot lists the 27 datasets of Table 11 in its order, each with its own prompt set and folders to look for', () => {
    const suite = loadSuite('paper-zero-shot');
    const table11 = Object.keys((JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'paper', 'zero-shot.json'), 'utf8')) as { datasets: object }).datasets);
    expect(table11).toHaveLength(27);
    expect(suite.datasets.map((d) => d.dataset)).toEqual(table11);
    for (const d of suite.datasets) {
      expect(d.dirs[0]).toBe(d.dataset); // clip-bench's own id is always tried first
      expect(loadPromptSet(d.dataset).id).toBe(d.dataset);
    }
  });

  it.each<[string, unknown, RegExp]>([
    ['no datasets', { datasets: [] }, /a suite is a JSON object with a non-empty "datasets" list/],
    ['an unknown key', { datasets: [{ dataset: 'dtd', dirs: ['dtd'], dir: 'x' }] }, /datasets\[0\] has an unknown key "dir" — the keys are dataset, dirs, split, prompts, paper, name/],
    ['no dirs', { datasets: [{ dataset: 'dtd' }] }, /datasets\[0\] \(dtd\) needs "dirs"/],
    ['an absolute dir', { datasets: [{ dataset: 'dtd', dirs: ['/data/dtd'] }] }, /needs "dirs": a non-empty list of paths relative to the data root/],
    ['a name twice', { datasets: [{ dataset: 'webdataset', dirs: ['a'] }, { dataset: 'webdataset', dirs: ['b'] }] }, /datasets\[1\]: "webdataset" is listed twice — give repeated adapters distinct "name"s/],
    ['an unknown paper key', { datasets: [{ dataset: 'webdataset', dirs: ['a'], paper: 'cifar-10' }] }, /datasets\[0\]: unknown paper dataset "cifar-10"\. Did you mean "cifar10"\?/],
  ])('refuses %s with one line naming the file', (_what, content, message) => {
    const file = writeJson(path.join(tmp('suite'), 's.json'), content);
    const line = failureOf(() => loadSuite(file));
    expect(line).toMatch(message);
    expect(line.startsWith(`${file}: `)).toBe(true);
  });

  it('an unknown suite id suggests the shipped ones', () => {
    expect(failureOf(() => loadSuite('paper-zeroshot'))).toMatch(/unknown suite "paper-zeroshot"\. Did you mean "paper-zero-shot"\?/);
  });

  it('a dataset is found at the first of its paths that exists (folder or file); the others are skipped with the paths tried', () => {
    const root = tmp('suite-find');
    mkdirSync(path.join(root, 'b'));
    mkdirSync(path.join(root, 'c'));
    writeFileSync(path.join(root, 'list.csv'), '');
    const suite: Suite = { id: 's', source: 's.json', datasets: [{ dataset: 'x', dirs: ['a', 'c', 'b'] }, { dataset: 'y', dirs: ['list.csv'] }, { dataset: 'z', dirs: ['zz', 'zzz'] }] };
    const { found, skipped } = findSuiteDatasets(suite, root);
    expect(found.map((f) => [f.entry.dataset, f.root])).toEqual([['x', path.join(root, 'c')], ['y', path.join(root, 'list.csv')]]);
    expect(skipped.map((s) => [s.entry.dataset, s.looked])).toEqual([['z', [path.join(root, 'zz'), path.join(root, 'zzz')]]]);
  });
});

/** A stand-in evaluation result: only what the suite reads. */
const result = (dataset: string, value: number, headline: SuiteResult['headline'] = 'top1', runId = 1): SuiteResult => ({
  runId,
  dataset,
  split: 'test',
  promptSet: dataset,
  n: 10,
  nFailed: 0,
  top1: headline === 'top1' ? value : 0.5,
  headline,
  headlineValue: value,
});

describe('running a suite', () => {
  const root = tmp('suite-run');
  for (const d of ['cifar10', 'birdsnap', 'dtd', 'voc2007']) mkdirSync(path.join(root, d));
  const suite: Suite = {
    id: 'four',
    source: 'four.json',
    datasets: ['cifar10', 'food101', 'birdsnap', 'dtd', 'voc2007'].map((d) => ({ dataset: d, dirs: [d] })),
  };

  it('records refused datasets and goes on; the table has the paper\'s numbers, deltas and means over the datasets that ran', async () => {
    const events: SuiteEvent['kind'][] = [];
    const outcome = await runSuite(
      suite,
      root,
      async (entry) => {
        if (entry.dataset === 'dtd') throw new UsageError('no images/ folder', { file: '/data/dtd', fix: 'extract dtd.tar.gz' });
        return { cifar10: result('cifar10', 0.9), birdsnap: result('birdsnap', 0.4), voc2007: result('voc2007', 0.8, 'map-11pt') }[entry.dataset]!;
      },
      (e) => events.push(e.kind),
    );
    expect(events).toEqual(['start', 'done', 'start', 'done', 'start', 'failed', 'start', 'done']);
    const t = suiteTable(outcome, 'ViT-B/32');
    expect(t.rows.map((r) => [r.name, r.metric, r.ours, r.paper, r.verified])).toEqual([
      ['cifar10', 'top1', 90, cell('cifar10').value, cell('cifar10').verified],
      ['birdsnap', 'top1', 40, cell('birdsnap').value, cell('birdsnap').verified],
      ['voc2007', 'map-11pt', 80, cell('voc2007').value, cell('voc2007').verified],
    ]);
    t.rows.forEach((r) => expect(r.delta).toBeCloseTo(r.ours - r.paper!, 10));
    expect(t.failed).toEqual([{ name: 'dtd', dataset: 'dtd', root: path.join(root, 'dtd'), reason: '/data/dtd: no images/ folder — extract dtd.tar.gz' }]);
    expect(t.skipped).toEqual([{ name: 'food101', dataset: 'food101', looked: [path.join(root, 'food101')] }]);
    const paperMean = (cell('cifar10').value + cell('birdsnap').value + cell('voc2007').value) / 3;
    expect(t.mean).toMatchObject({ datasets: 3, of: 5, ours: 70, complete: false, paperUnverified: true });
    expect(t.mean.paper).toBeCloseTo(paperMean, 10);
    expect(t.mean.delta).toBeCloseTo(70 - paperMean, 10);
    expect(t.mean.note).toBe("mean over the 3 of 5 datasets that ran: not the suite's 5-dataset mean (the paper's Table 11 mean needs all 27)");
    const text = formatSuiteTable(t);
    expect(text).toContain(`| birdsnap | top1 | 40.00 | ${cell('birdsnap').value.toFixed(1)}${cell('birdsnap').verified ? '' : '*'} | ${signed(40 - cell('birdsnap').value)} |`);
    expect(text).toContain('failed (1):\n  dtd: /data/dtd: no images/ folder — extract dtd.tar.gz');
    expect(text).toContain('skipped, not found under the data root (1): food101');
  });

  it('without --reference there are no paper columns; a dataset the paper lacks leaves the paper mean out', async () => {
    const outcome = await runSuite({ ...suite, datasets: [{ dataset: 'webdataset', dirs: ['cifar10'] }] }, root, async () => result('webdataset', 0.25));
    const plain = suiteTable(outcome);
    expect(formatSuiteTable(plain).split('\n').slice(2, 5)).toEqual(['| dataset | metric | ours |', '|---|---|---:|', '| webdataset | top1 | 25.00 |']);
    expect(plain.mean).toMatchObject({ datasets: 1, of: 1, ours: 25, paper: null, complete: true, note: 'mean over all 1 datasets of the suite' });
    const referenced = suiteTable(outcome, 'RN50');
    expect([referenced.rows[0].paper, referenced.mean.paper]).toEqual([null, null]);
    expect(formatSuiteTable(referenced)).toContain('The paper mean is left out: some datasets that ran have no RN50 number in the paper.');
  });

  it('an interruption or an internal error ends the suite', async () => {
    const interrupted = runSuite(suite, root, async () => {
      throw new UsageError('run 3 interrupted', { exitCode: 130 });
    });
    await expect(interrupted).rejects.toThrow('run 3 interrupted');
    await expect(runSuite(suite, root, async () => Promise.reject(new TypeError('bug')))).rejects.toThrow('bug');
  });
});

// ---------------------------------------------------------------- the CLI, end to end

describe('clip-bench suite', () => {
  let dir: string;
  let demo: DemoPaths;
  let dataRoot: string;
  let suiteFile: string;
  let db: string;

  function cli(args: string[]) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
    dir = tmp('suite-cli');
    demo = await writeDemo(path.join(dir, 'demo'), 2); // the toy CLIP, and 16 colour images it classifies all correctly
    dataRoot = path.join(dir, 'data');
    // three copies of one colour dataset, in three formats: an ImageFolder, WebDataset shards and a CSV manifest
    const images = await writeColourDataset(path.join(dataRoot, 'colours'), { perClass: 2, seed: 2021 });
    const classes = Object.keys(loadPromptSet('colours').classes!);
    mkdirSync(path.join(dataRoot, 'wds', 'test'), { recursive: true });
    writeFileSync(path.join(dataRoot, 'wds', 'classnames.txt'), classes.join('\n'));
    writeFileSync(path.join(dataRoot, 'wds', 'zeroshot_classification_templates.txt'), loadPromptSet('colours').templates.join('\n'));
    writeFileSync(path.join(dataRoot, 'wds', 'test', 'nshards.txt'), '1');
    writeFileSync(
      path.join(dataRoot, 'wds', 'test', '0.tar'),
      writeTar(images.flatMap((img, i) => [{ name: `s${i}${path.extname(img.path)}`, data: readFileSync(img.path) }, { name: `s${i}.cls`, data: String(classes.indexOf(img.label)) }])),
    );
    writeFileSync(path.join(dataRoot, 'list.csv'), 'path,label\n' + images.map((img) => `${path.relative(dataRoot, img.path)},${img.label}`).join('\n'));
    mkdirSync(path.join(dataRoot, 'broken-imagenet')); // found, but the imagenet adapter refuses an empty folder
    suiteFile = writeJson(path.join(dir, 'colours-suite.json'), {
      description: 'three formats of the colour dataset, plus datasets that are missing or broken',
      datasets: [
        { dataset: 'imagefolder', dirs: ['not-here', 'colours'], prompts: 'colours', paper: 'cifar10', name: 'colours-folder' },
        { dataset: 'food101', dirs: ['food101', 'food-101'] },
        { dataset: 'webdataset', dirs: ['wds'], paper: 'birdsnap', name: 'colours-wds' },
        { dataset: 'imagenet', dirs: ['broken-imagenet'] },
        { dataset: 'manifest', dirs: ['list.csv'], prompts: 'colours', paper: 'imagenet', name: 'colours-csv' },
        { dataset: 'no-such-adapter', dirs: ['colours'] },
        { dataset: 'dtd', dirs: ['dtd'] },
      ],
    });
    db = path.join(dir, 'r.sqlite');
  });

  const paperOf = { 'colours-folder': 'cifar10', 'colours-wds': 'birdsnap', 'colours-csv': 'imagenet' } as const;

  it('runs what is found, records what fails, lists what is missing, and prints the table with the paper\'s numbers and the mean', () => {
    const r = cli(['suite', '--model', demo.model, '--suite', suiteFile, '--data-root', dataRoot, '--reference', 'ViT-B/32', '--db', db, '--workers', '1']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(3); // some datasets failed; the others ran
    const rows = Object.entries(paperOf).map(([name, key]) => `| ${name} | top1 | 100.00 | ${cell(key).value.toFixed(1)}${cell(key).verified ? '' : '*'} | ${signed(100 - cell(key).value)} |`);
    const paperMean = Object.values(paperOf).reduce((s, k) => s + cell(k).value, 0) / 3;
    const unverified = Object.values(paperOf).some((k) => !cell(k).verified);
    expect(r.stdout).toContain(
      [
        `suite colours-suite: 3 of 7 datasets ran under ${dataRoot}`,
        '',
        '| dataset | metric | ours | paper ViT-B/32 | Δ |',
        '|---|---|---:|---:|---:|',
        ...rows,
        `| mean (3 of 7) |  | 100.00 | ${paperMean.toFixed(2)}${unverified ? '*' : ''} | ${signed(100 - paperMean)} |`,
        '',
        "mean over the 3 of 7 datasets that ran: not the suite's 7-dataset mean (the paper's Table 11 mean needs all 27).",
      ].join('\n'),
    );
    expect(r.stdout).toMatch(/failed \(2\):\n {2}imagenet: .*broken-imagenet: found an empty folder; expected one of the ImageNet validation layouts: .*\n {2}no-such-adapter: unknown dataset "no-such-adapter"\./);
    expect(r.stdout).toContain('skipped, not found under the data root (2): food101, dtd');
    // progress: one line as each found dataset starts and one as it ends
    const progress = r.stderr.split('\n').filter((l) => l.startsWith('['));
    expect(progress).toEqual([
      `[1/5] colours-folder: imagefolder from ${path.join(dataRoot, 'colours')}`,
      '[1/5] colours-folder: top1 100.00% over 16 samples (run 1)',
      `[2/5] colours-wds: webdataset from ${path.join(dataRoot, 'wds')}`,
      '[2/5] colours-wds: top1 100.00% over 16 samples (run 2)',
      `[3/5] imagenet: imagenet from ${path.join(dataRoot, 'broken-imagenet')}`,
      expect.stringMatching(/^\[3\/5\] imagenet: failed: .*broken-imagenet: found an empty folder/),
      `[4/5] colours-csv: manifest from ${path.join(dataRoot, 'list.csv')}`,
      '[4/5] colours-csv: top1 100.00% over 16 samples (run 3)',
      `[5/5] no-such-adapter: no-such-adapter from ${path.join(dataRoot, 'colours')}`,
      expect.stringMatching(/^\[5\/5\] no-such-adapter: failed: unknown dataset "no-such-adapter"/),
    ]);
  });

  it('--json prints the same table as one JSON object; --limit reaches every run', () => {
    const r = cli(['suite', '--model', demo.model, '--suite', suiteFile, '--data-root', dataRoot, '--reference', 'ViT-B/32', '--db', db, '--workers', '1', '--limit', '8', '--json', '--quiet']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.rows.map((x: { name: string; dataset: string; n: number; ours: number; paper: number; paperDataset: string }) => [x.name, x.dataset, x.n, x.ours, x.paper, x.paperDataset])).toEqual([
      ['colours-folder', 'imagefolder', 8, 100, cell('cifar10').value, 'cifar10'],
      ['colours-wds', 'webdataset', 8, 100, cell('birdsnap').value, 'birdsnap'],
      ['colours-csv', 'manifest', 8, 100, cell('imagenet').value, 'imagenet'],
    ]);
    expect(out.failed.map((f: { name: string }) => f.name)).toEqual(['imagenet', 'no-such-adapter']);
    expect(out.skipped).toEqual([
      { name: 'food101', dataset: 'food101', looked: [path.join(dataRoot, 'food101'), path.join(dataRoot, 'food-101')] },
      { name: 'dtd', dataset: 'dtd', looked: [path.join(dataRoot, 'dtd')] },
    ]);
    expect(out.mean).toMatchObject({ datasets: 3, of: 7, ours: 100, complete: false });
    expect(out.mean.paper).toBeCloseTo((cell('cifar10').value + cell('birdsnap').value + cell('imagenet').value) / 3, 10);
  });

  it.each([
    [['--data-root', 'empty'], /^clip-bench: .*empty: none of the 7 datasets of suite colours-suite is under the data root \(looked for e\.g\. .*not-here, .*colours\)/],
    [['--data-root', 'nowhere'], /^clip-bench: nowhere: data root does not exist/],
    [['--data-root', 'data', '--reference', 'ViT-B/33'], /unknown paper model "ViT-B\/33"\. Did you mean "ViT-B\/32"\?/],
    [['--data-root', 'data', '--limit', '0'], /--limit must be a positive integer/],
  ])('%j fails before any run with one line and exit code 2', (args, message) => {
    mkdirSync(path.join(dir, 'empty'), { recursive: true });
    const r = cli(['suite', '--model', demo.model, '--suite', suiteFile, '--db', path.join(dir, 'never.sqlite'), ...args]);
    expect([r.code, r.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(r.stderr).toMatch(message);
    expect(existsSync(path.join(dir, 'never.sqlite'))).toBe(false);
  });

  it('a model folder that is not an export stops the suite before any dataset', () => {
    const r = cli(['suite', '--model', 'no-model', '--suite', suiteFile, '--data-root', dataRoot, '--db', path.join(dir, 'never.sqlite')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^clip-bench: no-model: model folder not found/);
    expect(r.stderr).not.toMatch(/\[1\//);
  });
});

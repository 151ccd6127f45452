/**
 * The report's pure parts against small cases worked out by hand: per-class accuracy, confusion pairs,
 * failures, calibration, the paper's deltas and tolerance flags, the suite mean, the table's columns,
 * Markdown/CSV additions, prompt ablations, comparison wording and the commands' flag checks.
 */
import { describe, expect, it } from 'vitest';
import { checkAblationArgs, parsePromptList } from '../src/cli/ablation.js';
import { checkCompareArgs } from '../src/cli/compare.js';
import { checkReportArgs } from '../src/cli/report.js';
import { softmaxTop } from '../src/eval/metrics.js';
import { ablationGroups, ablationRows } from '../src/report/ablation.js';
import {
  accuracyTableCsv,
  accuracyTableJson,
  accuracyTableMarkdown,
  buildAccuracyTable,
  describePreprocessing,
  matrixMarkdown,
  referenceCell,
  referenceTable,
  suiteMean,
} from '../src/report/accuracy-table.js';
import { compareRuns, comparisonLabels } from '../src/report/compare.js';
import type { PaperCell } from '../src/report/paper.js';
import { calibrationFromConfidences, confusionPairs, failureSummary, perClassAccuracy, runCalibration, scoredRows } from '../src/report/per-class.js';
import { expectedCalibrationError } from '../src/report/stats.js';
import type { PredictionRow, RunRecord } from '../src/store/runs.js';

const row = (label: number, top1: number | null, extra: Partial<PredictionRow> = {}): PredictionRow => ({
  idx: 0,
  key: 'k',
  label,
  top5: top1 === null ? null : [top1],
  top5Logits: top1 === null ? null : [1],
  error: top1 === null ? 'corrupt' : null,
  ...extra,
});

let nextId = 1;
function rec(over: Partial<RunRecord> & { headline?: string; value?: number | null; nTemplates?: number } = {}): RunRecord {
  const { headline = 'top1', value, nTemplates = 1, ...rest } = over;
  const top1 = rest.top1 ?? 0.5;
  return {
    id: nextId++,
    status: 'finished',
    createdAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:01:00Z',
    modelName: 'm',
    modelDir: '/m',
    modelFingerprint: 'a'.repeat(64),
    modelLayout: 'immich',
    modelVariant: 'fp32',
    executionProvider: 'cpu',
    dataset: 'cifar10',
    datasetRoot: '/data/cifar10',
    split: 'test',
    nClasses: 10,
    promptSet: 'cifar10',
    promptHash: 'h-' + (rest.promptSet ?? 'cifar10'),
    params: { headline, nTemplates },
    environment: {},
    identity: 'i',
    shard: null,
    n: 100,
    nFailed: 0,
    top1,
    top5: 0.9,
    metrics: { [headline]: { value: value === undefined ? top1 : value } },
    timings: {},
    ...rest,
  };
}

describe('per-class accuracy, confusions, failures', () => {
  const rows = [row(0, 0), row(0, 1), row(0, 1), row(1, 1), row(1, 0), row(1, null), row(2, 0)];

  it('counts each class, failures as wrong; a class without samples is NaN', () => {
    const acc = perClassAccuracy(rows, ['cat', 'dog', 'fox', 'owl'], ['Cat', 'Dog', 'Fox', 'Owl']);
    expect(acc.map((c) => [c.classId, c.name, c.n, c.correct])).toEqual([
      ['cat', 'Cat', 3, 1],
      ['dog', 'Dog', 3, 1],
      ['fox', 'Fox', 1, 0],
      ['owl', 'Owl', 0, 0],
    ]);
    expect(acc[0].accuracy).toBeCloseTo(1 / 3, 15);
    expect(acc[3].accuracy).toBeNaN();
    // excluding failures leaves dog with 2 samples
    expect(perClassAccuracy(scoredRows(rows, true), ['cat', 'dog', 'fox', 'owl'])[1]).toMatchObject({ n: 2, correct: 1, accuracy: 0.5 });
    expect(() => perClassAccuracy([row(5, 5)], ['a'])).toThrow(/label 5 is outside/);
  });

  it('ranks (true → predicted) pairs by count, then true class, then predicted; share of the true class', () => {
    expect(confusionPairs(rows)).toEqual([
      { label: 0, predicted: 1, count: 2, share: 2 / 3 },
      { label: 1, predicted: 0, count: 1, share: 1 / 3 },
      { label: 2, predicted: 0, count: 1, share: 1 },
    ]);
    expect(confusionPairs(rows, 1)).toHaveLength(1);
    expect(confusionPairs([row(0, 0)])).toEqual([]);
  });

  it('groups failures by reason, most frequent first', () => {
    const f = failureSummary([row(0, null), row(0, null, { error: 'no such file' }), row(0, null), row(0, 0)]);
    expect(f).toEqual({ count: 3, reasons: [{ reason: 'corrupt', count: 2 }, { reason: 'no such file', count: 1 }] });
  });
});

describe('calibration', () => {
  it('hand-worked: (2/3)·|0.5 − 0.9| + (1/3)·|0 − 0.3|', () => {
    const c = calibrationFromConfidences([0.9, 0.9, 0.3], [1, 0, 0], 10);
    expect(c.ece).toBeCloseTo((2 / 3) * 0.4 + (1 / 3) * 0.3, 12);
    expect(c.bins[8]).toMatchObject({ lo: 0.8, count: 2, accuracy: 0.5 }); // 0.9 lies in (0.8, 0.9]
    expect(c.bins[2]).toMatchObject({ count: 1, accuracy: 0 });
    expect(c.bins.filter((b) => b.count === 0).every((b) => Number.isNaN(b.accuracy))).toBe(true);
  });

  it('stored confidences give the ECE that stats.ts computes from the full logits', () => {
    // 3 classes, logits at scale 1 here (the stored confidence is the softmax at the stored scale)
    const logits = [
      [2, 0, 0],
      [0.1, 0, 0.3],
      [0, 3, 1],
      [1, 1.5, 0],
      [0, 0, 0.2],
    ];
    const labels = [0, 0, 1, 0, 2];
    const rows = logits.map((l, i) => {
      const top = l.indexOf(Math.max(...l));
      return { label: labels[i], top5: [top], top5Logits: [l[top]], confidence: softmaxTop(l, top) };
    });
    const ours = runCalibration(rows, 15)!;
    const direct = expectedCalibrationError(Float32Array.from(logits.flat()), labels, { scale: 1 });
    expect(ours.source).toBe('stored');
    expect(ours.ece).toBeCloseTo(direct.ece, 6);
    expect(ours.bins.map((b) => b.count)).toEqual(direct.bins.map((b) => b.count));
  });

  it('without stored confidences: the softmax over the five stored logits, marked as an approximation', () => {
    const c = runCalibration([{ label: 0, top5: [0, 1, 2, 3, 4], top5Logits: [Math.log(3), 0, 0, 0, 0], confidence: null }, row(0, null)], 10)!;
    expect(c).toMatchObject({ source: 'top5', n: 1 });
    expect(c.ece).toBeCloseTo(1 - 3 / 7, 12); // right, at confidence 3/(3 + 4)
    expect(runCalibration([row(0, null)])).toBeNull();
  });
});

describe('the paper beside ours', () => {
  it('delta in points; flagged strictly beyond the tolerance; unverified carried through', () => {
    expect(referenceCell(0.9, { value: 91.3, verified: true }, 1)).toMatchObject({ paper: 91.3, verified: true, flagged: true });
    expect(referenceCell(0.9, { value: 91.3, verified: true }, 1).delta).toBeCloseTo(-1.3, 12);
    expect(referenceCell(0.923, { value: 91.3, verified: true }, 1).flagged).toBe(false); // exactly +1.0
    expect(referenceCell(0.9231, { value: 91.3, verified: false }, 1)).toMatchObject({ flagged: true, verified: false });
    expect(referenceCell(0.5, null, 1)).toEqual({ ours: 50, paper: null, verified: null, delta: null, flagged: false });
  });

  const paper: Record<string, PaperCell> = { cifar10: { value: 91.3, verified: true }, food101: { value: 84.4, verified: true }, birdsnap: { value: 37.8, verified: false } };
  const lookup = (d: string) => paper[d] ?? null;

  it('suite mean: each dataset once, its own prompt set preferred, then most templates; the paper over the same datasets', () => {
    const runs = [
      rec({ dataset: 'cifar10', promptSet: 'cifar10', top1: 0.9, nTemplates: 18 }),
      rec({ dataset: 'cifar10', promptSet: 'imagenet', top1: 0.5, nTemplates: 80 }), // more templates, but not cifar10's own
      rec({ dataset: 'food101', promptSet: 'food101', top1: 0.8 }),
      rec({ dataset: 'oxford-pets', promptSet: 'oxford-pets', headline: 'mean-per-class-recall', value: 0.7, top1: 0.2 }),
    ];
    const t = buildAccuracyTable(runs);
    // prompt sets are named only in the dataset where they vary
    expect(t.columns).toEqual(['cifar10 / cifar10', 'cifar10 / imagenet', 'food101', 'oxford-pets']);
    const s = suiteMean(t, t.rows[0], lookup);
    expect(s.datasets).toEqual(['cifar10', 'food101', 'oxford-pets']);
    expect(s.mean).toBeCloseTo((90 + 80 + 70) / 3, 12); // the headline of oxford-pets, not its top-1
    expect(s.paper).toBeNull(); // no oxford-pets number in this lookup
    const two = buildAccuracyTable(runs.slice(0, 3));
    expect(suiteMean(two, two.rows[0], lookup).paper).toBeCloseTo((91.3 + 84.4) / 2, 12);
    expect(suiteMean(two, two.rows[0]).paper).toBeUndefined();
  });

  it('Markdown: headline cells, the suite mean, a reference section with ⚠ and (unverified); CSV adds the columns', () => {
    const runs = [
      rec({ dataset: 'cifar10', top1: 0.9 }),
      rec({ dataset: 'birdsnap', promptSet: 'birdsnap', top1: 0.38 }),
      rec({ dataset: 'oxford-pets', promptSet: 'oxford-pets', headline: 'mean-per-class-recall', value: 0.7 }),
      rec({ dataset: 'cifar10', modelName: 'm', modelVariant: 'fp16', modelFingerprint: 'c'.repeat(64), top1: 0.905 }),
    ];
    const t = buildAccuracyTable(runs);
    const reference = referenceTable(t, 'ViT-B/32', lookup, 1);
    const md = accuracyTableMarkdown(t, { reference, suite: t.rows.map((r) => suiteMean(t, r, lookup)) });
    expect(md).toContain('| model | birdsnap | cifar10 | oxford-pets |');
    expect(md).toContain('| m (aaaaaaaa) | 38.00 / 90.00 (n=100) | 90.00 / 90.00 (n=100) | 70.00 (mean-per-class-recall) (n=100) |');
    expect(md).toContain('| m fp16 (cccccccc) | – | 90.50 / 90.00 (n=100) | – |');
    expect(md).toContain('| m (aaaaaaaa) | cifar10 | top1 | 90.00 | 91.3 | −1.30 ⚠ |');
    expect(md).toContain('| m (aaaaaaaa) | birdsnap | top1 | 38.00 | 37.8 (unverified) | +0.20 |');
    expect(md).toContain('| m fp16 (cccccccc) | cifar10 | top1 | 90.50 | 91.3 | −0.80 |');
    expect(md).toContain('1 result is on datasets the paper has no ViT-B/32 number for.');
    expect(md).toContain('- m (aaaaaaaa): 66.00 over 3 datasets (birdsnap, cifar10, oxford-pets); paper: not every dataset has a number');
    const csv = accuracyTableCsv(t, { reference }).split('\n');
    expect(csv[0]).toBe('model,fingerprint,dataset,run_id,n,n_failed,top1,top5,metric,value,paper_model,paper,paper_verified,delta_points,beyond_tolerance');
    expect(csv.find((l) => l.includes(',oxford-pets,'))).toMatch(/,mean-per-class-recall,0\.7,ViT-B\/32,,,,$/);
    expect(csv.find((l) => l.includes(',birdsnap,'))).toMatch(/,top1,0\.38,ViT-B\/32,37\.8,false,0\.2\d*,false$/);
    // without a reference and with top-1 headlines only, the CSV keeps its eight columns
    expect(accuracyTableCsv(buildAccuracyTable(runs.slice(0, 2))).split('\n')[0]).toBe('model,fingerprint,dataset,run_id,n,n_failed,top1,top5');
  });

  it('describes preprocessing in one line, naming known normalisations', () => {
    const clip = { size: 224, interpolation: 'bicubic', resizeMode: 'shortest', mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] };
    expect(describePreprocessing(clip)).toBe('bicubic 224 shortest, CLIP mean/std');
    expect(describePreprocessing({ ...clip, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] })).toBe('bicubic 224 shortest, mean [0.500, 0.500, 0.500] std [0.500, 0.500, 0.500]');
    expect(describePreprocessing(undefined)).toBe('unknown');
  });
});

describe('prompt ablation', () => {
  it('Δ against the first row in points; cache counts where given', () => {
    const rows = ablationRows(
      [rec({ promptSet: 'imagenet', top1: 0.633, nTemplates: 80 }), rec({ promptSet: 'single', top1: 0.6, nTemplates: 1 })],
      [{ imageHits: 0, imageMisses: 50 }, { imageHits: 50, imageMisses: 0 }],
    );
    expect(rows.map((r) => [r.promptSet, r.templates, r.imagesEncoded, r.imagesCached])).toEqual([
      ['imagenet', 80, 50, 0],
      ['single', 1, 0, 50],
    ]);
    expect(rows[0].delta).toBe(0);
    expect(rows[1].delta).toBeCloseTo(-3.3, 12);
  });

  it('groups runs that differ only in prompts; a rerun replaces a set in place; one prompt set is no ablation', () => {
    const base = { modelFingerprint: 'f'.repeat(64), dataset: 'imagenet' };
    const a = rec({ ...base, promptSet: 'imagenet', promptHash: 'h1', top1: 0.6 });
    const b = rec({ ...base, promptSet: 'single', promptHash: 'h2', top1: 0.55 });
    const a2 = rec({ ...base, promptSet: 'imagenet', promptHash: 'h1', top1: 0.61 });
    const other = rec({ ...base, modelFingerprint: 'e'.repeat(64), promptSet: 'imagenet', promptHash: 'h1' });
    const unfinished = rec({ ...base, promptSet: 'classname', promptHash: 'h3', status: 'running', top1: null });
    const groups = ablationGroups([a, b, a2, other, unfinished]);
    expect(groups).toHaveLength(1);
    expect(groups[0].rows.map((r) => [r.runId, r.promptSet])).toEqual([
      [a2.id, 'imagenet'],
      [b.id, 'single'],
    ]);
    expect(groups[0].rows[1].delta).toBeCloseTo(-6, 12);
  });
});

describe('comparison wording', () => {
  it('two precisions of one model are named by their variants; prompt sets by prompt set; else by model', () => {
    expect(comparisonLabels(rec(), rec({ modelVariant: 'fp16' }))).toEqual(['fp32', 'fp16']);
    expect(comparisonLabels(rec(), rec({ promptSet: 'single', promptHash: 'x' }))).toEqual(['prompts "cifar10"', 'prompts "single"']);
    expect(comparisonLabels(rec({ modelName: 'ViT-B-32' }), rec({ modelName: 'ViT-B-16' }))).toEqual(['ViT-B-32', 'ViT-B-16']);
    const [x, y] = [rec(), rec()];
    expect(comparisonLabels(x, y)).toEqual([`run ${x.id}`, `run ${y.id}`]);
  });

  it('reads "fp16 loses … points [..], p = …; …% of predictions change" and carries class names', () => {
    // 4 samples of class 0, 4 of class 1; fp16 gets two class-0 samples wrong
    const labels = [0, 0, 0, 0, 1, 1, 1, 1];
    const preds = (wrong: number[]) => labels.map((l, i) => ({ ...row(l, wrong.includes(i) ? 1 - l : l), idx: i, key: `k${i}` }));
    const c = compareRuns({ run: rec({ params: { classIds: ['cat', 'dog'] } }), predictions: preds([]) }, { run: rec({ modelVariant: 'fp16' }), predictions: preds([0, 1]) }, { seed: 1, iterations: 2000, names: ['Cat', 'Dog'] });
    // the interval of −2/8 with b = 2, c = 0 lies below 0 (every resample loses 0, 1 or 2 samples, mostly some)
    expect(c.sentence).toMatch(/^fp16 (loses 25\.00 points|matches fp32: -25\.00 points) \[.*\], p = 0\.5; 25\.0% of predictions change$/);
    expect(c.perClass[0]).toMatchObject({ classId: 'cat', className: 'Cat', delta: -0.5 });
  });
});

describe('command flag checks', () => {
  it.each([
    [{ format: 'html' as const }, /needs --out/],
    [{ format: 'md' as const, tolerance: -1 }, /--tolerance must be/],
    [{ format: 'html' as const, out: 'r.html', tolerance: 0.5 }, null],
  ])('report %j', (args, problem) => {
    const got = checkReportArgs(args);
    if (problem) expect(got).toMatch(problem);
    else expect(got).toBeNull();
  });

  it.each([
    [{}, /pass --runs A,B or --models/],
    [{ runs: '1,2', models: 'a,b', dataset: 'd' }, /not both/],
    [{ models: 'a,b' }, /--models needs --dataset/],
    [{ runs: '1,2', format: 'html' as const }, /needs --out/],
    [{ runs: '1,2', format: 'json' as const }, null],
  ])('compare %j', (args, problem) => {
    const got = checkCompareArgs(args);
    if (problem) expect(got).toMatch(problem);
    else expect(got).toBeNull();
  });

  const ok = { model: 'm', dataset: 'd', root: 'r' };
  it.each([
    [{ ...ok, prompts: 'imagenet' }, /at least two/],
    [{ ...ok, prompts: 'imagenet, imagenet-7,' }, null],
    [{ ...ok, prompts: 'a,b,a' }, /names "a" twice/],
    [{ ...ok, prompts: 'a,b', json: true, format: 'md' as const }, /not both/],
    [{ model: 'm', dataset: 'd', prompts: 'a,b' }, /--root is required/],
  ])('ablation %j', (args, problem) => {
    const got = checkAblationArgs(args);
    if (problem) expect(got).toMatch(problem);
    else expect(got).toBeNull();
  });

  it('splits the prompt list on commas, dropping blanks', () => {
    expect(parsePromptList(' imagenet,imagenet-7 ,,my.json')).toEqual(['imagenet', 'imagenet-7', 'my.json']);
  });
});

describe('which run a cell shows (issue 14, item 2)', () => {
  const whole = { params: { headline: 'top1', nTemplates: 1, limit: null, splitSize: 300, nSamples: 300 }, n: 300 };
  const limited = { params: { headline: 'top1', nTemplates: 1, limit: 50, splitSize: 300, nSamples: 50 }, n: 50 };

  it('a later --limit 50 run does not replace the complete 300-sample run; a partial run alone is marked partial with its n', () => {
    const complete = rec({ ...whole, top1: 0.9 });
    const quick = rec({ ...limited, top1: 0.5 }); // finished later (higher id)
    const t = buildAccuracyTable([complete, quick]);
    expect(t.columns).toEqual(['cifar10']);
    expect(t.rows[0].cells[0]).toMatchObject({ runId: complete.id, n: 300, top1: 0.9, partial: false });
    expect(t.runs.map((r) => r.runId)).toEqual([complete.id]);
    // and the other way round: the complete run, finished after the quick one, wins too
    const again = buildAccuracyTable([rec({ ...limited, top1: 0.5 }), rec({ ...whole, top1: 0.8 })]);
    expect(again.rows[0].cells[0]).toMatchObject({ n: 300, top1: 0.8 });
    // of two complete runs, the later; of two partial ones, the larger
    expect(buildAccuracyTable([rec({ ...whole, top1: 0.7 }), rec({ ...whole, top1: 0.75 })]).rows[0].cells[0]?.top1).toBe(0.75);
    const bigger = { params: { ...limited.params, limit: 100, nSamples: 100 }, n: 100 };
    expect(buildAccuracyTable([rec({ ...bigger, top1: 0.6 }), rec({ ...limited, top1: 0.5 })]).rows[0].cells[0]).toMatchObject({ top1: 0.6, n: 100, partial: true });
    const md = accuracyTableMarkdown(buildAccuracyTable([rec({ ...limited, top1: 0.5 })]));
    expect(md).toContain('| m (aaaaaaaa) | 50.00 / 90.00 (n=50 of 300, partial: --limit 50) |');
    // a --limit at least the split's size is the whole split; a shard is always a part
    expect(buildAccuracyTable([rec({ params: { ...limited.params, limit: 500, nSamples: 300 }, n: 300 })]).rows[0].cells[0]?.partial).toBe(false);
    expect(accuracyTableMarkdown(buildAccuracyTable([rec({ ...whole, n: 75, shard: '0/4' })]))).toContain('(n=75 of 300, partial: shard 0/4)');
  });

  it('n is in every cell of every format', () => {
    const t = buildAccuracyTable([rec({ ...whole, top1: 0.9 }), rec({ dataset: 'oxford-pets', promptSet: 'oxford-pets', headline: 'mean-per-class-recall', value: 0.7, n: 3669 })]);
    expect(matrixMarkdown(t)[2]).toBe('| m (aaaaaaaa) | 90.00 / 90.00 (n=300) | 70.00 (mean-per-class-recall) (n=3669) |');
    expect(accuracyTableCsv(t).split('\n').slice(1, 3).map((l) => l.split(',')[4])).toEqual(['300', '3669']);
    expect(JSON.parse(accuracyTableJson(t)).rows[0].cells.map((c: { n: number }) => c.n)).toEqual([300, 3669]);
  });

  it('different roots are different datasets, told apart by their paths; a folder of the same name no longer overwrites a result', () => {
    const a = rec({ dataset: 'imagefolder', datasetRoot: '/data/a/val', promptSet: 'single', top1: 0.9 });
    const b = rec({ dataset: 'imagefolder', datasetRoot: '/data/b/val', promptSet: 'single', top1: 0.2 });
    const t = buildAccuracyTable([a, b]);
    expect(t.columns).toEqual(['imagefolder:val (a/val)', 'imagefolder:val (b/val)']);
    expect(t.rows[0].cells.map((c) => c?.top1)).toEqual([0.9, 0.2]);
    expect(t.columnDatasetLabels).toEqual(t.columns); // the suite mean counts them as two datasets
    // named adapters too: two CIFAR-10 roots are two columns
    expect(buildAccuracyTable([rec({ datasetRoot: '/x/cifar10' }), rec({ datasetRoot: '/y/cifar10' })]).columns).toEqual(['cifar10 (x/cifar10)', 'cifar10 (y/cifar10)']);
    // one root: the plain label, as before
    expect(buildAccuracyTable([a, { ...a, id: a.id + 100 }]).columns).toEqual(['imagefolder:val']);
  });

  it('prompt sets by hash and preprocessing conventions are settings of their own, named where they differ', () => {
    const pre = (convention: string, cropRounding: string) => ({ params: { headline: 'top1', nTemplates: 1, convention, preprocess: { size: 224, cropRounding } } });
    const ref = rec({ ...pre('reference', 'round'), top1: 0.9 });
    const exp = rec({ ...pre('exporter', 'floor'), top1: 0.8 });
    const t = buildAccuracyTable([ref, exp]);
    expect(t.columns).toEqual(['cifar10 / exporter preprocessing', 'cifar10 / reference preprocessing']);
    expect(t.rows[0].cells.map((c) => c?.top1)).toEqual([0.8, 0.9]);
    // one prompt-set name, two different contents (an edited file): two columns, the hash tells them apart
    const edited = buildAccuracyTable([rec({ promptSet: 'mine.json', promptHash: 'aaaaaaaa11', top1: 0.9 }), rec({ promptSet: 'mine.json', promptHash: 'bbbbbbbb22', top1: 0.1 })]);
    expect(edited.columns).toEqual(['cifar10 / mine.json (aaaaaaaa)', 'cifar10 / mine.json (bbbbbbbb)']);
  });
});

/**
 * Suites as data: the groups, averaging and chance levels suite files declare (checked by loadSuite), and the
 * group averages of the suite output and the report, each checked against a hand computation; a group with a
 * dataset that did not run says "k of n" and has no mean.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { formatSuiteTable, loadSuite, runSuite, suiteTable, type Suite, type SuiteResult } from '../src/eval/suite.js';
import type { AccuracyTable, TableCell } from '../src/report/accuracy-table.js';
import { chanceLevel, groupAverages, reportGroupAverages, reportGroupsMarkdown } from '../src/report/group-averages.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-suite-groups-'));

describe('the shipped suites declare their groups', () => {
  it("paper-zero-shot: ImageNet, DataComp's VTAB natural / specialized / structured restricted to Table 11, and all 27; the paper's averaging", () => {
    const s = loadSuite('paper-zero-shot');
    const names = s.datasets.map((d) => d.dataset);
    const group = (id: string) => s.groups!.find((g) => g.id === id)!.datasets;
    // DataComp tasklist.yml tags (commit 4a8df19), by our ids, less the ones Table 11 lacks (SVHN; Diabetic Retinopathy; CLEVR Distance, dSprites, SmallNORB, DMLab)
    const datacomp = { 'vtab-natural': ['caltech101', 'cifar100', 'dtd', 'flowers102', 'oxford-pets', 'sun397', 'svhn'], 'vtab-specialized': ['eurosat', 'pcam', 'resisc45'], 'vtab-structured': ['clevr-counts', 'clevr-distance', 'kitti'] };
    for (const [id, members] of Object.entries(datacomp)) expect([...group(id)].sort()).toEqual(members.filter((m) => names.includes(m)).sort());
    expect(group('imagenet')).toEqual(['imagenet']);
    expect(group('all')).toEqual(names);
    expect(names).toHaveLength(27);
    expect(s.averaging).toMatchObject({ metric: 'headline', weights: 'equal' });
  });

  it('paper-retrieval: one retrieval group of flickr30k and mscoco, each with a stated chance level of 1/images', () => {
    const s = loadSuite('paper-retrieval');
    expect(s.groups).toMatchObject([{ id: 'retrieval', datasets: ['flickr30k', 'mscoco'] }]);
    expect(s.datasets.map((d) => d.chance!.value)).toEqual([1 / 1000, 1 / 5000]);
  });

  it("imagenet-shifts: DataComp's six-dataset distribution-shift group, ImageNet-O included though clip-bench has no adapter for it", () => {
    expect(loadSuite('imagenet-shifts').groups!.find((g) => g.id === 'imagenet-shifts')!.datasets).toHaveLength(6);
  });
});

describe('loadSuite refuses a bad group, averaging or chance with the file and the fix', () => {
  const base = { datasets: [{ dataset: 'cifar10', dirs: ['cifar10'] }, { dataset: 'mnist', dirs: ['mnist'] }] };
  it.each([
    ['a group naming a dataset the suite lacks', { groups: [{ id: 'g', name: 'G', datasets: ['cifar10', 'svhn'] }] }, /groups\[0\] \(g\) names "svhn", which is not a dataset of the suite/],
    ['a group id used twice', { groups: [{ id: 'g', name: 'G', datasets: ['cifar10'] }, { id: 'g', name: 'H', datasets: ['mnist'] }] }, /groups\[1\]: group id "g" is used twice/],
    ['an empty group', { groups: [{ id: 'g', name: 'G', datasets: [] }] }, /groups\[0\] \(g\) needs "datasets"/],
    ['averaging by another metric', { averaging: { metric: 'top5', weights: 'equal', description: 'x' } }, /"averaging.metric" must be "headline"/],
    ['a chance level above 1', { datasets: [{ dataset: 'cifar10', dirs: ['cifar10'], chance: { value: 10, source: 'percent by mistake' } }] }, /datasets\[0\]: "chance" must be/],
  ])('%s', (_, extra, message) => {
    const file = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ ...base, ...extra }));
    let caught: unknown;
    try {
      loadSuite(file);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).oneLine()).toMatch(message);
    expect((caught as UsageError).file).toBe(file);
    expect((caught as UsageError).fix).toBeTruthy();
  });
});

describe('chance levels', () => {
  it.each([
    ['top1', 10, 1 / 10],
    ['mean-per-class-recall', 102, 1 / 102],
    ['top5', 100, 5 / 100],
    ['top5', 4, 1],
    ['mean-top1-top5', 700, (1 / 700 + 5 / 700) / 2],
    ['roc-auc', 2, 0.5],
    ['map-11pt', 20, null],
  ] as const)('%s over %d classes → %s', (metric, classes, want) => expect(chanceLevel(metric, classes)).toBe(want));
});

const result = (dataset: string, value: number, headline: SuiteResult['headline'] = 'top1'): SuiteResult => ({ runId: 1, dataset, split: 'test', promptSet: dataset, n: 10, nFailed: 0, top1: value, headline, headlineValue: value });

describe('suite output: group averages', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-suite-groups-run-'));
  const suite: Suite = {
    id: 'grouped',
    source: 'grouped.json',
    datasets: ['cifar10', 'mnist', 'pcam', 'kitti'].map((d) => ({ dataset: d, dirs: [d] })),
    groups: [
      { id: 'digits-and-objects', name: 'digits and objects', datasets: ['cifar10', 'mnist'] },
      { id: 'structured', name: 'structured', datasets: ['pcam', 'kitti'] },
    ],
    averaging: { metric: 'headline', weights: 'equal', description: 'each dataset equally' },
  };
  for (const d of ['cifar10', 'mnist', 'pcam']) writeFileSync(path.join(root, d), '');

  it('a complete group is the unweighted mean of its datasets; one with a dataset that did not run is "k of n", not averaged', async () => {
    const values: Record<string, number> = { cifar10: 0.9, mnist: 0.45, pcam: 0.6 };
    const outcome = await runSuite(suite, root, async (e) => result(e.dataset, values[e.dataset]));
    const t = suiteTable(outcome);
    // by hand: (90 + 45) / 2 = 67.5; chance (1/10 + 1/10) / 2 = 10 percent (both have 10 classes)
    expect(t.groups[0]).toMatchObject({ id: 'digits-and-objects', present: 2, of: 2, missing: [], text: '67.50' });
    expect(t.groups[0].mean).toBeCloseTo(67.5, 10);
    expect(t.groups[0].chance).toBeCloseTo(10, 10);
    expect(t.groups[1]).toEqual({ id: 'structured', name: 'structured', present: 1, of: 2, missing: ['kitti'], mean: null, text: '1 of 2', chance: null });
    expect(t.rows.map((r) => r.chance)).toEqual([100 / 10, 100 / 10, 100 / 2]);
    const text = formatSuiteTable(t);
    expect(text).toContain('group averages (each dataset equally):');
    expect(text).toMatch(/ {2}digits and objects {2}67\.50 {2}\(2 datasets; chance 10\.00\)/);
    expect(text).toMatch(/ {2}structured +1 of 2 datasets ran, not averaged \(missing: kitti\)/);
  });

  it('groupAverages alone: the mean by hand, and "0 of n" for a group none of whose datasets ran', () => {
    const g = groupAverages([{ id: 'a', name: 'A', datasets: ['x', 'y', 'z'] }, { id: 'b', name: 'B', datasets: ['w'] }], new Map([['x', 10], ['y', 20], ['z', 60]]));
    expect(g.map((x) => [x.text, x.mean])).toEqual([['30.00', 30], ['0 of 1', null]]);
  });
});

describe('report: group averages per model', () => {
  const cell = (runId: number, value: number) => ({ runId, headlineValue: value, language: null, partial: false, promptSet: 'p', nTemplates: 1 }) as unknown as TableCell;
  // two models × three Table 11 datasets: the VTAB specialized group (eurosat, resisc45, pcam) complete for one model only
  const table = {
    columns: ['eurosat', 'resisc45', 'pcam'],
    columnDatasets: ['eurosat', 'resisc45', 'pcam'],
    columnDatasetLabels: ['eurosat', 'resisc45', 'pcam'],
    rows: [
      { model: 'A', variant: 'fp32', fingerprint: 'aaaaaaaa11', cells: [cell(1, 0.5), cell(2, 0.6), cell(3, 0.7)] },
      { model: 'B', variant: 'fp32', fingerprint: 'bbbbbbbb22', cells: [cell(4, 0.3), null, cell(5, 0.8)] },
    ],
    runs: [],
  } as unknown as AccuracyTable;

  it('a model with every dataset of a group has its mean; the other has "k of n"', () => {
    const [zs] = reportGroupAverages(table, [], [loadSuite('paper-zero-shot')]);
    expect(zs.suite).toBe('paper-zero-shot');
    const spec = (i: number) => zs.rows[i].groups.find((g) => g.id === 'vtab-specialized')!;
    expect(spec(0).mean).toBeCloseTo((50 + 60 + 70) / 3, 10);
    expect([spec(1).text, spec(1).missing]).toEqual(['2 of 3', ['resisc45']]);
    expect(zs.rows[0].groups.find((g) => g.id === 'all')!.text).toBe('3 of 27');
    const md = reportGroupsMarkdown([zs]).join('\n');
    expect(md).toContain('### Group averages: suite paper-zero-shot');
    expect(md).toContain(`| A (aaaaaaaa) | 0 of 1 | 0 of 6 | ${((50 + 60 + 70) / 3).toFixed(2)} | 0 of 2 | 3 of 27 |`);
  });

  it('a suite none of whose datasets ran is left out', () => {
    expect(reportGroupAverages(table, [], [loadSuite('paper-retrieval')])).toEqual([]);
  });
});

/**
 * The report's matrix without a browser: the short-labels data file, the diverging colour scale against
 * hand-computed colours, Δ only beside a comparable reference, the transposed HTML cells and legends, and
 * the 10 × 27 fixture DB written through the store API (its stored top-1 recounted from its predictions).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASETS } from '../src/datasets/index.js';
import { loadSuite } from '../src/eval/suite.js';
import { MATRIX_MODELS, MATRIX_PAPER_MODEL, matrixFingerprint, writeMatrixDb } from '../src/fixtures/matrix-db.js';
import type { AccuracyTable, TableCell } from '../src/report/accuracy-table.js';
import { matrixHtml } from '../src/report/matrix-html.js';
import { deltaColour, deltaScale, matrixView, paperReferences, shortColumnLabel, shortLabels, type CellReferences } from '../src/report/matrix.js';
import { paperCell } from '../src/report/paper.js';
import { collectReport, reportCsv } from '../src/report/report-data.js';
import { reportHtml } from '../src/report/html.js';
import { openDb } from '../src/store/db.js';
import { iteratePredictions, listRuns } from '../src/store/runs.js';

const cell = (runId: number, top1: number, over: Partial<TableCell> = {}): TableCell => ({
  runId,
  top1,
  top5: 1,
  n: 40,
  nFailed: 0,
  partial: false,
  limit: null,
  shard: null,
  splitSize: 40,
  failuresExcluded: false,
  headline: 'top1',
  headlineValue: top1,
  promptSet: 'p',
  nTemplates: 1,
  language: null,
  ...over,
});

/** Two models × three datasets, columns in the accuracy table's alphabetical order (cifar10, dtd, food101). */
const table: AccuracyTable = {
  columns: ['cifar10', 'dtd', 'food101'],
  columnDatasets: ['cifar10', 'dtd', 'food101'],
  columnDatasetLabels: ['cifar10', 'dtd', 'food101'],
  rows: [
    { model: 'ViT-B-32__openai', variant: 'fp32', fingerprint: 'a'.repeat(64), cells: [cell(1, 0.9), cell(2, 0.4), cell(3, 0.8)] },
    { model: 'ViT-B-32__openai', variant: 'fp16', fingerprint: 'a'.repeat(64), cells: [cell(4, 0.925), null, cell(6, 0.82)] },
  ],
  runs: [],
};

describe('configs/datasets/short-labels.json', () => {
  it('names every dataset adapter with a unique short label of at most 6 characters', () => {
    const labels = shortLabels();
    for (const id of Object.keys(DATASETS)) expect(labels[id], id).toBeDefined();
    const shorts = Object.values(labels).map((l) => l.short);
    expect(new Set(shorts).size).toBe(shorts.length);
    for (const s of shorts) expect(s.length, s).toBeLessThanOrEqual(6);
  });

  it('puts the short label in place of the dataset id, keeping the rest of a column label', () => {
    expect(shortColumnLabel('cifar10', 'cifar10')).toBe('C10');
    expect(shortColumnLabel('cifar10 / single', 'cifar10')).toBe('C10 / single');
    expect(shortColumnLabel('imagefolder:colours', 'imagefolder')).toBe('imagefolder:colours');
    expect(shortColumnLabel('mystery', 'mystery')).toBe('mystery');
  });
});

describe('the diverging colour scale', () => {
  it.each([
    [0, 4, 'rgb(255, 255, 255)'],
    // t = 1/4 towards blue (67, 147, 195): 255 + (67 − 255)/4 = 208, 255 − 108/4 = 228, 255 − 60/4 = 240
    [1, 4, 'rgb(208, 228, 240)'],
    // t = 1/2 towards red (214, 96, 77): 234.5 → 235, 175.5 → 176, 166
    [-2, 4, 'rgb(235, 176, 166)'],
    // beyond the scale: full colour
    [9, 4, 'rgb(67, 147, 195)'],
    [-9, 4, 'rgb(214, 96, 77)'],
  ])('Δ %d on ±%d points → %s', (delta, scale, colour) => {
    expect(deltaColour(delta, scale)).toBe(colour);
  });

  it('is symmetric: ±Δ are equally far from white', () => {
    const dist = (c: string) => c.match(/\d+/g)!.map(Number).reduce((s, v) => s + (255 - v), 0);
    const above = deltaColour(1.5, 3).match(/\d+/g)!.map(Number);
    const below = deltaColour(-1.5, 3).match(/\d+/g)!.map(Number);
    expect(above[2]).toBeGreaterThan(above[0]); // blue
    expect(below[0]).toBeGreaterThan(below[2]); // red
    // half-way to each end: the distance from white is half of each end's, within the rounding of 3 channels (0.5 each)
    expect(Math.abs(dist(deltaColour(1.5, 3)) - dist(deltaColour(3, 3)) / 2)).toBeLessThanOrEqual(1.5);
    expect(Math.abs(dist(deltaColour(-1.5, 3)) - dist(deltaColour(-3, 3)) / 2)).toBeLessThanOrEqual(1.5);
  });

  it.each([
    [[], 1],
    [[0.4], 1],
    [[-3.2, 2], 4],
    [[3], 3],
    [[25, -1], 10],
  ])('scale of %j is ±%d points', (deltas, scale) => {
    expect(deltaScale(deltas)).toBe(scale);
  });
});

describe('matrixView and its HTML', () => {
  // row 0: cifar10 against 91.3 (comparable), food101 against a published number of another protocol; dtd none
  const refs: CellReferences = [
    [{ value: 91.3, source: 'paper Table 11, ViT-B/32', comparable: true }, null, { value: 84.4, source: 'open_clip results', note: 'other split', comparable: false }],
    [{ value: 91.3, source: 'paper Table 11, ViT-B/32', comparable: true }, null, null],
  ];
  const view = matrixView(table, refs, 1);

  it('rows in Table 11 order (Food-101 before CIFAR-10 before DTD), models as columns named by the run, fingerprint only where names clash', () => {
    expect(view.datasets.map((d) => d.short)).toEqual(['Food', 'C10', 'DTD']);
    expect(view.models.map((m) => m.label)).toEqual(['ViT-B-32__openai', 'ViT-B-32__openai fp16']);
    const same = matrixView({ ...table, rows: [table.rows[0], { ...table.rows[0], fingerprint: 'b'.repeat(64) }] }, [[], []], 1);
    expect(same.models.map((m) => m.label)).toEqual(['ViT-B-32__openai (aaaaaaaa)', 'ViT-B-32__openai (bbbbbbbb)']);
  });

  it('Δ = ours − reference only where the reference is comparable; flagged beyond the tolerance', () => {
    const c10 = view.cells[1];
    expect(c10[0]!.delta).toBeCloseTo(90 - 91.3, 9);
    expect(c10[0]!.flagged).toBe(true); // −1.3 beyond ±1
    expect(c10[1]!.delta).toBeCloseTo(92.5 - 91.3, 9);
    expect(c10[1]!.flagged).toBe(true);
    const food = view.cells[0];
    expect(food[0]!.reference!.value).toBe(84.4);
    expect(food[0]!.delta).toBeNull(); // not comparable: shown, never subtracted
    expect(food[1]!.reference).toBeNull();
    expect(view.cells[2][1]).toBeNull(); // no run of the fp16 model on DTD
    expect(view.scale).toBe(2); // the largest |Δ| is 1.3
  });

  it('colours only the comparable cells, by the sign of Δ; the legend states the scale in points', () => {
    const html = matrixHtml(view, [{ mean: 70, datasets: ['cifar10', 'dtd', 'food101'] }, { mean: 87.25, datasets: ['cifar10', 'food101'] }], { hasReference: true }).join('\n');
    const tds = html.match(/<td class="num cell[^>]*>/g)!;
    expect(tds).toHaveLength(5);
    const coloured = tds.filter((t) => t.includes('background'));
    expect(coloured).toHaveLength(2);
    expect(coloured[0]).toContain(`background: ${deltaColour(90 - 91.3, 2)}`);
    expect(coloured[1]).toContain(`background: ${deltaColour(92.5 - 91.3, 2)}`);
    expect(html).toContain('ref 84.4 ≠<span class="note-mark" title="other split">*</span>');
    expect(html).toContain('Δ −1.3 ⚠');
    expect(html).toContain('Δ +1.2 ⚠');
    expect(html).toContain('<span class="scale-end">−2</span>');
    expect(html).toContain('<span class="scale-end">+2</span>');
    expect(html).toContain('full colour at ±2 points and beyond');
    expect(html).toContain('<abbr title="food101">Food</abbr> Food-101');
    expect(html).toContain('ViT-B-32__<br>openai');
    expect(html).not.toMatch(/\d-\d|>-\d|Δ -/); // one minus sign: U+2212
  });

  it('paperReferences: the paper numbers as comparable references with their source, unverified ones noted', () => {
    const refTable = { model: 'ViT-B/32', tolerance: 1, cells: [[{ ours: 90, paper: 91.3, verified: true, delta: -1.3, flagged: true }, null, { ours: 80, paper: null, verified: null, delta: null, flagged: false }], [null, null, null]] };
    const refs = paperReferences(table, refTable);
    expect(refs[0][0]).toEqual({ value: 91.3, source: 'paper Table 11, ViT-B/32', comparable: true });
    expect(refs[0][2]).toBeNull();
    const unverified = paperReferences(table, { ...refTable, cells: [[{ ...refTable.cells[0][0]!, verified: false }, null, null], [null, null, null]] });
    expect(unverified[0][0]!.note).toMatch(/^unverified/);
  });
});

describe('the 10 × 27 fixture DB', () => {
  const dbFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'clip-bench-matrix-')), 'results.sqlite');
  const datasets = loadSuite('paper-zero-shot').datasets.map((e) => e.dataset);
  const cells = writeMatrixDb(dbFile, { missing: [`${MATRIX_MODELS[9]}/kinetics700`] });

  it('holds one finished run per model and dataset but the one left out, under the run names', () => {
    expect(MATRIX_MODELS).toHaveLength(10);
    expect(datasets).toHaveLength(27);
    for (const m of MATRIX_MODELS) expect(m).toMatch(/^[\w-]+__[\w]+$/); // Immich's ARCH__pretrained-tag
    const db = openDb(dbFile, { readonly: true });
    const runs = listRuns(db);
    expect(runs).toHaveLength(10 * 27 - 1);
    expect(new Set(runs.map((r) => r.modelName))).toEqual(new Set(MATRIX_MODELS));
    expect(runs.every((r) => r.status === 'finished' && r.modelFingerprint === matrixFingerprint(r.modelName))).toBe(true);
    // each stored top-1 recounted from the stored predictions, and equal to what the builder meant
    for (const r of runs) {
      const rows = [...iteratePredictions(db, r.id)];
      const right = rows.filter((p) => p.top5![0] === p.label).length;
      const meant = cells.find((c) => c.runId === r.id)!;
      expect(rows).toHaveLength(30);
      expect(right).toBe(meant.correct);
      expect(r.top1).toBeCloseTo(right / rows.length, 12);
    }
    db.close();
  });

  it('the report: every cell coloured beside the paper, the same cells in CSV as in HTML', () => {
    const db = openDb(dbFile, { readonly: true });
    const d = collectReport(db, { reference: MATRIX_PAPER_MODEL, details: false });
    db.close();
    const html = reportHtml(d);
    const tds = html.match(/<td class="num cell[^"]*"[^>]*>/g)!;
    expect(tds).toHaveLength(269);
    // ViT-B/32 has a paper number for each of the 27 datasets: every cell has a Δ
    expect(datasets.every((ds) => paperCell(ds, MATRIX_PAPER_MODEL) !== null)).toBe(true);
    expect(tds.filter((t) => t.includes('data-delta'))).toHaveLength(269);
    const csvLines = reportCsv(d).trim().split('\n\n')[0].split('\n');
    expect(csvLines).toHaveLength(1 + 269);
    // a top-1 cell's Δ from the builder's own count: 100 · correct / n − the paper's
    const c = cells.find((x) => x.model === 'RN50__openai' && x.dataset === 'cifar10')!;
    const td = tds.find((t) => t.includes('RN50__openai on cifar10'))!;
    expect(Number(td.match(/data-delta="([^"]+)"/)![1])).toBeCloseTo((100 * c.correct) / c.n - paperCell('cifar10', MATRIX_PAPER_MODEL)!.value, 9);
  });
});

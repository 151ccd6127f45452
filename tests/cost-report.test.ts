/**
 * Accuracy beside cost in the report: which cost records are used (one machine and provider), the groups
 * and their accuracies, the Pareto flags worked out by hand, and the section in md, csv, json and html.
 */
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCostSection } from '../src/report/cost-section.js';
import { collectReport, reportCsv, reportJson, reportMarkdown } from '../src/report/report-data.js';
import { reportHtml } from '../src/report/html.js';
import { putCost, listCosts, type CostRecord } from '../src/store/cost.js';
import { openDb } from '../src/store/db.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { createRun, finishRun } from '../src/store/runs.js';
import { runIdentity } from './support/run-identity.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-cost-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fp = (c: string) => c.repeat(64);
const cost = (over: Partial<CostRecord>): CostRecord => ({
  fingerprint: fp('a'),
  variant: 'fp32',
  executionProvider: 'cpu',
  machine: 'box',
  modelName: 'm',
  measuredAt: '2026-12-01T00:00:00Z',
  batchSize: 32,
  imagesPerSecond: 10,
  latencyMs: 10,
  promptsPerSecond: 100,
  peakRssMiB: 500,
  sizeBytes: 1000,
  parameters: 1_500_000,
  imageFlops: 4.4e9,
  textFlops: null,
  flopsNote: null,
  settings: {},
  ...over,
});

/**
 * Models A, B, C, D with top-1 on two ImageFolder roots (x, y); D has no cost record on machine "box".
 * Latency: A 10 ms, B 20, C 40; memory: A 900 MiB, B 400, C 600.
 *   x: A 50, B 60, C 55 → latency front A, B (C slower and worse than B); memory front B only (B cheapest and best)
 *   y: A 70, B 65, C 80 → latency front A, C (B slower and worse than A); memory front B, C (A dearest)
 *   mean: A 60, B 62.5, C 67.5 → latency front A, B, C; memory front B, C
 */
function fixtureDb(): string {
  const file = path.join(tmp, `r${Math.random().toString(36).slice(2)}.sqlite`);
  const db = openDb(file);
  const acc: Record<string, [number, number]> = { A: [0.5, 0.7], B: [0.6, 0.65], C: [0.55, 0.8], D: [0.9, 0.9] };
  for (const [name, values] of Object.entries(acc)) {
    ['x', 'y'].forEach((root, i) => {
      const id = createRun(db, runIdentity({ modelName: name, modelFingerprint: fp(name.toLowerCase()), datasetRoot: `/data/${root}`, identity: `${name}${root}` }));
      finishRun(db, id, { n: 100, nFailed: 0, top1: values[i], top5: null, metrics: {}, timings: {} });
    });
  }
  putCost(db, cost({ fingerprint: fp('a'), modelName: 'A', latencyMs: 10, peakRssMiB: 900 }));
  putCost(db, cost({ fingerprint: fp('b'), modelName: 'B', latencyMs: 20, peakRssMiB: 400, imageFlops: null }));
  putCost(db, cost({ fingerprint: fp('c'), modelName: 'C', latencyMs: 40, peakRssMiB: 600 }));
  // another machine: fewer records, so not the one shown; its D must not appear as measured
  putCost(db, cost({ fingerprint: fp('d'), modelName: 'D', machine: 'laptop', latencyMs: 1, peakRssMiB: 1 }));
  db.close();
  return file;
}

describe('the accuracy-and-cost section', () => {
  const file = fixtureDb();
  const db = openDb(file, { readonly: true });
  const d = collectReport(db, { details: false });
  db.close();

  it('uses the machine with most records, places only its models, and marks the fronts worked out by hand', () => {
    const s = d.cost!;
    expect(s).toMatchObject({ machine: 'box', executionProvider: 'cpu', unmeasured: [expect.stringMatching(/^D/)] });
    const view = s.groups.map((g) => ({
      group: g.group,
      points: g.points.map((p) => [p.model.slice(0, 1), Math.round(p.accuracy * 100) / 100, p.paretoLatency, p.paretoMemory]),
    }));
    expect(view).toEqual([
      { group: 'mean', points: [['A', 60, true, false], ['B', 62.5, true, true], ['C', 67.5, true, true]] },
      { group: expect.stringContaining('x'), points: [['A', 50, true, false], ['B', 60, true, true], ['C', 55, false, false]] },
      { group: expect.stringContaining('y'), points: [['A', 70, true, false], ['B', 65, false, true], ['C', 80, true, true]] },
    ]);
    expect(s.groups[0].datasets).toHaveLength(2);
  });

  it('no cost record for any model: no section; a DB from before the table (schema v5, read-only): none either', () => {
    expect(buildCostSection(d.table, [])).toBeNull();
    const old = path.join(tmp, 'old.sqlite');
    const h = openDb(old);
    h.exec('DROP TABLE model_costs');
    h.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    h.close();
    const r = openDb(old, { readonly: true });
    expect(listCosts(r)).toEqual([]);
    r.close();
  });

  it('Markdown: a table per group with the Pareto column; unknown FLOPs say so', () => {
    const md = reportMarkdown(d);
    expect(md).toContain('### Accuracy and cost');
    expect(md).toContain('| model | accuracy % | latency ms | peak RSS MiB | images/s | parameters M | GFLOP/image | Pareto |');
    expect(md).toMatch(/\| B [^|]*\| 62\.50 \| 20\.0 \| 400 \| 10\.0 \| 1\.50 \| unknown \| ★ latency, memory \|/);
    expect(md).toMatch(/\| A [^|]*\| 60\.00 \| 10\.0 \| 900 \| 10\.0 \| 1\.50 \| 4\.40 \| ★ latency \|/);
    expect(md).toMatch(/No cost measured on this machine for: D/);
  });

  it('CSV: one row per model and group, with both Pareto flags; JSON: the section as data', () => {
    const csv = reportCsv(d).split('\n');
    const head = csv.indexOf('group,model,variant,fingerprint,accuracy,latency_ms,peak_rss_mib,images_per_second,parameters,image_flops,pareto_latency,pareto_memory,machine,execution_provider');
    expect(head).toBeGreaterThan(0);
    const rows = csv.slice(head + 1).filter(Boolean);
    expect(rows).toHaveLength(9);
    expect(rows[0].split(',')).toEqual(['mean', expect.stringMatching(/^A/), 'fp32', fp('a'), '60.0000', '10.000', '900.0', '10.000', '1500000', '4400000000', 'true', 'false', 'box', 'cpu']);
    const json = JSON.parse(reportJson(d));
    expect(json.cost.groups[1].points[2]).toMatchObject({ paretoLatency: false, paretoMemory: false, latencyMs: 40, peakRssMiB: 600 });
  });

  it('HTML: per group two labelled scatters with a legend, filled points exactly on the front', () => {
    const html = reportHtml(d);
    expect(html).toContain('<section id="cost">');
    expect((html.match(/data-plot="cost-latency"/g) ?? []).length).toBe(3);
    expect((html.match(/data-plot="cost-memory"/g) ?? []).length).toBe(3);
    const svgs = html.split('data-plot="cost-').slice(1);
    for (const s of svgs) {
      expect(s).toContain('accuracy (%)');
      expect(s).toMatch(/latency per image at batch 1 \(ms\)|peak RSS of an eval \(MiB\)/);
      expect(s).toContain('Pareto front</text>');
      expect(s).toContain('dominated</text>');
    }
    // group x, latency: A and B on the front, C not
    const xLatency = svgs[2].split('</figure>')[0];
    expect(xLatency).toMatch(/A[^<]*: 50\.00% at 10\.0 ms \(Pareto front\)/);
    expect(xLatency).toMatch(/C[^<]*: 55\.00% at 40\.0 ms<\/title>/);
    expect((xLatency.match(/<circle[^>]*fill="#3b6fb6"/g) ?? []).length).toBe(2 + 1); // two front points and the legend's
  });
});

describe('cost plots per suite group', () => {
  it('one group per suite group some measured model ran whole, its accuracy the mean of the group\'s headline metrics', async () => {
    const { writeMatrixDb } = await import('../src/fixtures/matrix-db.js');
    const { costGroups } = await import('../src/report/report-data.js');
    const { loadSuite } = await import('../src/eval/suite.js');
    const file = path.join(tmp, 'groups.sqlite');
    // two models: the second lacks KITTI, so it has no VTAB structured or all-27 point
    writeMatrixDb(file, { models: ['ViT-B-32__openai', 'RN50__openai'], missing: ['RN50__openai/kitti'] });
    const db = openDb(file, { readonly: true });
    try {
      const d = collectReport(db, { details: false });
      const suite = loadSuite('paper-zero-shot');
      const s = d.cost!;
      expect(s.groups.filter((g) => g.group !== 'mean').map((g) => g.group)).toEqual(suite.groups!.map((g) => g.name));
      // and the mean over the 26 datasets both models ran, which is no suite group's set
      expect(s.groups.find((g) => g.group === 'mean')!.datasets).toHaveLength(26);
      expect(s.groups.length).toBeLessThan(d.table.columns.length); // not one plot per dataset
      for (const g of suite.groups!) {
        const got = s.groups.find((x) => x.group === g.name);
        for (const [i, row] of d.table.rows.entries()) {
          const cells = g.datasets.map((ds) => row.cells[d.table.columnDatasets.indexOf(ds)]);
          const point = got?.points.find((p) => p.model === row.model);
          if (cells.some((c) => !c)) {
            expect(point, `${row.model} lacks a dataset of ${g.name}`).toBeUndefined();
            continue;
          }
          const mean = cells.reduce((a, c) => a + 100 * c!.headlineValue!, 0) / cells.length;
          expect(point!.accuracy, `${g.name}, row ${i}`).toBeCloseTo(mean, 9);
        }
      }
      expect(s.groups.find((g) => g.group === suite.groups!.find((x) => x.id === 'vtab-structured')!.name)!.points.map((p) => p.model)).toEqual(['ViT-B-32__openai']);
      // every group's dataset set is a suite's: costGroups lists each set once
      const sets = costGroups([suite]).map((g) => [...g.datasets].sort().join(','));
      expect(new Set(sets).size).toBe(sets.length);
    } finally {
      db.close();
    }
  });
});

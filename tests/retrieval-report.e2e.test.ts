/**
 * Retrieval in `report`, `eval --reference` and `compare`, through the built `clip-bench` executable (needs
 * `npm run build`), on the random-weight CLIP fixture with an fp16 variant.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDemo } from '../src/fixtures/demo.js';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { packageRoot } from '../src/paths.js';
import { openDb } from '../src/store/db.js';
import { retrievalOracle } from './support/retrieval-oracle.js';
import { flickrImages, writeImages, writeKarpathy } from './support/retrieval-writers.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
let tmp: string;
let model: string;
let root: string;
let db: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The paper's cells for a model on a dataset, read from the data file itself: metric → [value, verified]. */
function paperFile(model: string, dataset: string): Record<string, [number, boolean]> {
  const raw = JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'paper', 'retrieval.json'), 'utf8'));
  const entry = raw.datasets[dataset].results[model];
  const out: Record<string, [number, boolean]> = {};
  for (const [k, v] of Object.entries(entry.cells ?? entry)) if (Array.isArray(v)) out[k] = v as [number, boolean];
  return out;
}

/** A run's stored metric values, straight from the runs table. */
function storedMetrics(file: string, runId: number): Record<string, number> {
  const d = openDb(file, { readonly: true });
  const m = JSON.parse(d.prepare('SELECT metrics FROM runs WHERE id = ?').pluck().get(runId) as string);
  d.close();
  return Object.fromEntries(Object.entries(m as Record<string, { value?: unknown }>).filter(([, v]) => typeof v?.value === 'number').map(([k, v]) => [k, v.value as number]));
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-retrieval-report-'));
  const images = flickrImages([...Array<string>(11).fill('test'), 'val'], [5, 5, 6, 5, 7, 5, 5, 5, 5, 5, 5, 5]);
  root = path.join(tmp, 'flickr30k');
  writeKarpathy(root, 'flickr30k', images);
  await writeImages(root, 'flickr30k-images', images);
  model = path.join(tmp, 'tiny');
  await writeClipArch(model, 'tiny', images.flatMap((im) => im.captions), { layout: 'hf-split', fp16Variant: true });
  db = path.join(tmp, 'runs.sqlite');
  for (const variant of ['fp32', 'fp16']) {
    const r = cli(['eval', '--model', model, '--dataset', 'flickr30k', '--root', root, '--db', db, '--quiet', '--variant', variant]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
}, 120_000);

describe('report on retrieval runs', () => {
  it('--format json: a section per run whose numbers are the run\'s stored metrics, equal to brute force on its embeddings', () => {
    const r = cli(['report', '--db', db, '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.retrieval.map((s: { runId: number }) => s.runId)).toEqual([1, 2]);
    const d = openDb(db, { readonly: true });
    for (const s of out.retrieval) {
      expect(s).toMatchObject({ task: 'retrieval', dataset: 'flickr30k', split: 'test', n_images: 11, n_captions: 58, n_failed_images: 0, reference: null });
      const stored = storedMetrics(db, s.runId);
      expect(s.metrics).toEqual(stored);
      for (const row of s.rows) expect(row.value, row.metric).toBe(stored[row.metric]);
      const o = retrievalOracle(d, s.runId, [1, 5, 10]);
      for (const [k, v] of Object.entries(o.values)) expect(s.metrics[k], k).toBeCloseTo(v, 12);
    }
    d.close();
    expect(out.retrieval[1].model).toMatch(/ fp16 /);
  });

  it('--format md: the section replaces the old one-line note; recalls in percent from the stored fractions', () => {
    const r = cli(['report', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('not in this classification table');
    expect(r.stdout).toContain('### Retrieval');
    const m = storedMetrics(db, 1);
    expect(r.stdout).toContain('#### Retrieval: flickr30k (flickr30k) / test');
    expect(r.stdout).toContain(`| image→text | R@5 | ${(100 * m['text_retrieval_recall@5']).toFixed(2)} |`);
    expect(r.stdout).toContain(`| text→image | R@10 | ${(100 * m['image_retrieval_recall@10']).toFixed(2)} |`);
    expect(r.stdout).toContain(`| text→image | mean rank | ${m['image_retrieval_mean_rank'].toFixed(2)} |`);
  });

  it('--reference ViT-L/14@336px puts Table 13 beside ours with its unverified marks (md, json, csv)', () => {
    const paper = paperFile('ViT-L/14@336px', 'flickr30k');
    expect(Object.keys(paper)).toHaveLength(6);
    const m = storedMetrics(db, 1);
    const md = cli(['report', '--db', db, '--reference', 'ViT-L/14@336px']).stdout;
    const p1 = paper['text_retrieval_recall@1'];
    expect(md).toContain(`| image→text | R@1 | ${(100 * m['text_retrieval_recall@1']).toFixed(2)} | ${p1[0].toFixed(1)}${p1[1] ? '' : '*'} |`);
    expect(md).toContain('* unverified paper cell');
    const json = JSON.parse(cli(['report', '--db', db, '--format', 'json', '--reference', 'ViT-L/14@336px']).stdout);
    const withPaper = json.retrieval[0].rows.filter((x: { paper?: number }) => x.paper !== undefined);
    expect(withPaper.map((x: { metric: string }) => x.metric).sort()).toEqual(Object.keys(paper).sort());
    for (const x of withPaper) {
      expect(x.paper).toBe(paper[x.metric][0]);
      expect(x.paper_verified).toBe(paper[x.metric][1]);
      expect(x.delta_points).toBeCloseTo(100 * m[x.metric] - paper[x.metric][0], 6);
    }
    const csv = cli(['report', '--db', db, '--format', 'csv', '--reference', 'ViT-L/14@336px']).stdout.trim().split('\n');
    expect(csv[0]).toBe('model,dataset,root,split,run_id,n_images,n_captions,n_failed_images,direction,metric,value,paper_model,paper,paper_verified,delta_points,beyond_tolerance');
    const line = csv.find((l) => l.includes(',1,11,58,0,image→text,text_retrieval_recall@1,'))!;
    expect(line.split(',').slice(10, 14)).toEqual([String(m['text_retrieval_recall@1']), 'ViT-L/14@336px', String(p1[0]), String(p1[1])]);
  });

  it('the HTML page has the section, one file without script', () => {
    const out = path.join(tmp, 'report.html');
    expect(cli(['report', '--db', db, '--format', 'html', '--out', out, '--reference', 'ViT-L/14@336px']).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<section id="retrieval">');
    expect(html.match(/<section class="retrieval"/g)).toHaveLength(2);
    expect(html).toContain('unverified</span>');
    expect(html).not.toMatch(/<script/i);
  });
});

describe('eval --reference on a retrieval dataset', () => {
  it('--json carries the six recalls beside Table 13, each delta ours − paper', () => {
    const r = cli(['eval', '--model', model, '--dataset', 'flickr30k', '--root', root, '--db', path.join(tmp, 'ref.sqlite'), '--quiet', '--json', '--reference', 'ViT-L/14@336px']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const paper = paperFile('ViT-L/14@336px', 'flickr30k');
    expect(out.reference.cells.map((c: { metric: string }) => c.metric).sort()).toEqual(Object.keys(paper).sort());
    for (const c of out.reference.cells) {
      expect(c.ours).toBeCloseTo(100 * out.metrics[c.metric], 9);
      expect([c.paper, c.paper_verified]).toEqual(paper[c.metric]);
      expect(c.delta_points).toBeCloseTo(c.ours - c.paper, 6);
    }
    expect(out.reference.notes.join(' ')).toMatch(/not like for like/);
  });

  it('text: the paper beside ours with the unverified mark; a model without a Table 13 row says so in one line; a typo is refused before the run', () => {
    const dbFile = path.join(tmp, 'ref-text.sqlite');
    const args = ['eval', '--model', model, '--dataset', 'flickr30k', '--root', root, '--db', dbFile, '--quiet'];
    const r = cli([...args, '--reference', 'ViT-L/14@336px']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('paper ViT-L/14@336px (Table 13), ours vs paper:');
    expect(r.stdout).toMatch(/\n {2}image→text {2}R@1 {3}ours +\d+\.\d\d% {3}paper +88\.0%\* {3}Δ −\d+\.\d\d points/);
    const none = cli([...args, '--reference', 'ViT-B/32']);
    expect(none.code).toBe(0);
    expect(none.stdout.trim().split('\n').at(-1)).toBe("  The paper's Table 13 has no ViT-B/32 number for flickr30k.");
    const typo = cli([...args.map((x) => (x === dbFile ? path.join(tmp, 'never.sqlite') : x)), '--reference', 'ViT-L/14@337px']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown paper model "ViT-L\/14@337px"\. Did you mean "ViT-L\/14@336px"\?/);
    expect(existsSync(path.join(tmp, 'never.sqlite'))).toBe(false);
  });
});

describe('compare on retrieval runs', () => {
  it('a run with itself: every difference 0, p = 1, no flips, all queries paired', () => {
    const c = JSON.parse(cli(['compare', '--runs', '1,1', '--db', db, '--format', 'json']).stdout);
    expect(c.task).toBe('retrieval');
    expect(c.differences).toHaveLength(6);
    for (const d of c.differences) {
      expect([d.diff, d.low, d.high, d.p, d.lost, d.gained]).toEqual([0, 0, 0, 1, 0, 0]);
      expect(d.paired).toBe(d.direction === 'text→image' ? 58 : 11);
    }
  });

  it('fp32 against fp16, named by variant: each side\'s recall is that run\'s stored metric, flips counted from the stored ranks', () => {
    const r = cli(['compare', '--runs', '1,2', '--db', db, '--format', 'json']);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout);
    expect([c.a.label, c.b.label]).toEqual(['fp32', 'fp16']);
    const [ma, mb] = [storedMetrics(db, 1), storedMetrics(db, 2)];
    const ranks = (run: number) => {
      const rows = cli(['predictions', '--run', String(run), '--db', db]).stdout.trim().split('\n').map((l) => JSON.parse(l));
      return { text: rows.filter((x) => x.query === 'text').map((x) => x.rank as number), image: rows.filter((x) => x.query === 'image').map((x) => x.rank as number) };
    };
    const [ra, rb] = [ranks(1), ranks(2)];
    for (const d of c.differences) {
      expect(d.recallA).toBeCloseTo(ma[d.metric], 12);
      expect(d.recallB).toBeCloseTo(mb[d.metric], 12);
      const [qa, qb] = d.direction === 'text→image' ? [ra.text, rb.text] : [ra.image, rb.image];
      expect(d.lost).toBe(qa.filter((x, i) => x <= d.k && qb[i] > d.k).length);
      expect(d.gained).toBe(qa.filter((x, i) => x > d.k && qb[i] <= d.k).length);
    }
    const text = cli(['compare', '--runs', '1,2', '--db', db]).stdout;
    expect(text.split('\n')[0]).toBe('fp16 (run 2) vs fp32 (run 1): 11 image→text and 58 text→image paired queries');
    expect(text).toMatch(/text→image R@1: .*; fp16 (matches fp32 on|gains|loses) /);
  });

  it('--models NAME,NAME:fp16 --dataset flickr30k pairs the same two runs as --runs 1,2; html is one page without script', () => {
    const runs = JSON.parse(cli(['compare', '--runs', '1,2', '--db', db, '--format', 'json']).stdout);
    const models = JSON.parse(cli(['compare', '--models', 'tiny,tiny:fp16', '--dataset', 'flickr30k', '--db', db, '--format', 'json']).stdout);
    expect(models).toEqual(runs);
    const out = path.join(tmp, 'compare.html');
    expect(cli(['compare', '--runs', '1,2', '--db', db, '--format', 'html', '--out', out]).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('flickr30k retrieval: fp16 (run 2) vs fp32 (run 1)');
    expect(html.match(/<tr><td>(image→text|text→image)<\/td>/g)).toHaveLength(6);
    expect(html).not.toMatch(/<script/i);
  });

  it('a retrieval run against a classification run is refused in one line, exit 2', async () => {
    const mixed = path.join(tmp, 'mixed.sqlite');
    expect(cli(['eval', '--model', model, '--dataset', 'flickr30k', '--root', root, '--db', mixed, '--quiet']).code).toBe(0);
    const demo = await writeDemo(path.join(tmp, 'demo'), 1);
    expect(cli(['eval', '--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--db', mixed, '--quiet']).code).toBe(0);
    const r = cli(['compare', '--runs', '2,1', '--db', mixed]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/run 1 is a retrieval run \(flickr30k\) and run 2 a classification run \(imagefolder\)/);
    // the report keeps the classification table and adds the retrieval section
    const report = cli(['report', '--db', mixed]).stdout;
    expect(report).toMatch(/\| toy-clip \([0-9a-f]{8}\) \| 100\.00 \/ 100\.00 \(n=8\) \|/);
    expect(report).toContain('#### Retrieval: flickr30k');
    const csv = cli(['report', '--db', mixed, '--format', 'csv']).stdout;
    expect(csv.split('\n\n')).toHaveLength(2);
    expect(csv.split('\n\n')[1].split('\n')[0]).toMatch(/^model,dataset,root,split,run_id,n_images,n_captions/);
  });
});

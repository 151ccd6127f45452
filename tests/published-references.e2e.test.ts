/**
 * `--reference-file` end to end: the toy CLIP in a folder named like Immich's (`ViT-B-32__openai`) runs a suite of
 * a small CIFAR-10 and a colour ImageFolder standing for VOC2007; the suite and the report put open_clip's
 * published row beside it, matched by the folder's name. Each Δ is checked against our stored number minus the
 * CSV's × 100, computed here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { fixtureTexts, writeToyClip } from '../src/fixtures/fixture-models.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { cifarImages, cifarPythonBatch, cifarPythonMeta, write } from './support/array-dataset-writers.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');

// open_clip docs/openclip_results.csv's header (commit 89fb801), column for column
const HEADER =
  'name,pretrained,params (M),FLOPs (B),Average perf. on 38 datasets,ImageNet 1k,Caltech-101,CIFAR-10,CIFAR-100,CLEVR Counts,CLEVR Distance,Country211,Describable Textures,EuroSAT,FGVC Aircraft,Food-101,GTSRB,ImageNet Sketch,ImageNet v2,ImageNet-A,ImageNet-O,ImageNet-R,KITTI Vehicle Distance,MNIST,ObjectNet,Oxford Flowers-102,Oxford-IIIT Pet,Pascal VOC 2007,PatchCamelyon,Rendered SST2,RESISC45,Stanford Cars,STL-10,SUN397,SVHN,Flickr,MSCOCO,WinoGAViL,iWildCam,Camelyon17,FMoW,Dollar Street,GeoDE'.split(',');
const row = (name: string, tag: string, cifar10: string, voc: string) => HEADER.map((c, j) => (j === 0 ? name : j === 1 ? tag : c === 'CIFAR-10' ? cifar10 : c === 'Pascal VOC 2007' ? voc : '0.5000')).join(',');
const CIFAR10_FRACTION = 0.1234;
const LAION_CIFAR10_FRACTION = 0.937;

interface CellJson {
  dataset: string;
  ours: number;
  metric: string;
  delta: number | null;
  why: string | null;
  published: { value: number | null; source: string; protocol: string; note: string | null; comparable: boolean };
}
interface SectionJson {
  fileName: string;
  fixedKey: string | null;
  rows: { model: string; key: string | null; missing: string | null; cells: CellJson[] }[];
}

describe('--reference-file end to end (suite and report)', () => {
  let dir: string;
  let model: string;
  let dataRoot: string;
  let suiteFile: string;
  let csv: string;
  let otherCsv: string;
  let db: string;

  function cli(args: string[]) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-published-e2e-'));
    // the toy CLIP's tokenizer must cover CIFAR-10's prompts too (they embed alike: the toy only sees colour words)
    const cifar = loadPromptSet('cifar10');
    const cifarTexts = Object.values(cifar.classes!).flatMap((names) => [names].flat().flatMap((n) => cifar.templates.map((t) => t.replaceAll('{c}', n))));
    model = path.join(dir, 'models', 'ViT-B-32__openai');
    await writeToyClip(model, [...fixtureTexts(loadPromptSet('colours').templates), ...cifarTexts]);
    dataRoot = path.join(dir, 'data');
    const batches = path.join(dataRoot, 'cifar10', 'cifar-10-batches-py');
    write(batches, 'test_batch', cifarPythonBatch(cifarImages(20, 10, 7), false, 'py2'));
    write(batches, 'batches.meta', cifarPythonMeta(Object.values(cifar.classes!).map((n) => [n].flat()[0]), false, 'py2'));
    await writeColourDataset(path.join(dataRoot, 'colours'), { perClass: 1, seed: 2021 });
    suiteFile = path.join(dir, 'suite.json');
    writeFileSync(
      suiteFile,
      JSON.stringify({ datasets: [{ dataset: 'cifar10', dirs: ['cifar10'] }, { dataset: 'imagefolder', dirs: ['colours'], prompts: 'colours', paper: 'voc2007', name: 'colours-as-voc' }] }),
    );
    mkdirSync(path.join(dir, 'refs'));
    csv = path.join(dir, 'refs', 'openclip_results.csv');
    writeFileSync(csv, [HEADER.join(','), row('ViT-B-32', 'laion2b_s34b_b79k', String(LAION_CIFAR10_FRACTION), '0.7905'), row('ViT-B-32', 'openai', String(CIFAR10_FRACTION), '0.7640')].join('\n') + '\n');
    otherCsv = path.join(dir, 'refs', 'laion-only.csv');
    writeFileSync(otherCsv, [HEADER.join(','), row('ViT-B-32', 'laion2b_s34b_b79k', String(LAION_CIFAR10_FRACTION), '0.7905')].join('\n') + '\n');
    db = path.join(dir, 'r.sqlite');
  });

  it('suite: matches the folder ViT-B-32__openai to its row; Δ = ours − CSV × 100 where comparable, the VOC2007 cell shown but not subtracted', () => {
    const r = cli(['suite', '--model', model, '--suite', suiteFile, '--data-root', dataRoot, '--reference-file', csv, '--db', db, '--workers', '1', '--quiet', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { rows: { name: string; ours: number }[]; published: SectionJson };
    const s = out.published;
    expect(s.fileName).toBe('openclip_results.csv');
    expect(s.rows).toHaveLength(1);
    expect(s.rows[0]).toMatchObject({ model: 'ViT-B-32__openai', key: 'ViT-B-32/openai', missing: null });
    const [cifar, voc] = s.rows[0].cells;
    const oursCifar = out.rows.find((x) => x.name === 'cifar10')!.ours;
    expect(cifar).toMatchObject({ dataset: 'cifar10', metric: 'top1', why: null });
    expect(cifar.published.value).toBeCloseTo(CIFAR10_FRACTION * 100, 10);
    expect(cifar.delta).toBeCloseTo(oursCifar - CIFAR10_FRACTION * 100, 8);
    expect(cifar.published.source).toBe('openclip_results.csv, row ViT-B-32/openai, column CIFAR-10');
    expect(voc).toMatchObject({ dataset: 'voc2007', delta: null, why: 'not comparable' });
    expect(voc.published.value).toBeCloseTo(76.4, 10);
    expect(voc.published.note).toMatch(/box crops/);

    const text = cli(['suite', '--model', model, '--suite', suiteFile, '--data-root', dataRoot, '--reference-file', csv, '--db', db, '--workers', '1', '--quiet']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('### Against published results: openclip_results.csv, each model\'s own row');
    expect(text.stdout).toContain('| ViT-B-32__openai | colours-as-voc | top1 | 100.00 | 76.40 | not subtracted: not comparable | openclip_results.csv, row ViT-B-32/openai, column Pascal VOC 2007 | not the same task: their Pascal VOC 2007 is single-label accuracy on 14,976 box crops');
  });

  it('suite --models-dir: each model beside its own row; a model whose name names no row says so', async () => {
    const cifar = loadPromptSet('cifar10');
    const cifarTexts = Object.values(cifar.classes!).flatMap((names) => [names].flat().flatMap((n) => cifar.templates.map((t) => t.replaceAll('{c}', n))));
    const models = path.join(dir, 'models');
    await writeToyClip(path.join(models, 'my-export'), [...fixtureTexts(loadPromptSet('colours').templates), ...cifarTexts], { seed: 5 });
    const manyDb = path.join(dir, 'many.sqlite');
    const r = cli(['suite', '--models-dir', models, '--suite', suiteFile, '--data-root', dataRoot, '--reference-file', csv, '--db', manyDb, '--workers', '1', '--quiet', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { models: { model: string; table: { rows: { name: string; ours: number }[] } }[]; published: SectionJson };
    expect(out.models.map((m) => m.model).sort()).toEqual(['ViT-B-32__openai', 'my-export']);
    const ours = out.models.find((m) => m.model === 'ViT-B-32__openai')!.table.rows.find((x) => x.name === 'cifar10')!.ours;
    const openai = out.published.rows.find((x) => x.model === 'ViT-B-32__openai')!;
    expect(openai.key).toBe('ViT-B-32/openai');
    expect(openai.cells.find((c) => c.dataset === 'cifar10')!.delta).toBeCloseTo(ours - CIFAR10_FRACTION * 100, 8);
    const mine = out.published.rows.find((x) => x.model === 'my-export')!;
    expect([mine.key, mine.cells.length]).toEqual([null, 0]);
    expect(mine.missing).toContain('"my-export" is not ARCH__pretrained-tag');
    rmSync(path.join(models, 'my-export'), { recursive: true, force: true });
  }, 240_000);

  it('report: every format carries the published value, Δ, source and note; Δ = our stored cell − CSV × 100', () => {
    const r = cli(['report', '--db', db, '--format', 'json', '--reference-file', csv]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { columns: string[]; rows: { cells: ({ headlineValue: number | null } | null)[] }[]; published: SectionJson };
    const ours = 100 * out.rows[0].cells[out.columns.indexOf('cifar10')]!.headlineValue!;
    const cell = out.published.rows[0].cells.find((c) => c.dataset === 'cifar10')!;
    expect(cell.ours).toBeCloseTo(ours, 10);
    expect(cell.delta).toBeCloseTo(ours - CIFAR10_FRACTION * 100, 8);
    expect(out.published.rows[0].cells.map((c) => c.dataset)).toEqual(['cifar10']); // the ImageFolder column is not a mapped dataset in the report

    const md = cli(['report', '--db', db, '--reference-file', csv]);
    const sign = ours - 12.34 >= 0 ? '+' : '−';
    expect(md.stdout).toContain(`| cifar10 | top1 | ${ours.toFixed(2)} | 12.34 | ${sign}${Math.abs(ours - 12.34).toFixed(2)} | openclip_results.csv, row ViT-B-32/openai, column CIFAR-10 |`);
    const csvOut = cli(['report', '--db', db, '--format', 'csv', '--reference-file', csv]).stdout;
    expect(csvOut).toContain('model,published_row,dataset,metric,ours,published,delta_points,comparable,not_subtracted_because,source,protocol,note');
    expect(csvOut).toMatch(/\nViT-B-32__openai,ViT-B-32\/openai,cifar10,top1,[\d.]+,12\.34,-?[\d.e-]+,true,,"openclip_results\.csv, row ViT-B-32\/openai, column CIFAR-10",/);
    const html = path.join(dir, 'report.html');
    expect(cli(['report', '--db', db, '--format', 'html', '--out', html, '--reference-file', csv]).code).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<section id="published">');
    expect(page).toContain(`<td class="num">12.34</td><td class="num">${sign}${Math.abs(ours - 12.34).toFixed(2)}</td><td><code>openclip_results.csv, row ViT-B-32/openai, column CIFAR-10</code></td>`);
    // the matrix colours its Δ from the model's own published row: the cifar10 cell's Δ is ours − the CSV's, the
    // not-comparable VOC stand-in is shown and left uncoloured
    const deltas = [...page.matchAll(/data-delta="(-?[\d.e-]+)"/g)].map((m) => Number(m[1]));
    expect(deltas.some((x) => Math.abs(x - (ours - CIFAR10_FRACTION * 100)) < 1e-6)).toBe(true);
  });

  it('a model without a row says so; --reference openclip:KEY compares every model with that row', () => {
    expect(cli(['report', '--db', db, '--reference-file', otherCsv]).stdout).toContain('- ViT-B-32__openai (');
    expect(cli(['report', '--db', db, '--reference-file', otherCsv]).stdout).toMatch(/- ViT-B-32__openai \([0-9a-f]{8}\): no row ViT-B-32\/openai in laion-only\.csv/);
    const r = cli(['report', '--db', db, '--format', 'json', '--reference-file', otherCsv, '--reference', 'openclip:ViT-B-32/laion2b_s34b_b79k']);
    expect(r.code).toBe(0);
    const s = (JSON.parse(r.stdout) as { published: SectionJson }).published;
    expect(s.fixedKey).toBe('ViT-B-32/laion2b_s34b_b79k');
    expect(s.rows[0].cells[0].published.value).toBeCloseTo(LAION_CIFAR10_FRACTION * 100, 10);
  });

  it('eval: one result beside its row, --json carries the same section', () => {
    const r = cli(['eval', '--model', model, '--dataset', 'cifar10', '--root', path.join(dataRoot, 'cifar10'), '--reference-file', csv, '--db', db, '--workers', '1', '--quiet', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { top1: number; published: SectionJson };
    const cell = out.published.rows[0].cells[0];
    expect(out.published.rows[0].key).toBe('ViT-B-32/openai');
    expect(cell.delta).toBeCloseTo(100 * out.top1 - CIFAR10_FRACTION * 100, 8);
  });

  it('the paper form of --reference still works beside it', () => {
    const r = cli(['report', '--db', db, '--reference', 'ViT-B/32', '--reference-file', csv]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('### Against the paper: ViT-B/32 (Table 11)');
    expect(r.stdout).toContain('### Against published results: openclip_results.csv');
  });

  it.each<[string, string[], RegExp]>([
    ['openclip: without a file', ['--reference', 'openclip:ViT-B-32/openai'], /names a row of a published result table, and no table was given — pass --reference-file with/],
    ['an unknown row', ['--reference', 'openclip:ViT-B-32/opena', '--reference-file', 'CSV'], /openclip_results\.csv: unknown published row "ViT-B-32\/opena"\. Did you mean "ViT-B-32\/openai"\?/],
    ['a file that is not a published table', ['--reference-file', 'SUITE'], /suite\.json: not a published result table: its header is/],
  ])('report and suite refuse %s with one line and exit code 2', (_what, args, message) => {
    const a = args.map((x) => (x === 'CSV' ? csv : x === 'SUITE' ? suiteFile : x));
    for (const cmd of [['report', '--db', db], ['suite', '--model', model, '--suite', suiteFile, '--data-root', dataRoot, '--db', db]]) {
      const r = cli([...cmd, ...a]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

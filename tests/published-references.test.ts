/**
 * Published references: the readers against small hand-written tables in each file's exact header format
 * (open_clip commit 89fb801 docs/*.csv, CLIP_benchmark commit 48de38c benchmark/benchmark.csv), the mapping
 * table's data against our adapters, the lookup, and the one-line errors.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASETS, getDataset } from '../src/datasets/index.js';
import { isRetrievalDataset } from '../src/datasets/retrieval/index.js';
import { METRIC_IDS } from '../src/eval/metric-ids.js';
import { RETRIEVAL_HEADLINE } from '../src/eval/retrieval-metrics.js';
import {
  notSubtractedReason,
  publishedCell,
  publishedDelta,
  publishedLookup,
  publishedMappings,
  publishedReferenceFromFlags,
  publishedRowFor,
  type PublishedReference,
} from '../src/references/published-reference.js';
import { parsePublishedTable } from '../src/references/published-table.js';
import { publishedSection, publishedSectionCsv, publishedSectionMarkdown, publishedSectionRow } from '../src/report/published-section.js';
import { usageFailureSync as failureOf } from './support/usage-failure.js';

// The wide files' headers, column for column as published.
const RESULTS_DATASETS =
  'ImageNet 1k,Caltech-101,CIFAR-10,CIFAR-100,CLEVR Counts,CLEVR Distance,Country211,Describable Textures,EuroSAT,FGVC Aircraft,Food-101,GTSRB,ImageNet Sketch,ImageNet v2,ImageNet-A,ImageNet-O,ImageNet-R,KITTI Vehicle Distance,MNIST,ObjectNet,Oxford Flowers-102,Oxford-IIIT Pet,Pascal VOC 2007,PatchCamelyon,Rendered SST2,RESISC45,Stanford Cars,STL-10,SUN397,SVHN,Flickr,MSCOCO,WinoGAViL,iWildCam,Camelyon17,FMoW,Dollar Street,GeoDE'.split(',');
const RESULTS_HEADER = ['name', 'pretrained', 'params (M)', 'FLOPs (B)', 'Average perf. on 38 datasets', ...RESULTS_DATASETS];
const CLASSIFICATION_HEADER = ['name', 'pretrained', 'params (M)', 'FLOPs (B)', 'Average perf. on 35 datasets', ...RESULTS_DATASETS.filter((d) => !['Flickr', 'MSCOCO', 'WinoGAViL'].includes(d))];
const RETRIEVAL_HEADER =
  'name,pretrained,params (M),FLOPs (B),Average score,Flickr image retr. R@1,Flickr image retr. R@5,Flickr image retr. R@10,Flickr text retr. R@1,Flickr text retr. R@5,Flickr text retr. R@10,MSCOCO image retr. R@1,MSCOCO image retr. R@5,MSCOCO image retr. R@10,MSCOCO text retr. R@1,MSCOCO text retr. R@5,MSCOCO text retr. R@10,WinoGAViL avg jaccard score,WinoGAViL jaccard score 10,WinoGAViL jaccard score 10-12,WinoGAViL jaccard score 12,WinoGAViL jaccard score 5,WinoGAViL jaccard score 5-6,WinoGAViL jaccard score 6'.split(',');
const BENCHMARK_HEADER = 'acc1,acc5,mean_per_class_recall,dataset,model,pretrained,task,mean_average_precision,image_retrieval_recall@5,text_retrieval_recall@5,model_fullname';

/** A wide row: the given columns' values, every other dataset column a distinct fraction so no value is shared by accident. */
function wideRow(header: readonly string[], name: string, tag: string, values: Record<string, string>, seed: number): string {
  return header
    .map((c, j) => (j === 0 ? name : j === 1 ? tag : c in values ? values[c] : c === 'params (M)' ? '151.28' : c === 'FLOPs (B)' ? '14.78' : ((seed * 37 + j * 11) % 1000 / 1000).toFixed(4)))
    .join(',');
}

const table = (file: string, lines: readonly string[]) => parsePublishedTable(lines.join('\n') + '\n', file);
const ref = (t: ReturnType<typeof table>, fixedKey: string | null = null): PublishedReference => ({ table: t, fixedKey });

describe('open_clip openclip_results.csv', () => {
  const t = table('openclip_results.csv', [
    RESULTS_HEADER.join(','),
    wideRow(RESULTS_HEADER, 'ViT-B-32', 'laion2b_s34b_b79k', { 'CIFAR-10': '0.9370', 'Pascal VOC 2007': '0.7905', 'Oxford-IIIT Pet': '0.9072', Flickr: '0.7863' }, 1),
    wideRow(RESULTS_HEADER, 'ViT-B-32', 'openai', { 'CIFAR-10': '0.8983', 'Pascal VOC 2007': '0.7640', 'Oxford-IIIT Pet': '0.8700', Flickr: '0.6884' }, 2),
    wideRow(RESULTS_HEADER, 'ViT-B-32-quickgelu', 'openai', { 'CIFAR-10': '0.8983' }, 3),
  ]);

  it('is told by its header and keys rows by ARCH/tag, several tags per architecture apart', () => {
    expect(t.kind).toBe('openclip');
    expect([...t.rows.keys()]).toEqual(['ViT-B-32/laion2b_s34b_b79k', 'ViT-B-32/openai', 'ViT-B-32-quickgelu/openai']);
    expect(t.rows.get('ViT-B-32/openai')!.values.get('CIFAR-10')).toBe(0.8983);
    expect(t.rows.get('ViT-B-32/laion2b_s34b_b79k')!.values.get('CIFAR-10')).toBe(0.937);
  });

  it('keeps dataset columns only: not params, FLOPs or the average', () => {
    const v = t.rows.get('ViT-B-32/openai')!.values;
    expect([...v.keys()]).toEqual(RESULTS_DATASETS);
  });

  it('converts a fraction to percent (× 100) with the column and row as its source', () => {
    const c = publishedCell(ref(t), t.rows.get('ViT-B-32/openai')!, 'cifar10')!;
    expect(c.value).toBeCloseTo(89.83, 10);
    expect(c).toMatchObject({ metric: 'top1', comparable: true, their: 'CIFAR-10', source: 'openclip_results.csv, row ViT-B-32/openai, column CIFAR-10' });
    expect(c.protocol).toMatch(/DataComp/);
    expect(publishedDelta(91.25, 'top1', c)).toBeCloseTo(91.25 - 89.83, 9);
  });

  it('maps the per-class-recall datasets to our mean-per-class-recall and retrieval to mean_recall@1', () => {
    const row = t.rows.get('ViT-B-32/openai')!;
    expect(publishedCell(ref(t), row, 'oxford-pets')).toMatchObject({ value: 87, metric: 'mean-per-class-recall', comparable: true });
    expect(publishedCell(ref(t), row, 'flickr30k')!.value).toBeCloseTo(68.84, 10);
    expect(publishedCell(ref(t), row, 'flickr30k')!.metric).toBe(RETRIEVAL_HEADLINE);
  });

  it('shows Pascal VOC 2007 (box-crop accuracy) with its note and never subtracts it', () => {
    const c = publishedCell(ref(t), t.rows.get('ViT-B-32/openai')!, 'voc2007')!;
    expect(c.value).toBeCloseTo(76.4, 10);
    expect(c.comparable).toBe(false);
    expect(c.note).toMatch(/box crops/);
    expect(publishedDelta(83.1, 'map-11pt', c)).toBeNull();
    expect(publishedDelta(76.4, 'top1', c)).toBeNull(); // not even with a matching metric name
    expect(notSubtractedReason(c, 'map-11pt')).toBe('not comparable');
  });

  it('has nothing for a dataset none of its columns maps to', () => {
    expect(publishedCell(ref(t), t.rows.get('ViT-B-32/openai')!, 'birdsnap')).toBeNull();
  });

  it('openclip_classification_results.csv (35 datasets) is the same kind', () => {
    const c = table('openclip_classification_results.csv', [CLASSIFICATION_HEADER.join(','), wideRow(CLASSIFICATION_HEADER, 'RN50', 'openai', { MNIST: '0.5829' }, 4)]);
    expect(c.kind).toBe('openclip');
    expect(publishedCell(ref(c), c.rows.get('RN50/openai')!, 'mnist')!.value).toBeCloseTo(58.29, 10);
    expect(publishedCell(ref(c), c.rows.get('RN50/openai')!, 'flickr30k')!.value).toBeNull(); // mapped, but this file has no Flickr column
  });
});

describe('open_clip openclip_retrieval_results.csv', () => {
  const t = table('openclip_retrieval_results.csv', [
    RETRIEVAL_HEADER.join(','),
    wideRow(RETRIEVAL_HEADER, 'ViT-B-16', 'openai', { 'Flickr image retr. R@1': '0.6216', 'Flickr text retr. R@1': '0.8220', 'MSCOCO image retr. R@1': '0.3310', 'MSCOCO text retr. R@1': '0.5240' }, 5),
  ]);

  it('is its own kind; a retrieval headline is the mean of the image and text R@1 columns', () => {
    expect(t.kind).toBe('openclip-retrieval');
    const row = t.rows.get('ViT-B-16/openai')!;
    const flickr = publishedCell(ref(t), row, 'flickr30k')!;
    expect(flickr.value).toBeCloseTo((100 * (0.6216 + 0.822)) / 2, 10);
    expect(flickr.source).toBe('openclip_retrieval_results.csv, row ViT-B-16/openai, columns Flickr image retr. R@1 and Flickr text retr. R@1');
    expect(publishedCell(ref(t), row, 'mscoco')!.value).toBeCloseTo((100 * (0.331 + 0.524)) / 2, 10);
  });
});

describe("CLIP_benchmark's benchmark.csv (long format)", () => {
  const t = table('benchmark.csv', [
    BENCHMARK_HEADER,
    '0.8732624693376942,0.9926410466067048,0.8695864391489154,vtab/pets,ViT-B-32,openai,zeroshot_classification,,,,ViT-B-32 openai',
    '0.409445528002229,0.9413485650599052,0.3587300457745208,fer2013,ViT-B-32,openai,zeroshot_classification,,,,ViT-B-32 openai',
    ',,,voc2007_multilabel,ViT-B-32,openai,zeroshot_classification,0.7601363658905029,,,ViT-B-32 openai',
    '0.8982,0.9963,0.8995000000000001,vtab/cifar10,ViT-B-32,openai,zeroshot_classification,,,,ViT-B-32 openai',
    ',,,flickr30k,ViT-B-32,openai,zeroshot_retrieval,,0.8338000178337097,0.9490000009536744,ViT-B-32 openai',
    '0.9,0.99,0.91,vtab/pets,ViT-B-32,laion2b_s34b_b79k,zeroshot_classification,,,,ViT-B-32 laion2b_s34b_b79k',
  ]);
  const row = t.rows.get('ViT-B-32/openai')!;

  it('is told by its header; one row per model and pretrained tag collects every dataset line', () => {
    expect(t.kind).toBe('clip_benchmark');
    expect([...t.rows.keys()]).toEqual(['ViT-B-32/openai', 'ViT-B-32/laion2b_s34b_b79k']);
    expect(row.values.get('vtab/pets|mean_per_class_recall')).toBe(0.8695864391489154);
  });

  it('takes the mapped metric column: mean per-class recall for pets, in percent', () => {
    const c = publishedCell(ref(t), row, 'oxford-pets')!;
    expect(c.value).toBeCloseTo(86.95864391489154, 10);
    expect(c.source).toBe('benchmark.csv, row ViT-B-32/openai, dataset vtab/pets, mean_per_class_recall');
    expect(publishedCell(ref(t), t.rows.get('ViT-B-32/laion2b_s34b_b79k')!, 'oxford-pets')!.value).toBeCloseTo(91, 10);
  });

  it('finds cifar10 under vtab/cifar10 when the row has no plain cifar10 line', () => {
    expect(publishedCell(ref(t), row, 'cifar10')).toMatchObject({ their: 'vtab/cifar10', comparable: true });
    expect(publishedCell(ref(t), row, 'cifar10')!.value).toBeCloseTo(89.82, 10);
  });

  it('FER2013 (PublicTest + PrivateTest) and multilabel VOC (non-interpolated AP) are shown, never subtracted', () => {
    const fer = publishedCell(ref(t), row, 'fer2013')!;
    expect(fer.value).toBeCloseTo(40.9445528002229, 10);
    expect(fer.note).toMatch(/PublicTest \+ PrivateTest/);
    expect(publishedDelta(47.3, 'top1', fer)).toBeNull();
    const voc = publishedCell(ref(t), row, 'voc2007')!;
    expect(voc).toMatchObject({ their: 'voc2007_multilabel', comparable: false });
    expect(publishedDelta(83.1, 'map-11pt', voc)).toBeNull();
  });

  it('retrieval: recall@5 only, which stands for none of our headlines', () => {
    const c = publishedCell(ref(t), row, 'flickr30k')!;
    expect(c.value).toBeCloseTo((100 * (0.8338000178337097 + 0.9490000009536744)) / 2, 10);
    expect(c.metric).toBeNull();
    expect(publishedDelta(80, RETRIEVAL_HEADLINE, c)).toBeNull();
  });
});

describe('the mapping table (configs/references/published-datasets.json)', () => {
  const entries = Object.entries(publishedMappings()).flatMap(([kind, m]) => m.datasets.map((d) => ({ kind, ...d })));
  const ourMetric = (id: string) => (isRetrievalDataset(id) ? RETRIEVAL_HEADLINE : (getDataset(id).metric ?? 'top1'));

  it.each(entries)('$kind $name → $dataset: a known dataset and metric; comparable ones on our headline, others with a note', (e) => {
    expect(Object.hasOwn(DATASETS, e.dataset) || isRetrievalDataset(e.dataset)).toBe(true);
    if (e.metric !== null) expect(METRIC_IDS).toContain(e.metric);
    if (e.comparable) expect(e.metric).toBe(ourMetric(e.dataset));
    else expect(e.note).toMatch(/^(other split|not the same task|not the same metric): ./);
  });

  it('marks the cases the issue names as not comparable in every kind that has them', () => {
    const notComparable = (kind: string, dataset: string) => entries.filter((e) => e.kind === kind && e.dataset === dataset).every((e) => !e.comparable);
    for (const d of ['voc2007', 'eurosat', 'resisc45', 'sun397']) {
      expect(notComparable('openclip', d)).toBe(true);
      expect(notComparable('clip_benchmark', d)).toBe(true);
    }
    expect(notComparable('clip_benchmark', 'fer2013')).toBe(true);
  });

  it.each(entries.filter((e) => !e.comparable))('$kind $name is never subtracted, whatever the metric', (e) => {
    const cell = { value: 50, metric: e.metric, their: e.name, source: 's', protocol: 'p', note: e.note, comparable: e.comparable };
    for (const m of METRIC_IDS) expect(publishedDelta(60, m, cell)).toBeNull();
  });
});

describe('matching models to rows', () => {
  const t = table('openclip_results.csv', [RESULTS_HEADER.join(','), wideRow(RESULTS_HEADER, 'ViT-B-32', 'openai', { 'CIFAR-10': '0.8983' }, 2), wideRow(RESULTS_HEADER, 'ViT-B-32', 'laion2b_s34b_b79k', { 'CIFAR-10': '0.9370' }, 1)]);

  it('by the Immich folder name, ARCH__tag', () => {
    expect(publishedRowFor(ref(t), 'ViT-B-32__openai')).toMatchObject({ key: 'ViT-B-32/openai', reason: null });
    expect(publishedRowFor(ref(t), 'ViT-L-14__openai')).toEqual({ key: 'ViT-L-14/openai', row: null, reason: 'no row ViT-L-14/openai in openclip_results.csv' });
    expect(publishedRowFor(ref(t), 'my-export').reason).toMatch(/the name "my-export" is not ARCH__pretrained-tag, so it names no row of openclip_results\.csv/);
  });

  it('a fixed row (--reference openclip:KEY) stands for every model', () => {
    expect(publishedRowFor(ref(t, 'ViT-B-32/laion2b_s34b_b79k'), 'ViT-B-32__openai').key).toBe('ViT-B-32/laion2b_s34b_b79k');
    expect(publishedRowFor(ref(t, 'ViT-B-32/laion2b_s34b_b79k'), 'my-export').key).toBe('ViT-B-32/laion2b_s34b_b79k');
  });

  it('the lookup per (model, dataset) the matrix can colour from', () => {
    const lookup = publishedLookup(ref(t));
    expect(lookup('ViT-B-32__laion2b_s34b_b79k', 'cifar10')!.value).toBeCloseTo(93.7, 10);
    expect(lookup('ViT-L-14__openai', 'cifar10')).toBeNull();
    expect(lookup('ViT-B-32__openai', 'birdsnap')).toBeNull();
  });

  it('the section says which model has no row, and renders Δ with one minus sign', () => {
    const r = ref(t);
    const s = publishedSection(r, [
      publishedSectionRow(r, 'ViT-B-32__openai', 'ViT-B-32__openai', [{ label: 'cifar10', dataset: 'cifar10', ours: 88.5, metric: 'top1' }]),
      publishedSectionRow(r, 'ViT-L-14__openai', 'ViT-L-14__openai', [{ label: 'cifar10', dataset: 'cifar10', ours: 95, metric: 'top1' }]),
    ]);
    const md = publishedSectionMarkdown(s).join('\n');
    expect(md).toContain('- ViT-L-14__openai: no row ViT-L-14/openai in openclip_results.csv');
    expect(md).toContain(`| ViT-B-32__openai | cifar10 | top1 | 88.50 | 89.83 | −${(89.83 - 88.5).toFixed(2)} | openclip_results.csv, row ViT-B-32/openai, column CIFAR-10 |  |`);
    const csv = publishedSectionCsv(s).trim().split('\n');
    expect(csv).toHaveLength(2);
    expect(csv[1].split(',').slice(0, 8)).toEqual(['ViT-B-32__openai', 'ViT-B-32/openai', 'cifar10', 'top1', '88.5', String(89.83), String(Math.round((88.5 - 89.83) * 1e9) / 1e9), 'true']);
  });
});

describe('bad input: one line naming the file and the fix', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-published-'));
  const file = (name: string, text: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const good = file('openclip_results.csv', [RESULTS_HEADER.join(','), wideRow(RESULTS_HEADER, 'ViT-B-32', 'laion2b_s34b_b79k', {}, 1), wideRow(RESULTS_HEADER, 'ViT-B-32', 'openai', {}, 2)].join('\n') + '\n');

  it.each<[string, string, RegExp]>([
    ['a header with neither format', 'model,top1\nViT-B-32,0.6\n', /not a published result table: its header is "model,top1", expected open_clip's "name,pretrained,…,ImageNet 1k,…".*CLIP_benchmark's "acc1,…,dataset,model,pretrained,task,…".* — pass one of those files as downloaded/],
    ['name,pretrained without a dataset column', 'name,pretrained,params (M)\nViT-B-32,openai,151.28\n', /not a published result table/],
    ['the long format without a metric column', 'dataset,model,pretrained,task\ncars,ViT-B-32,openai,zeroshot_classification\n', /not a published result table/],
    ['a value already in percent', `${RESULTS_HEADER.join(',')}\n${wideRow(RESULTS_HEADER, 'ViT-B-32', 'openai', { 'CIFAR-10': '89.83' }, 2)}\n`, /line 2, column CIFAR-10 is 89\.83, not a fraction in 0–1 as these files publish them — pass the file as downloaded, not a copy converted to percent/],
    ['a short line', `${RESULTS_HEADER.join(',')}\nViT-B-32,openai,0.5\n`, /line 2 has 3 fields, the header 43/],
    ['a dataset twice for one row', `${BENCHMARK_HEADER}\n0.5,0.9,0.5,cars,ViT-B-32,openai,zeroshot_classification,,,,x\n0.6,0.9,0.5,cars,ViT-B-32,openai,zeroshot_classification,,,,x\n`, /line 3: ViT-B-32\/openai has cars acc1 a second time/],
  ])('%s', (_what, text, message) => {
    const f = file('bad.csv', text);
    const line = failureOf(() => publishedReferenceFromFlags(undefined, f));
    expect(line).toMatch(message);
    expect(line.startsWith(`${f}: `)).toBe(true);
  });

  it('a missing file', () => {
    expect(failureOf(() => publishedReferenceFromFlags(undefined, path.join(dir, 'nope.csv')))).toMatch(/nope\.csv: cannot read the reference file: ENOENT — pass --reference-file with/);
  });

  it('an unknown row key, with "did you mean"', () => {
    const line = failureOf(() => publishedReferenceFromFlags('openclip:ViT-B-32/laion2b_s34b_b79', good));
    expect(line).toMatch(new RegExp(`^${good.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: unknown published row "ViT-B-32/laion2b_s34b_b79"\\. Did you mean "ViT-B-32/laion2b_s34b_b79k"\\?`));
    expect(line).toContain('known published rows: ViT-B-32/laion2b_s34b_b79k, ViT-B-32/openai');
  });

  it('openclip: without --reference-file says which file to pass', () => {
    expect(failureOf(() => publishedReferenceFromFlags('openclip:ViT-B-32/openai', undefined))).toMatch(
      /--reference openclip:ViT-B-32\/openai names a row of a published result table, and no table was given — pass --reference-file with open_clip's docs\/openclip_results\.csv/,
    );
  });

  it('the paper form with no file is not a published reference', () => {
    expect(publishedReferenceFromFlags('ViT-B/32', undefined)).toBeNull();
    expect(publishedReferenceFromFlags(undefined, good)).toMatchObject({ fixedKey: null });
    expect(publishedReferenceFromFlags('openclip:ViT-B-32/openai', good)).toMatchObject({ fixedKey: 'ViT-B-32/openai' });
  });
});

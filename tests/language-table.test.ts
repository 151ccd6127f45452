/**
 * The language × model tables against a brute-force oracle over stored runs: a seeded random DB of retrieval
 * and classification runs (several models, languages, datasets; duplicates whole and partial; unfinished runs,
 * unranked shards and runs without a language that must stay out). The oracle picks each cell from the raw
 * rows by its own rule, written here from the definition: finished, with a language and a headline value;
 * of several, a whole split before a part, then more samples, then the latest run. Every format is read back.
 */
import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../src/store/db.js';
import { createRun, finishRun, listRuns, markRun } from '../src/store/runs.js';
import { buildLanguageTables, LANGUAGE_CSV_HEADER, languageTablesCsv, languageTablesHtml, languageTablesMarkdown, type LanguageTable } from '../src/report/language-table.js';
import { collectReport, reportCsv, reportJson, reportMarkdown } from '../src/report/report-data.js';
import { reportHtml } from '../src/report/html.js';
import { runIdentity } from './support/run-identity.js';

/** mulberry32: a seeded generator, so the DB is the same on every run */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Raw {
  id: number;
  task: 'retrieval' | 'classification';
  dataset: string;
  split: string;
  model: string;
  fingerprint: string;
  variant: string;
  language: string | undefined;
  finished: boolean;
  /** the headline value stored, or undefined (an unranked shard) */
  value: number | undefined;
  n: number;
  limit: number | null;
  splitSize: number;
  shard: string | null;
}

const MODELS = [
  { model: 'm-clip', fingerprint: 'a'.repeat(64), variant: 'fp32' },
  { model: 'siglip', fingerprint: 'b'.repeat(64), variant: 'fp32' },
  { model: 'siglip', fingerprint: 'b'.repeat(64), variant: 'fp16' },
  { model: 'nllb', fingerprint: 'c'.repeat(64), variant: 'fp32' },
];
const SETS = [
  { task: 'retrieval' as const, dataset: 'xtd10', split: 'test', languages: ['de', 'en', 'jp', 'zh'] },
  { task: 'retrieval' as const, dataset: 'crossmodal3600', split: 'test', languages: ['fil', 'en', 'sw'] },
  { task: 'classification' as const, dataset: 'imagenet', split: 'val', languages: ['it', 'jp', 'en'] },
];

function seedDb(db: Db, seed: number): Raw[] {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const raws: Raw[] = [];
  for (let i = 0; i < 60; i++) {
    const set = pick(SETS);
    const m = pick(MODELS);
    const language = r() < 0.1 ? undefined : pick(set.languages);
    const finished = r() > 0.1;
    const shard = r() < 0.1 ? '0/2' : null;
    const splitSize = 50;
    const limit = r() < 0.2 ? 10 + Math.floor(r() * 30) : null;
    const n = shard ? 25 : (limit ?? splitSize) - (r() < 0.2 ? 1 : 0);
    const unranked = set.task === 'retrieval' && shard !== null;
    const value = unranked ? undefined : Math.round(r() * 1e6) / 1e6;
    const headline = set.task === 'retrieval' ? 'mean_recall@1' : 'top1';
    const id = createRun(
      db,
      runIdentity({
        task: set.task,
        modelName: m.model,
        modelFingerprint: m.fingerprint,
        modelVariant: m.variant,
        dataset: set.dataset,
        split: set.split,
        shard,
        params: { headline, limit, splitSize, ...(language === undefined ? {} : { language }) },
      }),
    );
    if (finished) {
      const metrics = value === undefined ? { headline, ranked: false } : set.task === 'retrieval' ? { headline, 'mean_recall@1': { value }, 'image_retrieval_recall@1': { value }, 'text_retrieval_recall@1': { value } } : {};
      finishRun(db, id, { n, nFailed: 0, top1: set.task === 'classification' ? value! : null, top5: null, metrics, timings: {} });
    } else markRun(db, id, 'interrupted');
    raws.push({ id, task: set.task, dataset: set.dataset, split: set.split, ...m, language, finished, value, n, limit, splitSize, shard });
  }
  return raws;
}

/** The oracle: per (dataset, split, task) and (model, variant) and language, the run the definition picks. */
function oracle(raws: readonly Raw[]) {
  const eligible = raws.filter((x) => x.finished && x.language !== undefined && x.value !== undefined);
  const partial = (x: Raw) => x.shard !== null || (x.limit !== null && x.limit < x.splitSize);
  const better = (a: Raw, b: Raw) => (partial(a) !== partial(b) ? !partial(a) : a.n !== b.n ? a.n > b.n : a.id > b.id);
  const cells = new Map<string, Raw>();
  for (const x of eligible) {
    const key = [x.dataset, x.split, x.task, `${x.model}${x.variant === 'fp32' ? '' : ` ${x.variant}`} (${x.fingerprint.slice(0, 8)})`, x.language].join('|');
    const prev = cells.get(key);
    if (!prev || better(x, prev)) cells.set(key, x);
  }
  const languages = (dataset: string) => [...new Set(eligible.filter((x) => x.dataset === dataset).map((x) => x.language!))].sort();
  return { cells, eligible, languages, partial };
}

const cellOf = (t: LanguageTable, model: string, language: string) => t.rows.find((r) => r.model === model)?.cells[t.languages.indexOf(language)] ?? null;

describe('language × model tables', () => {
  for (const seed of [1, 2, 3]) {
    it(`equal the oracle cell for cell over a random DB (seed ${seed}), missing cells null`, () => {
      const db = openDb(':memory:');
      const raws = seedDb(db, seed);
      const tables = buildLanguageTables(listRuns(db));
      const o = oracle(raws);
      expect(tables.map((t) => t.dataset)).toEqual([...new Set(o.eligible.map((x) => x.dataset))].sort());
      let seen = 0;
      for (const t of tables) {
        expect(t.languages).toEqual(o.languages(t.dataset));
        expect(t.metric).toBe(t.task === 'retrieval' ? 'mean_recall@1' : 'top1');
        const models = [...new Set(o.eligible.filter((x) => x.dataset === t.dataset).map((x) => `${x.model}${x.variant === 'fp32' ? '' : ` ${x.variant}`} (${x.fingerprint.slice(0, 8)})`))].sort();
        expect(t.rows.map((r) => r.model)).toEqual(models);
        for (const model of models) {
          for (const language of t.languages) {
            const want = o.cells.get([t.dataset, t.split, t.task, model, language].join('|'));
            const got = cellOf(t, model, language);
            if (!want) expect(got).toBeNull();
            else {
              seen++;
              expect(got).toEqual({ runId: want.id, value: want.value, n: want.n, partial: o.partial(want) });
            }
          }
        }
        // every eligible run of the table is shown or listed as displaced, never both
        const shown = t.rows.flatMap((r) => r.cells.flatMap((c) => (c ? [c.runId] : [])));
        expect([...shown, ...t.notShown].sort((a, b) => a - b)).toEqual(o.eligible.filter((x) => x.dataset === t.dataset).map((x) => x.id));
      }
      expect(seen).toBe(o.cells.size);
      // the rule is exercised: some cells were contested, some shown cells are partial
      expect(tables.some((t) => t.notShown.length > 0)).toBe(true);
      expect(tables.some((t) => t.rows.some((r) => r.cells.some((c) => c?.partial)))).toBe(true);
    });
  }

  it('every format shows each cell as the oracle says: md and html "53.20 (n=50)" or "—", csv the stored fraction', () => {
    const db = openDb(':memory:');
    const raws = seedDb(db, 7);
    const o = oracle(raws);
    const tables = buildLanguageTables(listRuns(db));
    const text = (x: Raw | undefined) => (x ? `${(100 * x.value!).toFixed(2)} (n=${x.n}${o.partial(x) ? ', partial' : ''})` : '—');
    const md = languageTablesMarkdown(tables);
    const csv = languageTablesCsv(tables).trim().split('\n');
    expect(csv[0]).toBe(LANGUAGE_CSV_HEADER);
    const html = languageTablesHtml(tables, (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')).join('\n');
    let lines = 0;
    for (const t of tables) {
      const head = md.indexOf(`| model | ${t.languages.join(' | ')} |`, md.findIndex((l) => l.startsWith(`#### ${t.dataset} / ${t.split}:`)));
      expect(head).toBeGreaterThan(0);
      for (const [i, row] of t.rows.entries()) {
        const cells = md[head + 2 + i].split(' | ').map((s) => s.replace(/^\| |\s*\|$/g, ''));
        expect(cells[0]).toBe(row.model);
        const htmlRow = html.split('\n').find((l) => l.startsWith(`<tr><td>${row.model}</td>`) && html.indexOf(l) > html.indexOf(`data-dataset="${t.dataset}"`))!;
        t.languages.forEach((language, j) => {
          const want = o.cells.get([t.dataset, t.split, t.task, row.model, language].join('|'));
          expect(cells[1 + j]).toBe(text(want));
          expect(htmlRow).toContain(`>${text(want)}</td>`);
          const line = csv.find((l) => l.startsWith(`${t.dataset},${t.split},${t.task},${t.metric},${row.model},${language},`));
          expect(line).toBe([t.dataset, t.split, t.task, t.metric, row.model, language, want?.value ?? '', want?.n ?? '', want ? o.partial(want) : '', want?.id ?? ''].join(','));
          lines++;
        });
      }
    }
    expect(csv.length - 1).toBe(lines);
  });

  it('the report carries the tables in md, csv, json and html; a DB without language runs shows none', () => {
    const db = openDb(':memory:');
    seedDb(db, 11);
    const d = collectReport(db, { details: false });
    expect(d.languages).toEqual(buildLanguageTables(listRuns(db)));
    expect(reportMarkdown(d)).toContain('### Languages');
    expect(reportMarkdown(d)).toContain('#### xtd10 / test: mean_recall@1 (%) by caption language, n = images');
    expect(reportCsv(d)).toContain(`\n\n${LANGUAGE_CSV_HEADER}\n`);
    expect(JSON.parse(reportJson(d)).languages.map((t: LanguageTable) => t.dataset)).toEqual(d.languages.map((t) => t.dataset));
    expect(reportHtml(d)).toContain('<section id="languages"><h2>Languages</h2>');
    const plain = openDb(':memory:');
    const id = createRun(plain, runIdentity());
    finishRun(plain, id, { n: 3, nFailed: 0, top1: 0.5, top5: null, metrics: {}, timings: {} });
    const p = collectReport(plain, { details: false });
    expect(p.languages).toEqual([]);
    expect(reportMarkdown(p)).not.toContain('Languages');
    expect(reportCsv(p)).not.toContain(LANGUAGE_CSV_HEADER);
    expect(reportHtml(p)).not.toContain('id="languages"');
  });
});

/**
 * Prompt ablation: one model on one dataset scored with several prompt sets (the paper's 80-template
 * ensemble, its 7-template subset, one template, the bare class name, your own files). Pure: rows from
 * finished runs, deltas against the first set, and the table as text, Markdown or JSON.
 */
import type { MetricId } from '../eval/metric-ids.js';
import type { RunRecord } from '../store/runs.js';
import { headlineOf, runLanguage, signed } from './accuracy-table.js';

export interface AblationRow {
  runId: number;
  promptSet: string;
  /** the language of the names and templates (`--language`); null: the dataset's own */
  language: string | null;
  templates: number | null;
  promptHash: string;
  headline: MetricId;
  /** fractions */
  headlineValue: number | null;
  top1: number;
  top5: number | null;
  /** headline − the first row's headline, in points; 0 for the first row */
  delta: number | null;
  /** images encoded for this run (0 when every embedding came from the cache); absent when not known */
  imagesEncoded?: number;
  imagesCached?: number;
}

export interface Ablation {
  model: string;
  variant: string;
  fingerprint: string;
  dataset: string;
  split: string;
  n: number;
  rows: AblationRow[];
}

/** Rows in the given order; Δ is each row's headline minus the first row's, in points. */
export function ablationRows(runs: readonly RunRecord[], cache: readonly ({ imageHits: number; imageMisses: number } | undefined)[] = []): AblationRow[] {
  const first = runs.length ? headlineOf(runs[0]).value : null;
  return runs.map((r, i) => {
    const { headline, value } = headlineOf(r);
    const c = cache[i];
    return {
      runId: r.id,
      promptSet: r.promptSet,
      language: runLanguage(r),
      templates: typeof r.params.nTemplates === 'number' ? r.params.nTemplates : null,
      promptHash: r.promptHash,
      headline,
      headlineValue: value,
      top1: r.top1 ?? 0,
      top5: r.top5,
      delta: value !== null && first !== null ? 100 * (value - first) : null,
      ...(c ? { imagesEncoded: c.imageMisses, imagesCached: c.imageHits } : {}),
    };
  });
}

export function buildAblation(runs: readonly RunRecord[], cache?: readonly ({ imageHits: number; imageMisses: number } | undefined)[]): Ablation {
  if (runs.length === 0) throw new RangeError('buildAblation: no runs');
  const r = runs[0];
  return { model: r.modelName, variant: r.modelVariant, fingerprint: r.modelFingerprint, dataset: r.dataset, split: r.split, n: r.n ?? 0, rows: ablationRows(runs, cache) };
}

/**
 * Groups of finished runs that differ only in their prompts (same model, variant, dataset, root, split,
 * limit and failure policy), with at least two distinct prompt sets: the latest run per prompt hash, in
 * the order the prompt sets were first run.
 */
export function ablationGroups(runs: readonly RunRecord[]): Ablation[] {
  const groups = new Map<string, Map<string, RunRecord>>();
  for (const r of runs) {
    if (r.status !== 'finished' || r.top1 === null || r.shard !== null) continue;
    const key = JSON.stringify([r.modelFingerprint, r.modelVariant, r.dataset, r.datasetRoot, r.split, r.params.limit ?? null, r.params.excludeFailures ?? false]);
    const byPrompt = groups.get(key) ?? new Map<string, RunRecord>();
    const prev = byPrompt.get(r.promptHash);
    // a rerun replaces the earlier run's numbers; a Map keeps the key's first place in the order
    if (!prev || prev.id < r.id) byPrompt.set(r.promptHash, r);
    groups.set(key, byPrompt);
  }
  return [...groups.values()].filter((g) => g.size >= 2).map((g) => buildAblation([...g.values()]));
}

const pct = (x: number | null) => (x === null ? 'n/a' : (100 * x).toFixed(2));
const metricName = (a: Ablation) => (a.rows.every((r) => r.headline === a.rows[0]?.headline) ? a.rows[0]?.headline ?? 'top1' : 'headline');

function cells(a: Ablation): string[][] {
  const cached = a.rows.some((r) => r.imagesEncoded !== undefined);
  return a.rows.map((r, i) => [
    r.language ? `${r.promptSet} [${r.language}]` : r.promptSet,
    r.templates === null ? '?' : String(r.templates),
    r.promptHash.slice(0, 8),
    pct(r.headlineValue),
    pct(r.top1),
    pct(r.top5),
    i === 0 ? '–' : r.delta === null ? 'n/a' : signed(r.delta),
    ...(cached ? [r.imagesEncoded === undefined ? '?' : `${r.imagesEncoded} encoded, ${r.imagesCached} cached`] : []),
  ]);
}

function header(a: Ablation): string[] {
  const cached = a.rows.some((r) => r.imagesEncoded !== undefined);
  return ['prompt set', 'templates', 'hash', `headline: ${metricName(a)}`, 'top-1', 'top-5', `Δ vs ${a.rows[0]?.promptSet ?? 'first'}`, ...(cached ? ['images'] : [])];
}

export function ablationTitle(a: Ablation): string {
  return `Prompt ablation: ${a.model}${a.variant !== 'fp32' ? ` ${a.variant}` : ''} on ${a.dataset}/${a.split}, ${a.n} samples (%; Δ in points of ${metricName(a)})`;
}

/** Aligned plain text for the terminal. */
export function ablationText(a: Ablation): string {
  const rows = [header(a), ...cells(a)];
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((x, j) => (j === 0 ? x.padEnd(widths[j]) : x.padStart(widths[j]))).join('  ').trimEnd();
  return [ablationTitle(a), '', ...rows.map(line)].join('\n') + '\n';
}

export function ablationMarkdown(a: Ablation): string {
  const h = header(a);
  return [
    `${ablationTitle(a)}`,
    '',
    `| ${h.join(' | ')} |`,
    `|---|${h.slice(1).map(() => '---:').join('|')}|`,
    ...cells(a).map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
}

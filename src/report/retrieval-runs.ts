/**
 * The thin edge between the DB and the pure retrieval report pieces: a stored retrieval run → the section's
 * `RetrievalRunView` (retrieval-section.ts) and the compare's `RetrievalCompareSide` (retrieval-compare.ts).
 */
import path from 'node:path';
import { QUERY_STATUS } from '../eval/retrieval-metrics.js';
import type { Db } from '../store/db.js';
import { iterateQueries, readImages } from '../store/retrieval.js';
import { isRetrievalRun, listRuns, type RunRecord } from '../store/runs.js';
import { rowLabel } from './accuracy-table.js';
import { UsageError } from '../errors.js';
import { comparisonLabels, settingDifferences, type SettingDifference } from './compare.js';
import { compareRetrievalRuns, formatRetrievalComparison, type RetrievalCompareSide, type RetrievalComparison, type RetrievalQuerySet } from './retrieval-compare.js';
import { retrievalReference } from './retrieval-paper.js';
import type { RetrievalRunView } from './retrieval-section.js';

/** The run's metric values by name, from its stored metrics (`{ name: { value } }`). */
export function storedRetrievalMetrics(run: Pick<RunRecord, 'metrics'>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, m] of Object.entries(run.metrics ?? {})) {
    const value = (m as { value?: unknown } | null)?.value;
    if (typeof value === 'number') out[name] = value;
  }
  return out;
}

/** A finished retrieval run that was ranked (a shard run is only embedded until merged). */
export function isRankedRetrievalRun(r: RunRecord): boolean {
  return isRetrievalRun(r) && r.status === 'finished' && r.metrics?.ranked !== false && Object.keys(storedRetrievalMetrics(r)).length > 0;
}

export const retrievalModelLabel = (r: RunRecord) => rowLabel({ model: r.modelName, variant: r.modelVariant, fingerprint: r.modelFingerprint });

export function retrievalRunView(db: Db, run: RunRecord, opts: { reference?: string; tolerance?: number } = {}): RetrievalRunView {
  const images = readImages(db, run.id);
  const p = run.params;
  return {
    runId: run.id,
    model: retrievalModelLabel(run),
    dataset: run.dataset,
    rootLabel: path.basename(run.datasetRoot),
    split: run.split,
    nImages: typeof p.nImages === 'number' ? p.nImages : images.length,
    nCaptions: typeof p.nCaptions === 'number' ? p.nCaptions : Number(run.metrics?.n_captions ?? 0),
    failedImages: images.filter((im) => !im.embedding).map((im) => ({ key: im.key, reason: im.error ?? 'no embedding' })),
    failureRule: p.excludeFailures === true ? 'exclude' : 'miss',
    ...(typeof p.captionPrefix === 'string' ? { captionPrefix: p.captionPrefix } : {}),
    ...(typeof p.language === 'string' ? { language: p.language } : {}),
    metrics: storedRetrievalMetrics(run),
    ...(opts.reference ? { reference: retrievalReference(opts.reference, run.dataset, opts.tolerance ?? 1) } : {}),
  };
}

/** Every ranked retrieval run in the DB as a section view, in run order. */
export function retrievalRunViews(db: Db, opts: { reference?: string; tolerance?: number } = {}): RetrievalRunView[] {
  return listRuns(db).filter(isRankedRetrievalRun).map((r) => retrievalRunView(db, r, opts));
}

const STATUS = { scored: QUERY_STATUS.scored, failed: QUERY_STATUS.failed, excluded: QUERY_STATUS.excluded } as const;

/**
 * One run's stored query ranks as a compare side. Text queries are keyed by caption index and grouped by
 * their image's key (the bootstrap resamples images with all their captions); image queries by image key.
 */
export function retrievalCompareSide(db: Db, run: RunRecord, label: string): RetrievalCompareSide {
  const t = { keys: [] as string[], rank: [] as number[], status: [] as number[], group: [] as string[] };
  const i = { keys: [] as string[], rank: [] as number[], status: [] as number[] };
  for (const q of iterateQueries(db, run.id)) {
    const side = q.query === 'text' ? t : i;
    // a caption is its index, image and text: two runs pair only over the very same captions
    side.keys.push(q.query === 'text' ? `${q.idx}\u0000${q.key}\u0000${q.caption}` : q.key);
    side.rank.push(q.rank);
    side.status.push(STATUS[q.status]);
    if (q.query === 'text') t.group.push(q.key);
  }
  const textToImage: RetrievalQuerySet = t;
  const imageToText: RetrievalQuerySet = i;
  return { label, runId: run.id, textToImage, imageToText };
}

/** The cut-offs both runs stored (their ranks are full, but a comparison stays within what each run reported). */
function sharedRecallK(a: RunRecord, b: RunRecord): number[] | undefined {
  const ks = (r: RunRecord) => (Array.isArray(r.params.recallK) ? (r.params.recallK as number[]) : undefined);
  const [ka, kb] = [ks(a), ks(b)];
  if (!ka || !kb) return ka ?? kb;
  return ka.filter((k) => kb.includes(k));
}

/** A retrieval comparison as `compare` shows it: the runs' setting differences beside the statistics. */
export type StoredRetrievalComparison = RetrievalComparison & { task: 'retrieval'; dataset: string; settingDifferences: SettingDifference[] };

/**
 * Compares two stored retrieval runs (B against the baseline A) from their query ranks, named by what tells
 * them apart (`comparisonLabels`: "fp16" against "fp32"). Refuses a run that is not a ranked retrieval run.
 */
export function compareStoredRetrievalRuns(db: Db, a: RunRecord, b: RunRecord, opts: { seed?: number } = {}): StoredRetrievalComparison {
  for (const r of [a, b]) {
    if (!isRankedRetrievalRun(r)) {
      throw new UsageError(`run ${r.id} is ${r.status !== 'finished' ? r.status : 'a retrieval shard, not ranked'}, so it has no query ranks to compare`, { fix: r.status !== 'finished' ? 'finish it first (rerun its eval command)' : 'merge the shard DBs (`clip-bench merge`) and compare the merged runs' });
    }
  }
  const [la, lb] = comparisonLabels(a, b);
  const c = compareRetrievalRuns(retrievalCompareSide(db, a, la), retrievalCompareSide(db, b, lb), { recallK: sharedRecallK(a, b), seed: opts.seed });
  return { task: 'retrieval', dataset: a.dataset, ...c, settingDifferences: settingDifferences(a, b) };
}

/** The text output: the setting differences (if any), then `formatRetrievalComparison`. */
export function formatStoredRetrievalComparison(c: StoredRetrievalComparison): string {
  const diffs = c.settingDifferences.length ? [`Not the same setting: ${c.settingDifferences.map((d) => `${d.setting} ${d.b} (B) vs ${d.a} (A)`).join('; ')}.`] : [];
  return [...diffs, formatRetrievalComparison(c)].join('\n');
}

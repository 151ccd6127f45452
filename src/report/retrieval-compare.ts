/**
 * A paired comparison of two retrieval runs over the same queries: per direction and cut-off k, the R@k
 * difference (B − A) with a paired bootstrap interval and an exact McNemar test on the queries' hits at k,
 * and the report's sentence ("fp16 loses 0.40 points of text→image R@1 [0.10, 0.90], p = 0.012").
 * The statistics are stats.ts' (the classification compare's), applied to "hit at k" per query.
 */
import { UsageError } from '../errors.js';
import { DEFAULT_RECALL_K, QUERY_STATUS } from '../eval/retrieval-metrics.js';
import type { RetrievalDirection } from './retrieval-section.js';
import { clusteredPairedBootstrap, describeComparison, discordantCounts, mcnemarExact, pairedBootstrap } from './stats.js';

/** One direction's queries of one run. */
export interface RetrievalQuerySet {
  /** one key per query, unique: the caption's (text→image) or the image's (image→text); pairs the two runs */
  keys: readonly string[];
  /** 1-based rank of the first positive, per query */
  rank: ArrayLike<number>;
  /** `QUERY_STATUS` per query (failed: a miss at every k; excluded: not counted); omitted: every query scored */
  status?: ArrayLike<number>;
  /**
   * text→image: the key of each caption's image. Given (by either run), the bootstrap resamples images with
   * all their captions, since captions of one image are not independent; omitted, it resamples captions.
   */
  group?: readonly string[];
}

export interface RetrievalCompareSide {
  /** what the sentence calls the run: "fp16", "ViT-B-16", "run 7" */
  label: string;
  runId?: number;
  textToImage: RetrievalQuerySet;
  imageToText: RetrievalQuerySet;
}

export interface RetrievalDifference {
  direction: RetrievalDirection;
  k: number;
  /** retrieval-metrics.ts' name, e.g. `image_retrieval_recall@1` for text→image */
  metric: string;
  /** queries counted in both runs */
  paired: number;
  /** R@k of each run over the paired queries, fractions */
  recallA: number;
  recallB: number;
  /** recallB − recallA and its paired bootstrap interval, fractions */
  diff: number;
  low: number;
  high: number;
  /** exact McNemar p on the hits at k */
  p: number;
  /** queries A hits at k and B misses */
  lost: number;
  /** queries A misses at k and B hits */
  gained: number;
  sentence: string;
}

export interface RetrievalComparison {
  a: { label: string; runId?: number };
  b: { label: string; runId?: number };
  recallK: number[];
  /** image→text then text→image, each k ascending */
  differences: RetrievalDifference[];
  /** queries left out of both runs (excludeFailures), per direction */
  excluded: Record<RetrievalDirection, number>;
  notes: string[];
}

const DIRECTIONS = [
  { direction: 'image→text', side: 'imageToText', prefix: 'text_retrieval' },
  { direction: 'text→image', side: 'textToImage', prefix: 'image_retrieval' },
] as const;

const runName = (s: RetrievalCompareSide) => (s.runId === undefined ? s.label : `${s.label} (run ${s.runId})`);
const SAME_QUERIES = 'compare two retrieval runs over the same images and captions (same dataset, --root, split, --limit and shard)';

/** The paired queries of one direction: for each, A's and B's index, checked to be the same query set. */
function pairQueries(A: RetrievalCompareSide, B: RetrievalCompareSide, direction: RetrievalDirection, qa: RetrievalQuerySet, qb: RetrievalQuerySet): { ia: Int32Array; ib: Int32Array } {
  for (const [s, q] of [[A, qa], [B, qb]] as const) {
    if (q.rank.length !== q.keys.length || (q.status && q.status.length !== q.keys.length)) {
      throw new RangeError(`${runName(s)}: ${direction} has ${q.keys.length} keys, ${q.rank.length} ranks${q.status ? ` and ${q.status.length} statuses` : ''}`);
    }
  }
  if (qa.keys.length !== qb.keys.length) {
    throw new UsageError(`${runName(A)} has ${qa.keys.length} ${direction} queries but ${runName(B)} has ${qb.keys.length}: not the same queries`, { fix: SAME_QUERIES });
  }
  const indexOf = (s: RetrievalCompareSide, q: RetrievalQuerySet) => {
    const m = new Map<string, number>();
    q.keys.forEach((k, i) => {
      if (m.has(k)) throw new UsageError(`${runName(s)}: ${direction} query key "${k}" appears twice, so queries cannot be paired`, { fix: 'give every query a unique key (a caption index with its image key)' });
      m.set(k, i);
    });
    return m;
  };
  indexOf(A, qa);
  const inB = indexOf(B, qb);
  const ia = new Int32Array(qa.keys.length);
  const ib = new Int32Array(qa.keys.length);
  qa.keys.forEach((k, i) => {
    const j = inB.get(k);
    if (j === undefined) throw new UsageError(`${direction} query "${k}" of ${runName(A)} is not among the queries of ${runName(B)}: not the same queries`, { fix: SAME_QUERIES });
    ia[i] = i;
    ib[i] = j;
  });
  return { ia, ib };
}

/**
 * The group (image) of each counted query as a small integer, from whichever run gives `group`; both
 * giving it, they must agree on every paired query. Null where neither gives it.
 */
function queryGroups(
  A: RetrievalCompareSide,
  B: RetrievalCompareSide,
  direction: RetrievalDirection,
  qa: RetrievalQuerySet,
  qb: RetrievalQuerySet,
  ia: Int32Array,
  ib: Int32Array,
  counted: readonly number[],
): Int32Array | null {
  for (const [s, q] of [[A, qa], [B, qb]] as const) {
    if (q.group && q.group.length !== q.keys.length) throw new RangeError(`${runName(s)}: ${direction} has ${q.keys.length} keys but ${q.group.length} groups`);
  }
  if (!qa.group && !qb.group) return null;
  const ids = new Map<string, number>();
  return Int32Array.from(counted, (i) => {
    const ga = qa.group?.[ia[i]];
    const gb = qb.group?.[ib[i]];
    if (ga !== undefined && gb !== undefined && ga !== gb) {
      throw new UsageError(`${direction} query "${qa.keys[ia[i]]}" belongs to image "${ga}" in ${runName(A)} but "${gb}" in ${runName(B)}: not the same queries`, { fix: SAME_QUERIES });
    }
    const g = (ga ?? gb)!;
    let id = ids.get(g);
    if (id === undefined) ids.set(g, (id = ids.size));
    return id;
  });
}

/** 1 where the query's first positive is within the top k; a failed query is a miss at every k. */
function hitAt(q: RetrievalQuerySet, i: number, k: number, who: string, direction: RetrievalDirection): number {
  const status = q.status ? q.status[i] : QUERY_STATUS.scored;
  if (status === QUERY_STATUS.failed) return 0;
  const r = q.rank[i];
  if (!Number.isInteger(r) || r < 1) throw new RangeError(`${who}: ${direction} query "${q.keys[i]}" has rank ${r}, not a 1-based rank`);
  return r <= k ? 1 : 0;
}

/**
 * Compares B against A, the baseline, on the queries both scored. Refuses (a `UsageError`) two query sets
 * that differ — another count, a key of A missing from B, a key twice — and a query that one run left out
 * (excludeFailures) and the other counted; queries both left out are not counted and are reported.
 * @param opts.seed bootstrap seed (default 2021, as the classification compare): the same inputs give the same intervals
 */
export function compareRetrievalRuns(
  A: RetrievalCompareSide,
  B: RetrievalCompareSide,
  opts: { recallK?: readonly number[]; seed?: number; iterations?: number; confidence?: number } = {},
): RetrievalComparison {
  const recallK = [...(opts.recallK ?? DEFAULT_RECALL_K)].sort((x, y) => x - y);
  for (const k of recallK) if (!Number.isInteger(k) || k < 1) throw new UsageError(`recall@k needs a positive whole k, got ${k}`, { fix: 'pass cut-offs like --recall-k 1,5,10' });
  const differences: RetrievalDifference[] = [];
  const excluded = { 'image→text': 0, 'text→image': 0 } as Record<RetrievalDirection, number>;
  const clustered = { 'image→text': false, 'text→image': false } as Record<RetrievalDirection, boolean>;
  for (const { direction, side, prefix } of DIRECTIONS) {
    const qa = A[side];
    const qb = B[side];
    const { ia, ib } = pairQueries(A, B, direction, qa, qb);
    const counted: number[] = [];
    for (let i = 0; i < ia.length; i++) {
      const xa = qa.status?.[ia[i]] === QUERY_STATUS.excluded;
      const xb = qb.status?.[ib[i]] === QUERY_STATUS.excluded;
      if (xa !== xb) {
        const [left, kept] = xa ? [A, B] : [B, A];
        throw new UsageError(`${direction} query "${qa.keys[ia[i]]}" is left out of ${runName(left)} (a failed image, excludeFailures) but counted in ${runName(kept)}`, {
          fix: 'compare runs with the same failure rule over images that decode in both',
        });
      }
      if (xa) excluded[direction]++;
      else counted.push(i);
    }
    if (counted.length === 0) throw new UsageError(`no ${direction} query is counted in both ${runName(A)} and ${runName(B)}`, { fix: SAME_QUERIES });
    const groups = queryGroups(A, B, direction, qa, qb, ia, ib, counted);
    if (groups) clustered[direction] = true;
    for (const k of recallK) {
      const hitsA = Uint8Array.from(counted, (i) => hitAt(qa, ia[i], k, runName(A), direction));
      const hitsB = Uint8Array.from(counted, (i) => hitAt(qb, ib[i], k, runName(B), direction));
      const { b: lost, c: gained } = discordantCounts(hitsA, hitsB);
      const bootstrap = { seed: opts.seed ?? 2021, iterations: opts.iterations, confidence: opts.confidence };
      const interval = groups ? clusteredPairedBootstrap(hitsA, hitsB, groups, bootstrap) : pairedBootstrap(hitsA, hitsB, bootstrap);
      const p = mcnemarExact(lost, gained);
      const sum = (h: Uint8Array) => h.reduce((s, x) => s + x, 0);
      differences.push({
        direction,
        k,
        metric: `${prefix}_recall@${k}`,
        paired: counted.length,
        recallA: sum(hitsA) / counted.length,
        recallB: sum(hitsB) / counted.length,
        ...interval,
        p,
        lost,
        gained,
        sentence: describeComparison({ baseline: A.label, candidate: B.label, ...interval, p, measure: `${direction} R@${k}` }),
      });
    }
  }
  const notes = [
    clustered['text→image']
      ? "text→image queries are captions, several per image: the text→image intervals resample images with all their captions; McNemar's p treats the captions as independent, so it may be somewhat small."
      : 'text→image queries are captions, several per image: the bootstrap and McNemar treat them as independent, so their text→image intervals may be somewhat narrow and p-values somewhat small.',
  ];
  for (const { direction } of DIRECTIONS) if (excluded[direction]) notes.push(`${excluded[direction]} ${direction} queries are left out of both runs (failed images, excludeFailures).`);
  return { a: { label: A.label, runId: A.runId }, b: { label: B.label, runId: B.runId }, recallK, differences, excluded, notes };
}

/** The comparison as text: one line per direction and k, the sentence and the flips, then the notes. */
export function formatRetrievalComparison(c: RetrievalComparison): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const name = (s: RetrievalComparison['a']) => (s.runId === undefined || s.label === `run ${s.runId}` ? s.label : `${s.label} (run ${s.runId})`);
  const paired = DIRECTIONS.map(({ direction }) => `${c.differences.find((d) => d.direction === direction)?.paired ?? 0} ${direction}`).join(' and ');
  return [
    `${name(c.b)} vs ${name(c.a)}: ${paired} paired queries`,
    ...c.differences.map((d) => `  ${d.direction} R@${d.k}: ${pct(d.recallA)} → ${pct(d.recallB)}; ${d.sentence}; ${d.lost} hit → miss, ${d.gained} miss → hit`),
    ...c.notes.map((n) => `  ${n}`),
  ].join('\n');
}

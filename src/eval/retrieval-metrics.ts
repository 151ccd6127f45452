/**
 * Zero-shot retrieval, pure: per-query ranks and top-k from blocks of scores, and CLIP_benchmark's
 * metrics from those ranks (clip_benchmark/metrics/zeroshot_retrieval.py, same names, fractions).
 *
 * Two directions over image embeddings [nImages, d] and caption embeddings [nCaptions, d], where
 * `captionImage[c]` is the image of caption c:
 * - text→image (`image_retrieval_*`): one query per caption, the gallery is the images, one positive;
 * - image→text (`text_retrieval_*`): one query per image, the gallery is the captions, its positives are
 *   all its captions and the rank is that of the first (best-ranked) one.
 *
 * Ranks are 1-based. Ties go to the lower gallery index, as `torch.topk` on CPU: a gallery item with a
 * score equal to the positive's and a lower index ranks ahead of it. `recall@k` is "rank ≤ k", which is
 * CLIP_benchmark's "at least one positive among torch.topk(scores, k)" under that tie rule.
 *
 * Failed images (listed but not decoded). By default they stay in the data set and count against it:
 * - as a gallery item a failed image has no score: it is never retrieved (ranked below every image, never in
 *   a top-k), so the captions of a failed image are misses for text→image, with the worst rank, nImages;
 * - as a query a failed image is a miss for image→text, with the worst rank its first caption can have,
 *   nCaptions − (its caption count) + 1, and an empty top-k. Its captions stay in the caption gallery.
 * With `excludeFailures` a failed image and its captions are left out of both galleries and both query
 * sets, as if the sample were not in the data set; their queries are marked `excluded` and not counted.
 */
import { UsageError } from '../errors.js';
import type { MetricId } from './metric-ids.js';
import { accuracyStderr } from './metrics.js';

/** How a query counts. `failed`: a miss at its worst rank; `excluded`: not counted (excludeFailures). */
export const QUERY_STATUS = { scored: 0, failed: 1, excluded: 2 } as const;

/** Per-query results of one direction, in query order (captions for text→image, images for image→text). */
export interface QueryRanks {
  /** 1-based rank of the first positive; the worst possible rank for a failed query, 0 for an excluded one */
  rank: Int32Array;
  /** {@link QUERY_STATUS} of each query */
  status: Uint8Array;
  /** [nQueries, topK] gallery indices, best first, −1 where the gallery holds fewer retrievable items */
  top: Int32Array;
  topK: number;
}

/** Both directions of one retrieval evaluation. */
export interface RetrievalRanking {
  nImages: number;
  nCaptions: number;
  /** one query per caption */
  textToImage: QueryRanks;
  /** one query per image */
  imageToText: QueryRanks;
}

/**
 * Positive gallery items of each query, CSR-style: those of query q are `index[offset[q] .. offset[q+1])`,
 * ascending.
 */
export interface Positives {
  offset: Int32Array;
  index: Int32Array;
}

export function emptyQueryRanks(nQueries: number, topK: number): QueryRanks {
  return { rank: new Int32Array(nQueries), status: new Uint8Array(nQueries), top: new Int32Array(nQueries * topK).fill(-1), topK };
}

/**
 * Checks a caption→image pairing and returns the positives of both directions.
 * Throws a `UsageError` for an image without captions: its image→text rank is undefined (CLIP_benchmark
 * divides 0 by 0 there), so the harness refuses rather than guess.
 * @example positivesOf(Int32Array.from([1, 0, 1]), 2).imageToText // → { offset: [0, 1, 3], index: [1, 0, 2] }
 */
export function positivesOf(captionImage: Int32Array, nImages: number): { textToImage: Positives; imageToText: Positives } {
  const nCaptions = captionImage.length;
  const count = new Int32Array(nImages + 1);
  for (let c = 0; c < nCaptions; c++) {
    const i = captionImage[c];
    if (!Number.isInteger(i) || i < 0 || i >= nImages) throw new RangeError(`captionImage[${c}] = ${i} is not an image index in [0, ${nImages})`);
    count[i + 1]++;
  }
  for (let i = 0; i < nImages; i++) {
    if (count[i + 1] === 0) {
      throw new UsageError(`image ${i} has no caption, so its image→text rank is undefined`, { fix: 'drop images without captions from the retrieval data set' });
    }
    count[i + 1] += count[i];
  }
  const fill = count.slice(0, nImages);
  const index = new Int32Array(nCaptions);
  for (let c = 0; c < nCaptions; c++) index[fill[captionImage[c]]++] = c;
  const identity = new Int32Array(nCaptions + 1);
  for (let c = 0; c <= nCaptions; c++) identity[c] = c;
  return { textToImage: { offset: identity, index: captionImage }, imageToText: { offset: count, index } };
}

/**
 * Ranks the queries `first .. first + nRows` from their scores, `block` [nRows, nGallery] (row r is query
 * first + r), into `out`: the rank of the first positive and the top-k, with the tie rule above. One pass
 * per row. A score of −∞ marks a gallery item that cannot be retrieved (a failed image): it never beats
 * a positive and never enters a top-k. Scores are otherwise finite. The top-k is metrics.ts' `topK` rule
 * fused into the rank's pass over the row, because at 25,010 × 5,000 a second pass per row shows.
 */
export function rankBlock(block: Float32Array, nGallery: number, first: number, nRows: number, positives: Positives, out: QueryRanks): void {
  const k = out.topK;
  const topValue = new Float64Array(k);
  const topIndex = new Int32Array(k);
  const { offset, index } = positives;
  for (let r = 0; r < nRows; r++) {
    const q = first + r;
    const base = r * nGallery;
    // the best-ranked positive: highest score, the lower index on a tie (positives are ascending)
    let best = index[offset[q]];
    let bestScore = block[base + best];
    for (let p = offset[q] + 1; p < offset[q + 1]; p++) {
      const s = block[base + index[p]];
      if (s > bestScore) {
        bestScore = s;
        best = index[p];
      }
    }
    topValue.fill(Number.NEGATIVE_INFINITY);
    topIndex.fill(-1);
    // the tie rule split in two loops: before `best` an equal score ranks ahead, after it only a higher one.
    // `+(a > b)` compiles without a branch: a positive in mid-list is a coin toss per item for the predictor.
    let ahead = 0;
    let kth = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < best; j++) {
      const v = block[base + j];
      ahead += +(v >= bestScore);
      if (v > kth) kth = insertTop(topValue, topIndex, v, j);
    }
    for (let j = best; j < nGallery; j++) {
      const v = block[base + j];
      ahead += +(v > bestScore);
      if (v > kth) kth = insertTop(topValue, topIndex, v, j);
    }
    out.rank[q] = ahead + 1;
    out.status[q] = QUERY_STATUS.scored;
    out.top.set(topIndex, q * k);
  }
}

/**
 * Inserts gallery item j with score v into a best-first top-k that v beats at its last place, after every
 * kept value ≥ v (an equal score with a lower index stays ahead); returns the new k-th value.
 */
function insertTop(topValue: Float64Array, topIndex: Int32Array, v: number, j: number): number {
  let pos = topValue.length - 1;
  while (pos > 0 && topValue[pos - 1] < v) {
    topValue[pos] = topValue[pos - 1];
    topIndex[pos] = topIndex[pos - 1];
    pos--;
  }
  topValue[pos] = v;
  topIndex[pos] = j;
  return topValue[topValue.length - 1];
}

/** The default recall cut-offs, CLIP_benchmark's `--recall_k 1 5 10`. */
export const DEFAULT_RECALL_K: readonly number[] = [1, 5, 10];

/** The headline metric of a retrieval run (DataComp's main retrieval number). */
export const RETRIEVAL_HEADLINE = 'mean_recall@1' satisfies MetricId;

/** Metric names in CLIP_benchmark's spelling, in the order they are reported. */
export function retrievalMetricNames(recallK: readonly number[] = DEFAULT_RECALL_K): string[] {
  return [
    ...recallK.flatMap((k) => [`image_retrieval_recall@${k}`, `text_retrieval_recall@${k}`]),
    'image_retrieval_mean_rank',
    'image_retrieval_median_rank',
    'text_retrieval_mean_rank',
    'text_retrieval_median_rank',
    RETRIEVAL_HEADLINE,
  ];
}

/** Ranks are "lower is better"; recalls are not. */
export function retrievalHigherIsBetter(name: string): boolean {
  return !name.endsWith('_rank');
}

/**
 * Checks recall cut-offs against the gallery sizes: positive integers, each at most the smaller gallery
 * (torch.topk refuses k larger than the row), no repeats.
 */
export function checkRecallK(recallK: readonly number[], nImages: number, nCaptions: number): void {
  const gallery = Math.min(nImages, nCaptions);
  const seen = new Set<number>();
  for (const k of recallK) {
    if (!Number.isInteger(k) || k < 1) throw new UsageError(`recall@k needs a positive whole k, got ${k}`, { fix: 'pass cut-offs like --recall-k 1,5,10' });
    if (k > gallery) throw new UsageError(`recall@${k} needs at least ${k} items in each gallery, but there are ${nImages} images and ${nCaptions} captions`, { fix: `use cut-offs of at most ${gallery}` });
    if (seen.has(k)) throw new UsageError(`recall@${k} is asked for twice`, { fix: 'list each cut-off once' });
    seen.add(k);
  }
  if (seen.size === 0) throw new UsageError('no recall cut-off given', { fix: 'pass cut-offs like --recall-k 1,5,10' });
}

export interface RetrievalMetrics {
  /** CLIP_benchmark's names ({@link retrievalMetricNames}) → value; recalls as fractions, ranks 1-based */
  values: Record<string, number>;
  /** standard error of each recall (a mean of hits over the queries), as for top-k accuracy */
  stderr: Record<string, number>;
  /** queries counted: captions for text→image, images for image→text */
  nTextQueries: number;
  nImageQueries: number;
  /** queries counted as misses because an image failed */
  nFailedTextQueries: number;
  nFailedImageQueries: number;
}

/**
 * The metrics of a ranking. Recall@k is the fraction of counted queries with rank ≤ k, a failed query
 * never a hit; mean rank is the mean of the counted ranks (a failed query at its worst rank); median rank
 * is ⌊median⌋ of the counted ranks (the middle two averaged, then floored), as open_clip's
 * `get_clip_metrics` and most retrieval code compute it; `mean_recall@1` = ½(text→image R@1 + image→text R@1)
 * and needs 1 among the cut-offs. Each cut-off must fit both galleries ({@link checkRecallK}).
 * @example
 * // 2 images, captions 0,1 → image 0 and 2 → image 1; text→image ranks [1, 2, 1], image→text ranks [1, 1]
 * retrievalMetrics(ranking, [1]).values
 * // → { 'image_retrieval_recall@1': 0.6667, 'text_retrieval_recall@1': 1, 'image_retrieval_mean_rank': 1.3333,
 * //     'image_retrieval_median_rank': 1, 'text_retrieval_mean_rank': 1, 'text_retrieval_median_rank': 1, 'mean_recall@1': 0.8333 }
 */
export function retrievalMetrics(ranking: Pick<RetrievalRanking, 'textToImage' | 'imageToText'>, recallK: readonly number[] = DEFAULT_RECALL_K): RetrievalMetrics {
  if (!recallK.includes(1)) throw new UsageError(`${RETRIEVAL_HEADLINE} needs recall@1 among the cut-offs`, { fix: 'include 1 in --recall-k' });
  const t2i = directionSummary(ranking.textToImage, recallK);
  const i2t = directionSummary(ranking.imageToText, recallK);
  // every image is an image→text query and every caption a text→image one: the counted queries are the galleries
  checkRecallK(recallK, i2t.n, t2i.n);
  const values: Record<string, number> = {};
  const stderr: Record<string, number> = {};
  recallK.forEach((k, i) => {
    values[`image_retrieval_recall@${k}`] = t2i.recall[i];
    values[`text_retrieval_recall@${k}`] = i2t.recall[i];
    stderr[`image_retrieval_recall@${k}`] = accuracyStderr(t2i.recall[i], t2i.n);
    stderr[`text_retrieval_recall@${k}`] = accuracyStderr(i2t.recall[i], i2t.n);
  });
  values.image_retrieval_mean_rank = t2i.meanRank;
  values.image_retrieval_median_rank = t2i.medianRank;
  values.text_retrieval_mean_rank = i2t.meanRank;
  values.text_retrieval_median_rank = i2t.medianRank;
  values[RETRIEVAL_HEADLINE] = (values['image_retrieval_recall@1'] + values['text_retrieval_recall@1']) / 2;
  return { values, stderr, nTextQueries: t2i.n, nImageQueries: i2t.n, nFailedTextQueries: t2i.nFailed, nFailedImageQueries: i2t.nFailed };
}

function directionSummary(q: QueryRanks, recallK: readonly number[]) {
  const ranks: number[] = [];
  const hits = new Array<number>(recallK.length).fill(0);
  let nFailed = 0;
  for (let i = 0; i < q.rank.length; i++) {
    if (q.status[i] === QUERY_STATUS.excluded) continue;
    ranks.push(q.rank[i]);
    if (q.status[i] === QUERY_STATUS.failed) {
      nFailed++;
      continue;
    }
    recallK.forEach((k, j) => {
      if (q.rank[i] <= k) hits[j]++;
    });
  }
  const n = ranks.length;
  if (n === 0) throw new UsageError('no retrieval query left to score', { fix: 'check that some images decoded, or do not exclude failures' });
  return { n, nFailed, recall: hits.map((h) => h / n), meanRank: ranks.reduce((a, b) => a + b, 0) / n, medianRank: medianRank(ranks) };
}

/**
 * ⌊median⌋ of ranks (the middle two averaged for an even count, then floored): numpy's
 * `np.floor(np.median(ranks0)) + 1` on 0-based ranks.
 * @example medianRank([1, 2, 4, 9]) // → 3
 */
export function medianRank(ranks: readonly number[]): number {
  const sorted = Int32Array.from(ranks).sort();
  const n = sorted.length;
  const mid = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return Math.floor(mid);
}

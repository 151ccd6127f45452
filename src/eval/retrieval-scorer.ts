/**
 * Retrieval scoring at scale: the query × gallery scores of each direction through onnxruntime's MatMul
 * ({@link LogitScorer} at scale 1), one block of query rows at a time, each block ranked and dropped
 * before the next (`rankBlock`, src/eval/retrieval-metrics.ts). MSCOCO's 5k test is 25,010 × 5,000 scores:
 * a block is a few MB, the whole matrix is never held. Each direction computes its own rows (captions ×
 * imagesᵀ, then images × captionsᵀ), so every query's scores come from one MatMul row and its rank does not
 * depend on the block size. The rules for ties and failed images are in retrieval-metrics.ts.
 */
import { UsageError } from '../errors.js';
import {
  emptyQueryRanks,
  positivesOf,
  QUERY_STATUS,
  rankBlock,
  type Positives,
  type QueryRanks,
  type RetrievalRanking,
} from './retrieval-metrics.js';
import { LogitScorer } from './scorer.js';

/** Top-k kept per query: the engine stores each query's top 10. */
export const RETRIEVAL_TOP_K = 10;
/** Scores per block (16 MB of float32): fast in MLAS, small beside the embeddings. */
const BLOCK_SCORES = 1 << 22;
/** How far a row's norm may be from 1 (float32 normalisation is good to ~1e-7). */
const UNIT_TOLERANCE = 1e-3;

export interface RetrievalScoringOptions {
  /** 1 where the image failed (listed but not decoded); its embedding row is ignored */
  imageFailed?: Uint8Array;
  /** leave failed images and their captions out of everything instead of counting them as misses */
  excludeFailures?: boolean;
  /** top-k kept per query (default {@link RETRIEVAL_TOP_K}) */
  topK?: number;
  /** query rows per MatMul (default: about 4M scores per block) — any value gives the same result */
  blockRows?: number;
  /** onnxruntime intra-op threads (0 = one per core) */
  threads?: number;
}

/**
 * Ranks both directions.
 * @param images [nImages, dim] unit rows
 * @param captions [nCaptions, dim] unit rows
 * @param captionImage [nCaptions] the image index of each caption
 */
export async function scoreRetrieval(
  images: Float32Array,
  captions: Float32Array,
  dim: number,
  captionImage: Int32Array,
  opts: RetrievalScoringOptions = {},
): Promise<RetrievalRanking> {
  const nImages = images.length / dim;
  const nCaptions = captions.length / dim;
  if (!Number.isInteger(nImages) || !Number.isInteger(nCaptions)) throw new RangeError(`embeddings of ${images.length} and ${captions.length} values are not rows of ${dim}`);
  if (captionImage.length !== nCaptions) throw new RangeError(`captionImage has ${captionImage.length} entries for ${nCaptions} captions`);
  const failed = opts.imageFailed ?? new Uint8Array(nImages);
  if (failed.length !== nImages) throw new RangeError(`imageFailed has ${failed.length} entries for ${nImages} images`);
  const topK = opts.topK ?? RETRIEVAL_TOP_K;
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`topK must be a positive integer, got ${topK}`);
  checkUnitRows(images, dim, 'image', failed);
  checkUnitRows(captions, dim, 'caption');
  if (opts.excludeFailures && failed.some((f) => f)) return scoreWithoutFailures(images, captions, dim, captionImage, failed, { ...opts, topK });

  const positives = positivesOf(captionImage, nImages);
  const textToImage = emptyQueryRanks(nCaptions, topK);
  const imageToText = emptyQueryRanks(nImages, topK);
  const failedImages = [...failed.keys()].filter((i) => failed[i]);
  // a failed image is never retrieved: −∞ in every caption's row (see rankBlock)
  const maskFailed = failedImages.length ? (block: Float32Array, rows: number) => {
    for (let r = 0; r < rows; r++) for (const i of failedImages) block[r * nImages + i] = Number.NEGATIVE_INFINITY;
  } : undefined;
  await rankDirection(captions, images, dim, positives.textToImage, textToImage, opts, maskFailed);
  await rankDirection(images, captions, dim, positives.imageToText, imageToText, opts);

  for (let c = 0; c < nCaptions; c++) {
    if (!failed[captionImage[c]]) continue;
    textToImage.rank[c] = nImages; // its image ranks last
    textToImage.status[c] = QUERY_STATUS.failed;
  }
  const { offset } = positives.imageToText;
  for (const i of failedImages) {
    imageToText.rank[i] = nCaptions - (offset[i + 1] - offset[i]) + 1; // every other caption ahead of its first
    imageToText.status[i] = QUERY_STATUS.failed;
    imageToText.top.fill(-1, i * topK, (i + 1) * topK);
  }
  return { nImages, nCaptions, textToImage, imageToText };
}

/** Scores query blocks against the gallery through one MatMul session and ranks each block into `out`. */
async function rankDirection(
  queries: Float32Array,
  gallery: Float32Array,
  dim: number,
  positives: Positives,
  out: QueryRanks,
  opts: RetrievalScoringOptions,
  mask?: (block: Float32Array, rows: number) => void,
): Promise<void> {
  const nQueries = queries.length / dim;
  const nGallery = gallery.length / dim;
  if (nQueries === 0) return;
  const blockRows = opts.blockRows ?? Math.max(1, Math.floor(BLOCK_SCORES / nGallery));
  if (!Number.isInteger(blockRows) || blockRows < 1) throw new RangeError(`blockRows must be a positive integer, got ${blockRows}`);
  // no spinning: onnxruntime's idle threads would spin on the cores the ranking loop needs between MatMuls
  const scorer = await LogitScorer.create(gallery, dim, { scale: 1, threads: opts.threads, spinning: false });
  try {
    for (let first = 0; first < nQueries; first += blockRows) {
      const rows = Math.min(blockRows, nQueries - first);
      const block = await scorer.logits(queries.subarray(first * dim, (first + rows) * dim));
      mask?.(block, rows);
      rankBlock(block, nGallery, first, rows, positives, out);
    }
  } finally {
    await scorer.release();
  }
}

/** excludeFailures: rank the data set without the failed images and their captions, then map back. */
async function scoreWithoutFailures(
  images: Float32Array,
  captions: Float32Array,
  dim: number,
  captionImage: Int32Array,
  failed: Uint8Array,
  opts: RetrievalScoringOptions & { topK: number },
): Promise<RetrievalRanking> {
  const nImages = failed.length;
  const nCaptions = captionImage.length;
  const keptImages = Int32Array.from([...failed.keys()].filter((i) => !failed[i]));
  const keptCaptions = Int32Array.from([...captionImage.keys()].filter((c) => !failed[captionImage[c]]));
  const newImage = new Int32Array(nImages).fill(-1);
  keptImages.forEach((i, n) => (newImage[i] = n));
  const sub = await scoreRetrieval(
    gather(images, keptImages, dim),
    gather(captions, keptCaptions, dim),
    dim,
    keptCaptions.map((c) => newImage[captionImage[c]]),
    { ...opts, imageFailed: undefined, excludeFailures: false },
  );
  return {
    nImages,
    nCaptions,
    textToImage: expand(sub.textToImage, keptCaptions, nCaptions, keptImages),
    imageToText: expand(sub.imageToText, keptImages, nImages, keptCaptions),
  };
}

function gather(rows: Float32Array, keep: Int32Array, dim: number): Float32Array {
  const out = new Float32Array(keep.length * dim);
  keep.forEach((r, n) => out.set(rows.subarray(r * dim, (r + 1) * dim), n * dim));
  return out;
}

/** Per-query results on the kept queries and gallery → the full numbering, the rest `excluded`. */
function expand(sub: QueryRanks, keptQueries: Int32Array, nQueries: number, keptGallery: Int32Array): QueryRanks {
  const k = sub.topK;
  const out = emptyQueryRanks(nQueries, k);
  out.status.fill(QUERY_STATUS.excluded);
  keptQueries.forEach((q, n) => {
    out.rank[q] = sub.rank[n];
    out.status[q] = sub.status[n];
    for (let t = 0; t < k; t++) {
      const g = sub.top[n * k + t];
      out.top[q * k + t] = g < 0 ? -1 : keptGallery[g];
    }
  });
  return out;
}

/** Refuses embeddings that are not finite unit rows: ranks of image→text depend on caption norms. */
function checkUnitRows(rows: Float32Array, dim: number, what: string, skip?: Uint8Array): void {
  const n = rows.length / dim;
  for (let r = 0; r < n; r++) {
    if (skip?.[r]) continue;
    let sq = 0;
    for (let k = r * dim; k < (r + 1) * dim; k++) sq += rows[k] * rows[k];
    if (!Number.isFinite(sq)) throw new UsageError(`the embedding of ${what} ${r} is not finite`, { fix: "check the model's output for this input, or record the sample as failed" });
    if (Math.abs(Math.sqrt(sq) - 1) > UNIT_TOLERANCE) throw new RangeError(`the embedding of ${what} ${r} has norm ${Math.sqrt(sq)}, not 1: normalise embeddings before scoring`);
  }
}

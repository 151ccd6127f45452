import { describe, expect, it } from 'vitest';
import { mulberry32, normalArray } from '../src/fixtures/random.js';
import { QUERY_STATUS, retrievalMetrics, type QueryRanks, type RetrievalRanking } from '../src/eval/retrieval-metrics.js';
import { scoreRetrieval } from '../src/eval/retrieval-scorer.js';
import { LogitScorer } from '../src/eval/scorer.js';

/** Unit rows of normal samples; `duplicates` [to, from] copies row `from` over row `to` (exact ties). */
function unitRows(rand: () => number, n: number, dim: number, duplicates: [number, number][] = []): Float32Array {
  const rows = normalArray(rand, n * dim, 1);
  for (let r = 0; r < n; r++) {
    const row = rows.subarray(r * dim, (r + 1) * dim);
    const norm = Math.hypot(...row);
    for (let k = 0; k < dim; k++) row[k] /= norm;
  }
  for (const [to, from] of duplicates) rows.copyWithin(to * dim, from * dim, (from + 1) * dim);
  return rows;
}

interface Data {
  images: Float32Array;
  captions: Float32Array;
  dim: number;
  captionImage: Int32Array;
}

/** Images with 5 captions each, except some with 6 or 7 (as in COCO's 5k test), in a shuffled order. */
function randomData(seed: number, nImages: number, dim: number): Data {
  const rand = mulberry32(seed);
  const pairs: number[] = [];
  for (let i = 0; i < nImages; i++) {
    const m = i % 5 === 1 ? 6 : i % 7 === 3 ? 7 : 5;
    for (let j = 0; j < m; j++) pairs.push(i);
  }
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  const nCaptions = pairs.length;
  // exact ties: duplicated images (a caption's positive tied with a lower-index image) and captions
  const images = unitRows(rand, nImages, dim, [[5, 2], [9, 4], [12, 11]]);
  const captions = unitRows(rand, nCaptions, dim, [[20, 3], [31, 30], [40, 7], [41, 7]]);
  // …and two captions of one image equal to it (tied best positives: the lower index is its first)
  const twin = pairs.findIndex((i, c) => c > 50 && i === pairs[50]);
  for (const c of [50, twin]) captions.set(images.subarray(pairs[50] * dim, (pairs[50] + 1) * dim), c * dim);
  return { images, captions, dim, captionImage: Int32Array.from(pairs) };
}

/**
 * Brute-force oracle: the full score matrix in float64, each row's gallery sorted by score descending and
 * index ascending (torch.topk's tie rule); galleries and queries filtered by the failure rule in the full
 * numbering (no remapping).
 */
function oracle(d: Data, k: number, failed: Set<number>, exclude: boolean) {
  const nImages = d.images.length / d.dim;
  const nCaptions = d.captions.length / d.dim;
  const dot = (c: number, i: number) => {
    let s = 0;
    for (let t = 0; t < d.dim; t++) s += d.captions[c * d.dim + t] * d.images[i * d.dim + t];
    return s;
  };
  const sorted = (scores: (g: number) => number, gallery: number[]) =>
    gallery.map((g) => [scores(g), g] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, g]) => g);
  const allImages = [...Array(nImages).keys()];
  const allCaptions = [...Array(nCaptions).keys()];
  const keptImages = allImages.filter((i) => !failed.has(i));
  const keptCaptions = exclude ? allCaptions.filter((c) => !failed.has(d.captionImage[c])) : allCaptions;
  type Row = { rank: number; status: number; top: number[]; order: number[] | null };
  const t2i: Row[] = allCaptions.map((c) => {
    const own = d.captionImage[c];
    if (failed.has(own)) return exclude ? { rank: 0, status: QUERY_STATUS.excluded, top: [], order: null } : { rank: nImages, status: QUERY_STATUS.failed, top: sorted((i) => dot(c, i), keptImages).slice(0, k), order: null };
    const order = sorted((i) => dot(c, i), keptImages);
    return { rank: order.indexOf(own) + 1, status: QUERY_STATUS.scored, top: order.slice(0, k), order };
  });
  const i2t: Row[] = allImages.map((i) => {
    const own = new Set(allCaptions.filter((c) => d.captionImage[c] === i));
    if (failed.has(i)) return exclude ? { rank: 0, status: QUERY_STATUS.excluded, top: [], order: null } : { rank: nCaptions - own.size + 1, status: QUERY_STATUS.failed, top: [], order: null };
    const order = sorted((c) => dot(c, i), keptCaptions);
    return { rank: order.findIndex((c) => own.has(c)) + 1, status: QUERY_STATUS.scored, top: order.slice(0, k), order };
  });
  /** CLIP_benchmark's recall: at least one positive in the top-k; a failed query is a miss, an excluded one not counted */
  const recall = (rows: Row[], isPositive: (q: number, g: number) => boolean, kk: number) => {
    const counted = rows.map((r, q) => [r, q] as const).filter(([r]) => r.status !== QUERY_STATUS.excluded);
    return counted.filter(([r, q]) => r.order !== null && r.order.slice(0, kk).some((g) => isPositive(q, g))).length / counted.length;
  };
  return { t2i, i2t, recall };
}

function expectMatchesOracle(got: RetrievalRanking, want: ReturnType<typeof oracle>, k: number) {
  const rows = (q: QueryRanks) =>
    Array.from(q.rank, (rank, n) => ({ rank, status: q.status[n], top: Array.from(q.top.subarray(n * k, (n + 1) * k)).filter((g) => g >= 0) }));
  expect(rows(got.textToImage)).toEqual(want.t2i.map(({ rank, status, top }) => ({ rank, status, top })));
  expect(rows(got.imageToText)).toEqual(want.i2t.map(({ rank, status, top }) => ({ rank, status, top })));
}

describe('scoreRetrieval against a brute-force oracle', () => {
  const d = randomData(7, 30, 16);
  const nImages = 30;

  it('ranks and top-10 in both directions, with exact ties and 6–7 captions per image, for block sizes 1, 7 and all', async () => {
    const want = oracle(d, 10, new Set(), false);
    // the duplicates really make ties that decide ranks: some caption of image 5 is behind image 2, its twin
    expect(want.t2i.some((r, c) => d.captionImage[c] === 5 && r.order![r.rank - 2] === 2)).toBe(true);
    const results = [];
    for (const blockRows of [1, 7, d.captionImage.length]) {
      const got = await scoreRetrieval(d.images, d.captions, d.dim, d.captionImage, { blockRows });
      expectMatchesOracle(got, want, 10);
      results.push(got);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    const def = await scoreRetrieval(d.images, d.captions, d.dim, d.captionImage);
    expect(def).toEqual(results[0]);
  });

  it('gives CLIP_benchmark recall@k (a positive among the top k), mean and ⌊median⌋ rank', async () => {
    const got = await scoreRetrieval(d.images, d.captions, d.dim, d.captionImage, { blockRows: 7 });
    const want = oracle(d, 10, new Set(), false);
    const m = retrievalMetrics(got, [1, 5, 10]);
    for (const k of [1, 5, 10]) {
      expect(m.values[`image_retrieval_recall@${k}`]).toBeCloseTo(want.recall(want.t2i, (c, i) => d.captionImage[c] === i, k), 12);
      expect(m.values[`text_retrieval_recall@${k}`]).toBeCloseTo(want.recall(want.i2t, (i, c) => d.captionImage[c] === i, k), 12);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // numpy: np.floor(np.median(ranks0)) + 1
    const npMedian = (xs: number[]) => {
      const s = xs.map((x) => x - 1).sort((a, b) => a - b);
      const h = s.length / 2;
      return Math.floor(s.length % 2 ? s[Math.floor(h)] : (s[h - 1] + s[h]) / 2) + 1;
    };
    expect(m.values.image_retrieval_mean_rank).toBeCloseTo(mean(want.t2i.map((r) => r.rank)), 12);
    expect(m.values.text_retrieval_mean_rank).toBeCloseTo(mean(want.i2t.map((r) => r.rank)), 12);
    expect(m.values.image_retrieval_median_rank).toBe(npMedian(want.t2i.map((r) => r.rank)));
    expect(m.values.text_retrieval_median_rank).toBe(npMedian(want.i2t.map((r) => r.rank)));
    expect(m.values['mean_recall@1']).toBeCloseTo((m.values['image_retrieval_recall@1'] + m.values['text_retrieval_recall@1']) / 2, 15);
    expect(m.nTextQueries).toBe(d.captionImage.length);
    expect(m.nImageQueries).toBe(nImages);
  });

  it('counts failed images as misses by default, and leaves them out with excludeFailures', async () => {
    const failedSet = new Set([1, 5, 17]); // 1 has 6 captions; 5 is a duplicate of image 2
    const imageFailed = new Uint8Array(nImages);
    for (const i of failedSet) imageFailed[i] = 1;
    // a failed image's embedding is whatever the engine left there: NaN must not matter
    const images = d.images.slice();
    images.fill(Number.NaN, 17 * d.dim, 18 * d.dim);
    const withNaN = { ...d, images };
    for (const excludeFailures of [false, true]) {
      const want = oracle(d, 10, failedSet, excludeFailures);
      const got1 = await scoreRetrieval(withNaN.images, d.captions, d.dim, d.captionImage, { imageFailed, excludeFailures, blockRows: 1 });
      const got7 = await scoreRetrieval(withNaN.images, d.captions, d.dim, d.captionImage, { imageFailed, excludeFailures, blockRows: 7 });
      expectMatchesOracle(got1, want, 10);
      expect(got7).toEqual(got1);
      const m = retrievalMetrics(got1, [1, 5, 10]);
      const nFailedCaptions = [...d.captionImage].filter((i) => failedSet.has(i)).length;
      expect(m.nTextQueries).toBe(d.captionImage.length - (excludeFailures ? nFailedCaptions : 0));
      expect(m.nImageQueries).toBe(nImages - (excludeFailures ? failedSet.size : 0));
      expect(m.nFailedTextQueries).toBe(excludeFailures ? 0 : nFailedCaptions);
      expect(m.nFailedImageQueries).toBe(excludeFailures ? 0 : failedSet.size);
      for (const k of [1, 5, 10]) {
        expect(m.values[`image_retrieval_recall@${k}`]).toBeCloseTo(want.recall(want.t2i, (c, i) => d.captionImage[c] === i, k), 12);
        expect(m.values[`text_retrieval_recall@${k}`]).toBeCloseTo(want.recall(want.i2t, (i, c) => d.captionImage[c] === i, k), 12);
      }
      // a failed image is never retrieved
      expect(Array.from(got1.textToImage.top).some((i) => failedSet.has(i))).toBe(false);
    }
  });
});

describe('blockwise MatMul', () => {
  it('gives each query row bit-identical scores whatever the block (512-d), so ranks cannot depend on blockRows', async () => {
    const rand = mulberry32(3);
    const dim = 512;
    const gallery = unitRows(rand, 300, dim);
    const queries = unitRows(rand, 40, dim);
    const scorer = await LogitScorer.create(gallery, dim, { scale: 1, spinning: false });
    try {
      const whole = await scorer.logits(queries);
      for (const blockRows of [1, 7]) {
        const parts: Float32Array[] = [];
        for (let first = 0; first < 40; first += blockRows) parts.push(await scorer.logits(queries.subarray(first * dim, Math.min(40, first + blockRows) * dim)));
        const joined = new Float32Array(whole.length);
        let at = 0;
        for (const p of parts) {
          joined.set(p, at);
          at += p.length;
        }
        expect(Buffer.from(joined.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
      }
    } finally {
      await scorer.release();
    }
  });
});

describe('scoreRetrieval on a hand-worked example', () => {
  // 3 images and 6 captions in 2-d; r = 0.70710677 (float32 √½), so c5 scores I0 and I1 exactly alike
  const r = 0.70710677;
  const images = Float32Array.from([1, 0, 0, 1, 0.6, 0.8]);
  const captions = Float32Array.from([1, 0, 0.8, 0.6, 0.6, 0.8, 0, 1, 0.6, 0.8, r, r]);
  const captionImage = Int32Array.from([0, 0, 1, 2, 2, 1]);
  const top = (q: QueryRanks, n: number) => Array.from(q.top.subarray(n * q.topK, (n + 1) * q.topK));

  it('ranks by hand: ties go to the lower index in both directions', async () => {
    const got = await scoreRetrieval(images, captions, 2, captionImage, { topK: 3 });
    // c0: I0 1, I2 .6, I1 0 → 1 · c1: I2 .96, I0 .8 → 2 · c2: I2 1, I1 .8 → 2 · c3: I1 1, I2 .8 → 2
    // c4: I2 1 → 1 · c5: I2 .99, then I0 = I1 = r, I0 ahead on the tie → its image I1 is 3rd
    expect(Array.from(got.textToImage.rank)).toEqual([1, 2, 2, 2, 1, 3]);
    expect([0, 1, 2, 3, 4, 5].map((c) => top(got.textToImage, c))).toEqual([[0, 2, 1], [2, 0, 1], [2, 1, 0], [1, 2, 0], [2, 1, 0], [2, 0, 1]]);
    // I0: c0 1, c1 .8, c5 r → 1 · I1: c3 1, c2 .8 → 2 · I2: c2 and c4 tie at 1 (same vector), c2 ahead → c4 is 2nd
    expect(Array.from(got.imageToText.rank)).toEqual([1, 2, 2]);
    expect([0, 1, 2].map((i) => top(got.imageToText, i))).toEqual([[0, 1, 5], [3, 2, 4], [2, 4, 5]]);
    const m = retrievalMetrics(got, [1, 2, 3]).values;
    expect(m['image_retrieval_recall@1']).toBeCloseTo(2 / 6, 15);
    expect(m['image_retrieval_recall@2']).toBeCloseTo(5 / 6, 15);
    expect(m['image_retrieval_recall@3']).toBe(1);
    expect(m['text_retrieval_recall@1']).toBeCloseTo(1 / 3, 15);
    expect(m['text_retrieval_recall@2']).toBe(1);
    expect(m.image_retrieval_mean_rank).toBeCloseTo(11 / 6, 15);
    expect(m.image_retrieval_median_rank).toBe(2);
    expect(m.text_retrieval_mean_rank).toBeCloseTo(5 / 3, 15);
    expect(m.text_retrieval_median_rank).toBe(2);
    expect(m['mean_recall@1']).toBeCloseTo(1 / 3, 15);
  });

  it('image 2 failed: its captions are misses at rank 3, it is a miss at rank 6 − 2 + 1 = 5', async () => {
    const got = await scoreRetrieval(images, captions, 2, captionImage, { topK: 3, imageFailed: Uint8Array.from([0, 0, 1]) });
    expect(Array.from(got.textToImage.rank)).toEqual([1, 1, 1, 3, 3, 2]);
    expect(Array.from(got.textToImage.status)).toEqual([0, 0, 0, 1, 1, 0]);
    expect(top(got.textToImage, 1)).toEqual([0, 1, -1]);
    expect(Array.from(got.imageToText.rank)).toEqual([1, 2, 5]);
    expect(top(got.imageToText, 2)).toEqual([-1, -1, -1]);
    const m = retrievalMetrics(got, [1, 2]).values;
    expect(m['image_retrieval_recall@1']).toBeCloseTo(3 / 6, 15);
    expect(m['image_retrieval_recall@2']).toBeCloseTo(4 / 6, 15); // c3, c4 stay misses although their rank is ≤ 3
    expect(m['text_retrieval_recall@1']).toBeCloseTo(1 / 3, 15);
    expect(m.image_retrieval_mean_rank).toBeCloseTo(11 / 6, 15);
    expect(m.text_retrieval_mean_rank).toBeCloseTo(8 / 3, 15);
  });

  it('image 2 failed with excludeFailures: images 0–1 and captions 0, 1, 2, 5 only', async () => {
    const got = await scoreRetrieval(images, captions, 2, captionImage, { topK: 3, imageFailed: Uint8Array.from([0, 0, 1]), excludeFailures: true });
    expect(Array.from(got.textToImage.rank)).toEqual([1, 1, 1, 0, 0, 2]);
    expect(Array.from(got.textToImage.status)).toEqual([0, 0, 0, 2, 2, 0]);
    expect(Array.from(got.imageToText.rank)).toEqual([1, 1, 0]);
    // I1 over the kept captions: c2 .8, c5 r, c1 .6 (original caption numbers)
    expect(top(got.imageToText, 1)).toEqual([2, 5, 1]);
    const m = retrievalMetrics(got, [1, 2]).values;
    expect(m['image_retrieval_recall@1']).toBeCloseTo(3 / 4, 15);
    expect(m['text_retrieval_recall@1']).toBe(1);
    expect(() => retrievalMetrics(got, [1, 3])).toThrow(/recall@3 needs at least 3 items in each gallery, but there are 2 images and 4 captions/);
  });

  it('refuses embeddings that are not unit rows or not finite', async () => {
    await expect(scoreRetrieval(Float32Array.from([2, 0, 0, 1]), captions.subarray(0, 4), 2, Int32Array.from([0, 1]))).rejects.toThrow(/image 0 has norm 2/);
    await expect(scoreRetrieval(images, Float32Array.from([1, 0, Number.NaN, 0]), 2, Int32Array.from([0, 1]))).rejects.toThrow(/caption 1 is not finite/);
  });
});

import { describe, expect, it } from 'vitest';
import { QUERY_STATUS } from '../src/eval/retrieval-metrics.js';
import { mulberry32 } from '../src/fixtures/random.js';
import { compareRetrievalRuns, formatRetrievalComparison, type RetrievalCompareSide, type RetrievalQuerySet } from '../src/report/retrieval-compare.js';
import { clusteredPairedBootstrap, describeComparison, formatPValue, pairedBootstrap } from '../src/report/stats.js';
import { usageFailureSync as failureOf } from './support/usage-failure.js';

/** Two-sided exact McNemar p from scratch: 2·P[X ≤ min(b, c)], X ~ Bin(b + c, 1/2), in exact BigInt arithmetic. */
function mcnemarOracle(b: number, c: number): number {
  const n = b + c;
  const m = Math.min(b, c);
  let tail = 0n;
  let binom = 1n; // C(n, 0)
  for (let i = 0; i <= m; i++) {
    tail += binom;
    binom = (binom * BigInt(n - i)) / BigInt(i + 1);
  }
  const scale = 2n ** 64n;
  const p = Number((2n * tail * scale) / 2n ** BigInt(n)) / Number(scale);
  return Math.min(1, p);
}

function querySet(prefix: string, ranks: number[], status?: number[]): RetrievalQuerySet {
  return { keys: ranks.map((_, i) => `${prefix}${i}`), rank: Int32Array.from(ranks), ...(status ? { status: Uint8Array.from(status) } : {}) };
}

/** Random ranks in 1..gallery, skewed towards 1 as a retrieval model's are. */
function randomRanks(rand: () => number, n: number, gallery: number, skill: number): number[] {
  return Array.from({ length: n }, () => Math.min(gallery, 1 + Math.floor(-Math.log(1 - rand()) * skill)));
}

function sides(seed: number, nImages = 60, perImage = 5): { A: RetrievalCompareSide; B: RetrievalCompareSide } {
  const rand = mulberry32(seed);
  const nCaptions = nImages * perImage;
  const mk = (label: string, skill: number): RetrievalCompareSide => ({
    label,
    textToImage: querySet('cap', randomRanks(rand, nCaptions, nImages, skill)),
    imageToText: querySet('img', randomRanks(rand, nImages, nCaptions, skill)),
  });
  return { A: mk('fp32', 3), B: mk('fp16', 3.5) };
}

const hits = (q: RetrievalQuerySet, k: number) => Array.from(q.keys, (_, i) => (q.status?.[i] === QUERY_STATUS.failed ? 0 : q.rank[i] <= k ? 1 : 0));

describe('compareRetrievalRuns', () => {
  it('gives per direction and k the R@k of each run, the difference in points, the flips and the exact McNemar p of a brute-force count', () => {
    const { A, B } = sides(11);
    const c = compareRetrievalRuns(A, B, { iterations: 2000 });
    expect(c.differences.map((d) => `${d.direction} ${d.k} ${d.metric}`)).toEqual([
      'image→text 1 text_retrieval_recall@1',
      'image→text 5 text_retrieval_recall@5',
      'image→text 10 text_retrieval_recall@10',
      'text→image 1 image_retrieval_recall@1',
      'text→image 5 image_retrieval_recall@5',
      'text→image 10 image_retrieval_recall@10',
    ]);
    for (const d of c.differences) {
      const side = d.direction === 'image→text' ? 'imageToText' : 'textToImage';
      const ha = hits(A[side], d.k);
      const hb = hits(B[side], d.k);
      let lost = 0;
      let gained = 0;
      ha.forEach((x, i) => {
        if (x === 1 && hb[i] === 0) lost++;
        if (x === 0 && hb[i] === 1) gained++;
      });
      const mean = (h: number[]) => h.reduce((s, x) => s + x, 0) / h.length;
      expect(d.paired).toBe(ha.length);
      expect(d.recallA).toBeCloseTo(mean(ha), 12);
      expect(d.recallB).toBeCloseTo(mean(hb), 12);
      expect(d.diff).toBeCloseTo(mean(hb) - mean(ha), 12);
      expect([d.lost, d.gained]).toEqual([lost, gained]);
      expect(lost + gained, `${d.direction} R@${d.k} has discordant pairs`).toBeGreaterThan(0);
      expect(d.p / mcnemarOracle(lost, gained)).toBeCloseTo(1, 10);
      expect(d.low).toBeLessThanOrEqual(d.diff);
      expect(d.high).toBeGreaterThanOrEqual(d.diff);
    }
  });

  it('counts a failed query as a miss at every k, whatever its stored rank', () => {
    const A: RetrievalCompareSide = { label: 'a', textToImage: querySet('c', [1, 1, 1, 1]), imageToText: querySet('i', [1, 1]) };
    const B: RetrievalCompareSide = { label: 'b', textToImage: querySet('c', [1, 1, 1, 1], [1, 1, 0, 0]), imageToText: querySet('i', [1, 1], [1, 0]) };
    const c = compareRetrievalRuns(A, B, { recallK: [1, 2], iterations: 200 });
    const t2i = c.differences.filter((d) => d.direction === 'text→image');
    expect(t2i.map((d) => [d.recallA, d.recallB, d.lost, d.gained])).toEqual([
      [1, 0.5, 2, 0],
      [1, 0.5, 2, 0],
    ]);
    expect(c.differences.find((d) => d.direction === 'image→text' && d.k === 1)).toMatchObject({ recallB: 0.5, lost: 1, gained: 0 });
  });

  it('pairs queries by key, so B in another order gives the same comparison', () => {
    const { A, B } = sides(5);
    const rand = mulberry32(99);
    const shuffle = (q: RetrievalQuerySet): RetrievalQuerySet => {
      const order = Array.from(q.keys, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      return { keys: order.map((i) => q.keys[i]), rank: Int32Array.from(order, (i) => q.rank[i]) };
    };
    const shuffled = { ...B, textToImage: shuffle(B.textToImage), imageToText: shuffle(B.imageToText) };
    expect(shuffled.textToImage.keys).not.toEqual(B.textToImage.keys);
    expect(compareRetrievalRuns(A, shuffled, { iterations: 500 })).toEqual(compareRetrievalRuns(A, B, { iterations: 500 }));
  });

  it('is deterministic for a seed, and another seed draws another interval around the same difference', () => {
    const { A, B } = sides(3);
    const one = compareRetrievalRuns(A, B, { seed: 1, iterations: 1000 });
    expect(compareRetrievalRuns(A, B, { seed: 1, iterations: 1000 })).toEqual(one);
    const two = compareRetrievalRuns(A, B, { seed: 2, iterations: 1000 });
    expect(two.differences.map((d) => d.diff)).toEqual(one.differences.map((d) => d.diff));
    expect(two.differences.map((d) => [d.low, d.high])).not.toEqual(one.differences.map((d) => [d.low, d.high]));
  });

  it('gives [0, 0] and p = 1 for identical runs, and an interval above 0 when B only gains', () => {
    const { A } = sides(8);
    const same = compareRetrievalRuns(A, { ...A, label: 'copy' }, { iterations: 300 });
    for (const d of same.differences) expect([d.diff, d.low, d.high, d.p]).toEqual([0, 0, 0, 1]);
    expect(same.differences[0].sentence).toBe('copy matches fp32 on image→text R@1: 0.00 points [0.00, 0.00], p = 1');
    // B ranks every query first: it gains wherever A missed, never loses
    const first = (q: RetrievalQuerySet): RetrievalQuerySet => ({ keys: q.keys, rank: Int32Array.from(q.keys, () => 1) });
    const best: RetrievalCompareSide = { label: 'best', textToImage: first(A.textToImage), imageToText: first(A.imageToText) };
    for (const d of compareRetrievalRuns(A, best, { iterations: 2000 }).differences) {
      expect(d.lost).toBe(0);
      if (d.gained > 3) expect(d.low, `${d.direction} R@${d.k}`).toBeGreaterThan(0);
    }
  });

  it('covers the true R@1 difference about 95% of the time over repeated samples from a known model', () => {
    // each query: A hits with 0.6; B agrees with A except it flips a hit to a miss w.p. 0.10 and a miss to a hit w.p. 0.20
    // → P(B hit) = 0.6·0.9 + 0.4·0.2 = 0.62, so the true difference is +0.02
    const rand = mulberry32(2024);
    const trials = 150;
    const n = 300;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const ra: number[] = [];
      const rb: number[] = [];
      for (let i = 0; i < n; i++) {
        const a = rand() < 0.6;
        const b = a ? rand() >= 0.1 : rand() < 0.2;
        ra.push(a ? 1 : 2);
        rb.push(b ? 1 : 2);
      }
      const mk = (label: string, r: number[]): RetrievalCompareSide => ({ label, textToImage: querySet('c', r), imageToText: querySet('i', r.slice(0, 10)) });
      const d = compareRetrievalRuns(mk('a', ra), mk('b', rb), { recallK: [1], seed: t, iterations: 1000 }).differences.find((x) => x.direction === 'text→image')!;
      if (d.low <= 0.02 && 0.02 <= d.high) covered++;
    }
    // 150 trials at 95%: the binomial sd is 1.8 points, so [88%, 99.5%] is about ±4 sd
    expect(covered / trials).toBeGreaterThanOrEqual(0.88);
    expect(covered / trials).toBeLessThanOrEqual(0.995);
  });

  it('words each difference with the direction and k, as the classification compare words accuracy', () => {
    const { A, B } = sides(11);
    const c = compareRetrievalRuns(A, B, { iterations: 2000 });
    for (const d of c.differences) {
      const f = (x: number) => (100 * x).toFixed(2).replace(/^-(0\.00)$/, '$1');
      const expected =
        d.low > 0
          ? `fp16 gains ${f(d.diff)} points of ${d.direction} R@${d.k} [${f(d.low)}, ${f(d.high)}], ${formatPValue(d.p)}`
          : d.high < 0
            ? `fp16 loses ${f(-d.diff)} points of ${d.direction} R@${d.k} [${f(-d.high)}, ${f(-d.low)}], ${formatPValue(d.p)}`
            : `fp16 matches fp32 on ${d.direction} R@${d.k}: ${f(d.diff)} points [${f(d.low)}, ${f(d.high)}], ${formatPValue(d.p)}`;
      expect(d.sentence).toBe(expected);
    }
    const text = formatRetrievalComparison(c);
    expect(text.split('\n')[0]).toBe('fp16 vs fp32: 60 image→text and 300 text→image paired queries');
    expect(text).toContain(c.differences[3].sentence);
    expect(text).toMatch(/several per image/);
  });

  it('describeComparison without a measure keeps its accuracy wording', () => {
    expect(describeComparison({ diff: -0.0042, low: -0.0063, high: -0.0021, p: 0.0003 })).toBe('int8 loses 0.42 points [0.21, 0.63], p = 0.0003');
    expect(describeComparison({ diff: -0.004, low: -0.009, high: -0.001, p: 0.12, candidate: 'fp16', measure: 'text→image R@1' })).toBe('fp16 loses 0.40 points of text→image R@1 [0.10, 0.90], p = 0.12');
  });
});

describe('compareRetrievalRuns refuses queries that do not match', () => {
  const base = (): RetrievalCompareSide => ({ label: 'fp32', runId: 1, textToImage: querySet('c', [1, 2, 3, 1]), imageToText: querySet('i', [1, 2]) });
  it.each([
    ['another count', (b: RetrievalCompareSide) => (b.textToImage = querySet('c', [1, 2, 3])), /^fp32 \(run 1\) has 4 text→image queries but fp16 \(run 2\) has 3: not the same queries — compare two retrieval runs over the same images and captions/],
    ['another key', (b: RetrievalCompareSide) => (b.imageToText = { keys: ['i0', 'x'], rank: [1, 1] }), /^image→text query "i1" of fp32 \(run 1\) is not among the queries of fp16 \(run 2\)/],
    ['a key twice', (b: RetrievalCompareSide) => (b.imageToText = { keys: ['i0', 'i0'], rank: [1, 1] }), /^fp16 \(run 2\): image→text query key "i0" appears twice/],
    [
      'a query one run left out and the other counted',
      (b: RetrievalCompareSide) => (b.textToImage = querySet('c', [1, 2, 3, 0], [0, 0, 0, QUERY_STATUS.excluded])),
      /^text→image query "c3" is left out of fp16 \(run 2\) \(a failed image, excludeFailures\) but counted in fp32 \(run 1\)/,
    ],
  ])('%s', (_what, spoil, message) => {
    const b = { ...base(), label: 'fp16', runId: 2 };
    expect(() => compareRetrievalRuns(base(), b, { iterations: 10 })).not.toThrow();
    spoil(b);
    expect(failureOf(() => compareRetrievalRuns(base(), b, { iterations: 10 }))).toMatch(message);
  });

  it('leaves out, and reports, queries both runs left out', () => {
    const a = { ...base(), textToImage: querySet('c', [1, 2, 3, 0], [0, 0, 0, QUERY_STATUS.excluded]) };
    const b = { ...a, label: 'fp16', runId: 2, textToImage: querySet('c', [2, 2, 3, 0], [0, 0, 0, QUERY_STATUS.excluded]) };
    const c = compareRetrievalRuns(a, b, { recallK: [1], iterations: 10 });
    expect(c.excluded).toEqual({ 'image→text': 0, 'text→image': 1 });
    expect(c.differences.find((d) => d.direction === 'text→image')).toMatchObject({ paired: 3, recallA: 1 / 3, recallB: 0, lost: 1, gained: 0 });
    expect(c.notes).toContain('1 text→image queries are left out of both runs (failed images, excludeFailures).');
  });
});

describe('clusteredPairedBootstrap (captions resampled with their image)', () => {
  /** G groups of `size` samples whose outcomes are shared within a group: A hits w.p. 0.6, B flips 10% of hits, 20% of misses. */
  function clusteredOutcomes(rand: () => number, G: number, size: number) {
    const a: number[] = [];
    const b: number[] = [];
    const group: number[] = [];
    for (let g = 0; g < G; g++) {
      const ha = rand() < 0.6;
      const hb = ha ? rand() >= 0.1 : rand() < 0.2;
      for (let j = 0; j < size; j++) a.push(+ha), b.push(+hb), group.push(g);
    }
    return { a: Uint8Array.from(a), b: Uint8Array.from(b), group };
  }

  it('with one sample per group is the ordinary paired bootstrap', () => {
    const rand = mulberry32(7);
    const a = Uint8Array.from({ length: 400 }, () => +(rand() < 0.7));
    const b = Uint8Array.from(a, (x) => (rand() < 0.15 ? 1 - x : x));
    const ours = clusteredPairedBootstrap(a, b, Array.from(a, (_, i) => i), { seed: 1, iterations: 20000 });
    const plain = pairedBootstrap(a, b, { seed: 1, iterations: 20000 });
    expect(ours.diff).toBeCloseTo(plain.diff, 12);
    // two Monte Carlo runs of one distribution on a grid of 1/400: within a step or two
    expect(Math.abs(ours.low - plain.low)).toBeLessThanOrEqual(0.006);
    expect(Math.abs(ours.high - plain.high)).toBeLessThanOrEqual(0.006);
  });

  it('with outcomes shared within groups of 5 is the bootstrap over groups, about √5 wider than resampling samples', () => {
    const { a, b, group } = clusteredOutcomes(mulberry32(3), 400, 5);
    const ours = clusteredPairedBootstrap(a, b, group, { seed: 2, iterations: 20000 });
    const perGroup = (x: Uint8Array) => Uint8Array.from({ length: 400 }, (_, g) => x[5 * g]);
    const byGroup = pairedBootstrap(perGroup(a), perGroup(b), { seed: 2, iterations: 20000 });
    expect(ours.diff).toBeCloseTo(byGroup.diff, 12);
    expect(Math.abs(ours.low - byGroup.low)).toBeLessThanOrEqual(0.006);
    expect(Math.abs(ours.high - byGroup.high)).toBeLessThanOrEqual(0.006);
    const naive = pairedBootstrap(a, b, { seed: 2, iterations: 20000 });
    const ratio = (ours.high - ours.low) / (naive.high - naive.low);
    expect(ratio).toBeGreaterThan(1.9);
    expect(ratio).toBeLessThan(2.6);
  });

  it('covers the true difference about 95% of the time on clustered data, where resampling captions does not', () => {
    const rand = mulberry32(2025);
    const trials = 150;
    let clustered = 0;
    let naive = 0;
    for (let t = 0; t < trials; t++) {
      const { a, b, group } = clusteredOutcomes(rand, 100, 5);
      const c = clusteredPairedBootstrap(a, b, group, { seed: t, iterations: 1000 });
      const n = pairedBootstrap(a, b, { seed: t, iterations: 1000 });
      if (c.low <= 0.02 && 0.02 <= c.high) clustered++;
      if (n.low <= 0.02 && 0.02 <= n.high) naive++;
    }
    expect(clustered / trials).toBeGreaterThanOrEqual(0.88);
    expect(clustered / trials).toBeLessThanOrEqual(0.995);
    // intervals √5 too narrow cover about P(|Z| < 1.96/√5) ≈ 62%
    expect(naive / trials).toBeLessThan(0.8);
  });

  it('is [0, 0] when the runs agree, and refuses group ids that do not fit the samples', () => {
    expect(clusteredPairedBootstrap(Uint8Array.from([1, 0, 1]), Uint8Array.from([1, 0, 1]), [0, 0, 1], { seed: 1 })).toEqual({ diff: 0, low: 0, high: 0 });
    expect(() => clusteredPairedBootstrap(Uint8Array.from([1, 0]), Uint8Array.from([1, 1]), [0], { seed: 1 })).toThrow(/1 group ids for 2 samples/);
  });

  it('is what compareRetrievalRuns uses for text→image once the captions name their images, and it says so', () => {
    const { A, B } = sides(11);
    const group = A.textToImage.keys.map((_, i) => `img${Math.floor(i / 5)}`);
    const withGroups = compareRetrievalRuns({ ...A, textToImage: { ...A.textToImage, group } }, B, { recallK: [1], iterations: 3000, seed: 4 });
    const t2i = withGroups.differences.find((d) => d.direction === 'text→image')!;
    const hA = Uint8Array.from(hits(A.textToImage, 1));
    const hB = Uint8Array.from(hits(B.textToImage, 1));
    const direct = clusteredPairedBootstrap(hA, hB, group.map((g) => Number(g.slice(3))), { seed: 4, iterations: 3000 });
    expect([t2i.diff, t2i.low, t2i.high]).toEqual([direct.diff, direct.low, direct.high]);
    expect(withGroups.notes[0]).toMatch(/resample images with all their captions/);
    // image→text is unchanged: one query per image, resampled as before
    const without = compareRetrievalRuns(A, B, { recallK: [1], iterations: 3000, seed: 4 });
    expect(withGroups.differences[0]).toEqual(without.differences[0]);
    expect(without.notes[0]).toMatch(/treat them as independent/);
    const other = group.map((g, i) => (i === 7 ? 'img9' : g));
    expect(failureOf(() => compareRetrievalRuns({ ...A, textToImage: { ...A.textToImage, group } }, { ...B, textToImage: { ...B.textToImage, group: other } }, { iterations: 10 }))).toMatch(
      /^text→image query "cap7" belongs to image "img1" in fp32 but "img9" in fp16: not the same queries/,
    );
  });
});

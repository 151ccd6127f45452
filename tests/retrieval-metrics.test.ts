import { describe, expect, it } from 'vitest';
import {
  checkRecallK,
  emptyQueryRanks,
  medianRank,
  positivesOf,
  QUERY_STATUS,
  rankBlock,
  retrievalHigherIsBetter,
  retrievalMetricNames,
  retrievalMetrics,
} from '../src/eval/retrieval-metrics.js';

describe('rankBlock', () => {
  it('ranks the first of tied positives, and a lower-index tie ahead of it', () => {
    // one image query over 5 captions; its captions are 1 and 3, both scoring 0.5; caption 0 also scores 0.5
    const positives = positivesOf(Int32Array.from([1, 0, 1, 0, 1]), 2).imageToText;
    const out = emptyQueryRanks(2, 3);
    rankBlock(Float32Array.from([0.5, 0.5, 0.9, 0.5, 0.1]), 5, 0, 1, positives, out);
    // order: c2 0.9, c0 0.5, c1 0.5, c3 0.5, c4 0.1 → first positive c1 at rank 3
    expect(out.rank[0]).toBe(3);
    expect(Array.from(out.top.subarray(0, 3))).toEqual([2, 0, 1]);
    expect(out.status[0]).toBe(QUERY_STATUS.scored);
  });

  it('never retrieves a −∞ item and pads the top-k with −1', () => {
    const positives = positivesOf(Int32Array.from([0, 1, 2]), 3).textToImage;
    const out = emptyQueryRanks(3, 3);
    rankBlock(Float32Array.from([0.2, Number.NEGATIVE_INFINITY, 0.7]), 3, 2, 1, positives, out);
    expect(out.rank[2]).toBe(1);
    expect(Array.from(out.top.subarray(6, 9))).toEqual([2, 0, -1]);
  });
});

describe('positivesOf', () => {
  it('lists each image’s captions ascending', () => {
    const p = positivesOf(Int32Array.from([1, 0, 1]), 2).imageToText;
    expect(Array.from(p.offset)).toEqual([0, 1, 3]);
    expect(Array.from(p.index)).toEqual([1, 0, 2]);
  });
  it('refuses an image without captions and a caption of no image', () => {
    expect(() => positivesOf(Int32Array.from([0, 0]), 2)).toThrow(/image 1 has no caption/);
    expect(() => positivesOf(Int32Array.from([0, 2]), 2)).toThrow(/captionImage\[1\] = 2/);
  });
});

describe('medianRank', () => {
  it('is ⌊median⌋, the middle two averaged (numpy), then floored', () => {
    expect(medianRank([9, 1, 4, 2])).toBe(3); // (2 + 4) / 2
    expect(medianRank([1, 2])).toBe(1); // ⌊1.5⌋
    expect(medianRank([7, 1, 3])).toBe(3);
    expect(medianRank([12, 10])).toBe(11);
  });
});

describe('retrievalMetrics', () => {
  const ranking = (t2i: number[], i2t: number[], t2iStatus?: number[], i2tStatus?: number[]) => {
    const textToImage = emptyQueryRanks(t2i.length, 1);
    textToImage.rank.set(t2i);
    if (t2iStatus) textToImage.status.set(t2iStatus);
    const imageToText = emptyQueryRanks(i2t.length, 1);
    imageToText.rank.set(i2t);
    if (i2tStatus) imageToText.status.set(i2tStatus);
    return { textToImage, imageToText };
  };

  it('computes the doc comment’s example, names in CLIP_benchmark’s spelling', () => {
    const m = retrievalMetrics(ranking([1, 2, 1], [1, 1]), [1]);
    expect(Object.keys(m.values).sort()).toEqual(retrievalMetricNames([1]).sort());
    expect(retrievalMetricNames([1]).filter((n) => !retrievalHigherIsBetter(n))).toEqual(['image_retrieval_mean_rank', 'image_retrieval_median_rank', 'text_retrieval_mean_rank', 'text_retrieval_median_rank']);
    expect(m.values['image_retrieval_recall@1']).toBeCloseTo(2 / 3, 15);
    expect(m.values['text_retrieval_recall@1']).toBe(1);
    expect(m.values.image_retrieval_mean_rank).toBeCloseTo(4 / 3, 15);
    expect(m.values['mean_recall@1']).toBeCloseTo(5 / 6, 15);
    expect(m.stderr['image_retrieval_recall@1']).toBeCloseTo(Math.sqrt((2 / 3) * (1 / 3) / 2), 15);
  });

  it('counts a failed query as a miss at its rank, and leaves an excluded one out', () => {
    // the failed caption has rank 1 (as stored) but is still a miss; the excluded one is not counted at all
    const m = retrievalMetrics(ranking([1, 1, 3, 0], [1, 2], [0, 1, 0, 2], [0, 0]), [1, 2]);
    expect(m.values['image_retrieval_recall@1']).toBeCloseTo(1 / 3, 15);
    expect(m.values.image_retrieval_mean_rank).toBeCloseTo(5 / 3, 15);
    expect(m.nTextQueries).toBe(3);
    expect(m.nFailedTextQueries).toBe(1);
    expect(m.values['text_retrieval_recall@2']).toBe(1);
  });

  it.each([
    [[5], /needs recall@1/],
    [[1, 3], /recall@3 needs at least 3 items in each gallery, but there are 2 images and 3 captions/],
    [[1, 1], /recall@1 is asked for twice/],
    [[1, 0.5], /positive whole k/],
  ])('refuses cut-offs %j', (k, message) => {
    expect(() => retrievalMetrics(ranking([1, 1, 2], [1, 1]), k)).toThrow(message);
  });

  it('refuses when no query is left', () => {
    expect(() => retrievalMetrics(ranking([0], [0], [2], [2]), [1])).toThrow(/no retrieval query left/);
  });

  it('checkRecallK accepts cut-offs that fit both galleries', () => {
    expect(() => checkRecallK([1, 5, 10], 10, 50)).not.toThrow();
    expect(() => checkRecallK([], 10, 50)).toThrow(/no recall cut-off/);
  });
});

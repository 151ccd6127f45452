import { describe, expect, it } from 'vitest';
import { buildClassifier, groupMaxLogits, normaliseRows, zeroShotLogits } from '../src/prompts/classifier.js';
import { mulberry32, normalArray } from '../src/fixtures/random.js';

describe('buildClassifier', () => {
  it('normalises each prompt, averages per class, renormalises (worked by hand)', () => {
    // class 0: (3,4) -> (0.6,0.8); (0,2) -> (0,1); mean (0.3,0.9); norm sqrt(0.9) -> (0.316228, 0.948683)
    // class 1: (-5,0) -> (-1,0)
    const w = buildClassifier(Float32Array.from([3, 4, 0, 2, -5, 0]), [0, 0, 1], 2, 2);
    expect(w[0]).toBeCloseTo(0.3 / Math.sqrt(0.9), 6);
    expect(w[1]).toBeCloseTo(0.9 / Math.sqrt(0.9), 6);
    expect(Array.from(w.subarray(2))).toEqual([-1, 0]);
  });

  it('differs from averaging unnormalised embeddings (the normalise-first step matters)', () => {
    const w = buildClassifier(Float32Array.from([10, 0, 0, 1]), [0, 0], 2, 1);
    // normalise first: (1,0),(0,1) -> mean (0.5,0.5) -> (0.7071,0.7071); averaging raw would give (0.995, 0.0995)
    expect(w[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(w[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('does not modify its input and rejects a class without prompts', () => {
    const emb = Float32Array.from([3, 4]);
    buildClassifier(emb, [0], 2, 1);
    expect(Array.from(emb)).toEqual([3, 4]);
    expect(() => buildClassifier(emb, [0], 2, 2)).toThrow(/class 1 has no prompts/);
  });

  it('equals, bit for bit, normalising a copy of every row first and then averaging them in float64', () => {
    // the straightforward formulation (a whole normalised copy): buildClassifier must give its exact bits
    const rand = mulberry32(7);
    const dim = 33;
    const nPrompts = 200;
    const emb = Float32Array.from(normalArray(rand, nPrompts * dim, 1), (v, i) => v * (1 + (i % 5)));
    const promptClass = Array.from({ length: nPrompts }, (_, p) => (p * 7) % 9);
    const unit = normaliseRows(emb.slice(), dim);
    const sums = new Float64Array(9 * dim);
    const counts = new Array(9).fill(0);
    promptClass.forEach((c, p) => {
      counts[c]++;
      for (let k = 0; k < dim; k++) sums[c * dim + k] += unit[p * dim + k];
    });
    const want = normaliseRows(Float32Array.from(sums, (v, i) => v / counts[Math.floor(i / dim)]), dim);
    expect(Buffer.from(buildClassifier(emb, promptClass, dim, 9).buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });
});

describe('zeroShotLogits', () => {
  it('equals 100 × cosine similarity, checked against a direct float64 computation', () => {
    const rand = mulberry32(3);
    const dim = 7;
    const images = normaliseRows(normalArray(rand, 5 * dim, 1), dim);
    const cls = normaliseRows(normalArray(rand, 3 * dim, 1), dim);
    const logits = zeroShotLogits(images, cls, dim);
    expect(logits.length).toBe(15);
    for (let i = 0; i < 5; i++) {
      for (let c = 0; c < 3; c++) {
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += images[i * dim + k] * cls[c * dim + k];
        expect(logits[i * 3 + c]).toBeCloseTo(100 * dot, 4);
        expect(Math.abs(logits[i * 3 + c])).toBeLessThanOrEqual(100.0001);
      }
    }
  });
});

describe('groupMaxLogits', () => {
  it('takes the max over each group (ObjectNet-style), and identity groups select a subset', () => {
    const logits = Float32Array.from([1, 5, 3, 2, /* row 2 */ -1, -4, 0, 7]); // [2, 4]
    expect(Array.from(groupMaxLogits(logits, 4, [[0, 2], [1], [3, 2, 0]]))).toEqual([3, 5, 3, 0, -4, 7]);
    expect(Array.from(groupMaxLogits(logits, 4, [[3], [1]]))).toEqual([2, 5, 7, -4]);
  });
});

describe('LogitScorer (onnxruntime MatMul)', () => {
  it('equals the plain zeroShotLogits on random unit vectors', async () => {
    const { LogitScorer } = await import('../src/eval/scorer.js');
    const rand = mulberry32(9);
    const dim = 33;
    const images = normaliseRows(normalArray(rand, 70 * dim, 1), dim);
    const cls = normaliseRows(normalArray(rand, 11 * dim, 1), dim);
    const scorer = await LogitScorer.create(cls, dim);
    const got = await scorer.logits(images);
    await scorer.release();
    const want = zeroShotLogits(images, cls, dim);
    expect(got.length).toBe(want.length);
    // float32 accumulation over 33 terms of size ≤ 1, times 100
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(2e-4);
  });
});

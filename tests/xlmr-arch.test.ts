/**
 * The random-weight XLM-R-style text tower (src/fixtures/xlmr-arch.ts) against the independent float64
 * forward pass of tests/support/xlmr-forward.ts: RoBERTa position ids, post-LN layers under the key
 * mask, mean pooling over the attention mask, projection; padding beyond the mask changes nothing.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraph, type OnnxDtype } from '../src/models/onnx/graph.js';
import { mulberry32 } from '../src/fixtures/random.js';
import { addXlmrText, randomXlmrWeights, XLMR_ARCH_SIZES } from '../src/fixtures/xlmr-arch.js';
import { erf, robertaPositionIds, xlmrTextForward } from './support/xlmr-forward.js';

const config = { ...XLMR_ARCH_SIZES.tiny, vocabSize: 300 };
const weights = randomXlmrWeights(config, 77);
const L = config.contextLength;
const E = config.embedDim;

/**
 * Relative tolerance (max |ONNX − float64| over max |float64|): float32 rounding measures ~1e-6 here;
 * 2e-5 still catches a LayerNorm eps of 1e-6 or 1e-12 instead of 1e-5 (≥ 1e-4 with these small embeddings).
 */
const REL_TOL = 2e-5;
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
  }
  expect(diff / scale, what).toBeLessThan(REL_TOL);
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

/** `<s>` = 0, content ids ≥ 4, `</s>` = 2, then `<pad>` = 1 to 77, with the mask. */
function rows(lengths: number[], seed = 3): { ids: number[]; mask: number[] }[] {
  const rand = mulberry32(seed);
  return lengths.map((n) => {
    const ids = [0, ...Array.from({ length: n }, () => 4 + Math.floor(rand() * (config.vocabSize - 4))), 2];
    return { ids: [...ids, ...new Array(L - ids.length).fill(1)], mask: [...ids.map(() => 1), ...new Array(L - ids.length).fill(0)] };
  });
}

function graph(dtype: OnnxDtype, withMask: boolean, w = weights): OnnxGraph {
  const g = new OnnxGraph('xlmr');
  const ids = g.input('input_ids', dtype, ['batch', 'seq']);
  const mask = withMask ? g.input('attention_mask', dtype, ['batch', 'seq']) : undefined;
  g.output(addXlmrText(g, w, ids, mask), 'embedding', 'float32', ['batch', E]);
  return g;
}

const tensor = (dtype: 'int32' | 'int64', rs: number[][]) =>
  dtype === 'int32' ? new ort.Tensor('int32', Int32Array.from(rs.flat()), [rs.length, rs[0].length]) : new ort.Tensor('int64', BigInt64Array.from(rs.flat().map(BigInt)), [rs.length, rs[0].length]);

describe('oracle helpers', () => {
  it('erf matches known values (Abramowitz & Stegun table 7.1) and is odd', () => {
    expect(erf(0)).toBe(0);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(2)).toBeCloseTo(0.9953222650189527, 14);
    expect(erf(3.5)).toBeCloseTo(0.9999992569016276, 14);
    expect(erf(-1.3)).toBeCloseTo(-erf(1.3), 15);
  });
  it('RoBERTa position ids: padding_idx + 1 onwards for tokens, padding_idx on pads', () => {
    expect(robertaPositionIds([0, 57, 9, 2, 1, 1], 1)).toEqual([2, 3, 4, 5, 1, 1]);
  });
});

describe('random-weight XLM-R text tower (tiny) against an independent float64 forward pass', () => {
  it('input_ids + attention_mask (int32, as Immich feeds M-CLIP): each row of a batch equals the oracle', async () => {
    const s = await ort.InferenceSession.create(graph('int32', true).toBytes());
    const rs = rows([3, 20, 75]);
    const out = await s.run({ input_ids: tensor('int32', rs.map((r) => r.ids)), attention_mask: tensor('int32', rs.map((r) => r.mask)) });
    const got = out.embedding.data as Float32Array;
    rs.forEach((r, i) => expectClose(got.subarray(i * E, (i + 1) * E), xlmrTextForward(weights, r.ids, r.mask).projected, `row ${i}`));
    expect(maxAbsDiff(got.subarray(0, E), got.subarray(E, 2 * E))).toBeGreaterThan(1e-2);
  });

  it('tokens beyond the mask change nothing; a shorter padded length (dynamic sequence) gives the same embedding', async () => {
    const s = await ort.InferenceSession.create(graph('int64', true).toBytes());
    const [r] = rows([5]);
    const run = async (ids: number[], mask: number[]) => (await s.run({ input_ids: tensor('int64', [ids]), attention_mask: tensor('int64', [mask]) })).embedding.data as Float32Array;
    const base = await run(r.ids, r.mask);
    expectClose(base, xlmrTextForward(weights, r.ids, r.mask).projected, 'base');
    // other ids under mask 0 after the content (they shift no content position: RoBERTa counts from the left)
    const noisy = r.ids.map((id, i) => (r.mask[i] ? id : 4 + (i % 50)));
    expect(maxAbsDiff(await run(noisy, r.mask), base)).toBeLessThan(1e-6);
    // padded to 12 instead of 77
    expect(maxAbsDiff(await run(r.ids.slice(0, 12), r.mask.slice(0, 12)), base)).toBeLessThan(1e-5);
    // while a masked-in token does change it (the mask is really read)
    const wider = r.mask.map((m, i) => (i === 7 ? 1 : m));
    const changed = await run(r.ids, wider);
    expect(maxAbsDiff(changed, base)).toBeGreaterThan(1e-2);
    expectClose(changed, xlmrTextForward(weights, r.ids, wider).projected, 'with one pad masked in');
  });

  it('without a mask input (open_clip HFTextEncoder) the mask is ids ≠ pad: same embedding as with the explicit mask', async () => {
    const s = await ort.InferenceSession.create(graph('int32', false).toBytes());
    const rs = rows([8, 40], 5);
    const out = await s.run({ input_ids: tensor('int32', rs.map((r) => r.ids)) });
    const got = out.embedding.data as Float32Array;
    rs.forEach((r, i) => expectClose(got.subarray(i * E, (i + 1) * E), xlmrTextForward(weights, r.ids, r.mask).projected, `row ${i}`));
  });

  it('cls pooling (open_clip cls_pooler, NLLB-CLIP): position 0 through the projection, no bias', async () => {
    const cls = randomXlmrWeights({ ...config, pooler: 'cls', projBias: false }, 78);
    const s = await ort.InferenceSession.create(graph('int32', false, cls).toBytes());
    const rs = rows([6, 30], 9);
    const out = await s.run({ input_ids: tensor('int32', rs.map((r) => r.ids)) });
    const got = out.embedding.data as Float32Array;
    rs.forEach((r, i) => expectClose(got.subarray(i * E, (i + 1) * E), xlmrTextForward(cls, r.ids, r.mask).projected, `row ${i}`));
    // position 0 attends to the whole row: changing the last content token changes it
    const other = rs[0].ids.map((id, i) => (i === 6 ? 5 : id));
    const out2 = await s.run({ input_ids: tensor('int32', [other]) });
    expect(maxAbsDiff(out2.embedding.data as Float32Array, got.subarray(0, E))).toBeGreaterThan(1e-3);
  });
});

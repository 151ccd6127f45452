/**
 * An independent, deliberately plain float64 forward pass of the XLM-R-style text tower of
 * `src/fixtures/xlmr-arch.ts` for one row: the oracle its ONNX graphs are checked against. Written from
 * transformers' `modeling_xlm_roberta.py` (create_position_ids_from_input_ids, XLMRobertaEmbeddings,
 * post-LN XLMRobertaLayer with the extended attention mask) and M-CLIP's / open_clip's mean pooling.
 * Masked keys are skipped outright here (the graph adds float32 min); the results agree.
 */
import type { XlmrArchWeights } from '../../src/fixtures/xlmr-arch.js';
import type { LinearWeights } from '../../src/fixtures/siglip-arch.js';
import { layerNorm, linear, normalise, type Mat } from './clip-forward.js';

const EPS = 1e-5;

/** erf to ~1e-14: Maclaurin series below 3, the erfc continued fraction above (JS has no Math.erf). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated from the tail
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
const lin = (x: Float64Array, p: LinearWeights): Float64Array => linear(x, p.w, p.b.length ? p.b : undefined, p.out);
const add = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + b[i]);

/** RoBERTa position ids: padding_idx + running count of non-pad tokens, padding_idx on pads. */
export function robertaPositionIds(ids: ArrayLike<number>, padId: number): number[] {
  let count = 0;
  return Array.from(ids, (id) => (id === padId ? padId : padId + ++count));
}

export interface XlmrOut {
  pooled: Float64Array; // mean over the mask or position 0, [w]
  projected: Float64Array; // [E], unnormalised
  embedding: Float64Array; // projected / ‖projected‖
}

/** One row: `ids` and its attention mask (open_clip derives it: ids ≠ pad). */
export function xlmrTextForward(wts: XlmrArchWeights, ids: ArrayLike<number>, mask: ArrayLike<number>): XlmrOut {
  const c = wts.config;
  const w = c.width;
  const d = w / c.heads;
  const pos = robertaPositionIds(ids, c.padId);
  let xs: Mat = Array.from(ids, (id, i) => {
    const e = new Float64Array(w);
    for (let k = 0; k < w; k++) e[k] = wts.wordEmb[id * w + k] + wts.posEmb[pos[i] * w + k] + wts.typeEmb[k];
    return layerNorm(e, wts.embLn.g, wts.embLn.b, EPS);
  });
  const keys = Array.from(mask, (m, j) => (m ? j : -1)).filter((j) => j >= 0);
  for (const l of wts.layers) {
    const q = xs.map((x) => lin(x, l.q));
    const k = xs.map((x) => lin(x, l.k));
    const v = xs.map((x) => lin(x, l.v));
    xs = xs.map((x, i) => {
      const a = new Float64Array(w);
      for (let h = 0; h < c.heads; h++) {
        const s = keys.map((j) => {
          let dot = 0;
          for (let t = 0; t < d; t++) dot += q[i][h * d + t] * k[j][h * d + t];
          return dot / Math.sqrt(d);
        });
        const max = Math.max(...s);
        const e = s.map((v) => Math.exp(v - max));
        const z = e.reduce((p, q) => p + q, 0);
        keys.forEach((j, n) => {
          for (let t = 0; t < d; t++) a[h * d + t] += (e[n] / z) * v[j][h * d + t];
        });
      }
      const x1 = layerNorm(add(x, lin(a, l.attnOut)), l.attnLn.g, l.attnLn.b, EPS);
      return layerNorm(add(x1, lin(lin(x1, l.fc1).map(gelu), l.fc2)), l.outLn.g, l.outLn.b, EPS);
    });
  }
  const pooled = c.pooler === 'cls' ? xs[0] : new Float64Array(w);
  if (c.pooler === 'mean') {
    let count = 0;
    xs.forEach((x, i) => {
      if (!mask[i]) return;
      count++;
      for (let k = 0; k < w; k++) pooled[k] += x[k];
    });
    for (let k = 0; k < w; k++) pooled[k] /= count;
  }
  const projected = lin(pooled, wts.proj);
  return { pooled, projected, embedding: normalise(projected) };
}

/**
 * An independent, deliberately plain forward pass of the CLIP architecture for one input, in float64
 * loops over the same weights: the oracle that the ONNX graphs of `src/fixtures/clip-arch.ts` are checked against.
 * Written from OpenAI's `clip/model.py`, not from our graph builder.
 */
import type { BlockWeights, ClipArchWeights } from '../../src/fixtures/clip-arch.js';

export type Mat = Float64Array[]; // rows

export function layerNorm(x: Float64Array, g: Float32Array, b: Float32Array, eps = 1e-5): Float64Array {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let varSum = 0;
  for (const v of x) varSum += (v - mean) ** 2;
  const inv = 1 / Math.sqrt(varSum / x.length + eps);
  return x.map((v, i) => (v - mean) * inv * g[i] + b[i]);
}

/** y = x · W + b with W stored [in, out]. */
export function linear(x: Float64Array, w: Float32Array, b: Float32Array | undefined, out: number): Float64Array {
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) y[o] = b ? b[o] : 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    for (let o = 0; o < out; o++) y[o] += xi * w[i * out + o];
  }
  return y;
}

/**
 * Multi-head attention core: for each head, softmax(q_i·k_j/√d) over j (j ≤ i when causal) times v.
 * `qs`, `ks`, `vs` are already projected rows of `width` values; returns the merged heads per query row.
 */
export function attend(qs: Mat, ks: Mat, vs: Mat, width: number, heads: number, causal: boolean): Mat {
  const d = width / heads;
  const out: Mat = qs.map(() => new Float64Array(width));
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < qs.length; i++) {
      const scores = new Float64Array(ks.length).fill(-Infinity);
      for (let j = 0; j < ks.length; j++) {
        if (causal && j > i) continue;
        let s = 0;
        for (let t = 0; t < d; t++) s += qs[i][h * d + t] * ks[j][h * d + t];
        scores[j] = s / Math.sqrt(d);
      }
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < ks.length; j++) {
        const a = e[j] / z;
        if (a === 0) continue;
        for (let t = 0; t < d; t++) out[i][h * d + t] += a * vs[j][h * d + t];
      }
    }
  }
  return out;
}

function block(xs: Mat, p: BlockWeights, width: number, heads: number, causal: boolean): Mat {
  const qkv = xs.map((x) => linear(layerNorm(x, p.ln1.g, p.ln1.b), p.qkvW, p.qkvB, 3 * width));
  const attnOut = attend(qkv.map((r) => r.subarray(0, width)), qkv.map((r) => r.subarray(width, 2 * width)), qkv.map((r) => r.subarray(2 * width)), width, heads, causal);
  return xs.map((x, i) => {
    const x1 = x.map((v, k) => v + linear(attnOut[i], p.outW, p.outB, width)[k]);
    const fc = linear(layerNorm(x1, p.ln2.g, p.ln2.b), p.fcW, p.fcB, 4 * width).map((v) => v / (1 + Math.exp(-1.702 * v)));
    const mlp = linear(fc, p.projW, p.projB, width);
    return x1.map((v, k) => v + mlp[k]);
  });
}

export function normalise(v: Float64Array): Float64Array {
  const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  return v.map((x) => x / n);
}

/** image: CHW float32 [3, S, S] → L2-normalised embedding [E]. */
export function visualForward(w: ClipArchWeights, image: Float32Array): Float64Array {
  const c = w.config;
  const S = c.imageSize;
  const P = c.patchSize;
  const grid = S / P;
  const width = c.visionWidth;
  const tokens: Mat = [Float64Array.from(w.visual.classEmb)];
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const t = new Float64Array(width);
      for (let o = 0; o < width; o++) {
        let s = 0;
        for (let ch = 0; ch < 3; ch++)
          for (let ky = 0; ky < P; ky++)
            for (let kx = 0; kx < P; kx++)
              s += w.visual.conv[((o * 3 + ch) * P + ky) * P + kx] * image[(ch * S + gy * P + ky) * S + gx * P + kx];
        t[o] = s;
      }
      tokens.push(t);
    }
  }
  let xs: Mat = tokens.map((t, i) => layerNorm(t.map((v, k) => v + w.visual.posEmb[i * width + k]), w.visual.lnPre.g, w.visual.lnPre.b));
  for (const b of w.visual.blocks) xs = block(xs, b, width, c.visionHeads, false);
  const pooled = layerNorm(xs[0], w.visual.lnPost.g, w.visual.lnPost.b);
  return normalise(linear(pooled, w.visual.proj, undefined, c.embedDim));
}

/** ids: one row of token ids [ctx] → L2-normalised embedding [E]. */
export function textForward(w: ClipArchWeights, ids: ArrayLike<number>): Float64Array {
  const c = w.config;
  const width = c.textWidth;
  let xs: Mat = Array.from(ids, (id, i) => {
    const t = new Float64Array(width);
    for (let k = 0; k < width; k++) t[k] = w.text.tokenEmb[id * width + k] + w.text.posEmb[i * width + k];
    return t;
  });
  for (const b of w.text.blocks) xs = block(xs, b, width, c.textHeads, true);
  let eot = 0;
  for (let i = 1; i < ids.length; i++) if (ids[i] > ids[eot]) eot = i;
  const pooled = layerNorm(xs[eot], w.text.lnFinal.g, w.text.lnFinal.b);
  return normalise(linear(pooled, w.text.proj, undefined, c.embedDim));
}

/**
 * An independent, deliberately plain float64 forward pass of the SigLIP architecture for one input,
 * over the weights of `src/fixtures/siglip-arch.ts`: the oracle its ONNX graphs are checked against.
 * Written from transformers' `modeling_siglip.py` (SiglipVisionEmbeddings, SiglipEncoderLayer,
 * SiglipMultiheadAttentionPoolingHead, SiglipTextTransformer, SiglipModel.forward), not from the graph
 * builder; shares only the generic loops (LayerNorm, linear, attention core) with clip-forward.ts.
 */
import type { LinearWeights, MlpWeights, SiglipArchWeights, SiglipLayerWeights } from '../../src/fixtures/siglip-arch.js';
import { attend, layerNorm, linear, normalise, type Mat } from './clip-forward.js';

const EPS = 1e-6;

const lin = (x: Float64Array, p: LinearWeights): Float64Array => linear(x, p.w, p.b, p.out);

/** gelu_pytorch_tanh */
const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

const mlp = (x: Float64Array, p: MlpWeights): Float64Array => lin(lin(x, p.fc1).map(gelu), p.fc2);

const add = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + b[i]);

function encoderLayer(xs: Mat, p: SiglipLayerWeights, heads: number): Mat {
  const w = p.q.in;
  const hs = xs.map((x) => layerNorm(x, p.ln1.g, p.ln1.b, EPS));
  const attn = attend(hs.map((h) => lin(h, p.q)), hs.map((h) => lin(h, p.k)), hs.map((h) => lin(h, p.v)), w, heads, false);
  return xs.map((x, i) => {
    const x1 = add(x, lin(attn[i], p.out));
    return add(x1, mlp(layerNorm(x1, p.ln2.g, p.ln2.b, EPS), p.mlp));
  });
}

export interface SiglipVisionOut {
  lastHidden: Mat; // [grid², w]
  pooled: Float64Array; // [w], unnormalised (HF pooler_output)
  embedding: Float64Array; // pooled / ‖pooled‖
}

/** image: CHW float32 [3, S, S]. */
export function siglipVisionForward(wts: SiglipArchWeights, image: Float32Array): SiglipVisionOut {
  const c = wts.config;
  const S = c.imageSize;
  const P = c.patchSize;
  const grid = S / P;
  const w = c.visionWidth;
  const v = wts.vision;
  const tokens: Mat = [];
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const t = new Float64Array(w);
      for (let o = 0; o < w; o++) {
        let s = v.patchB[o];
        for (let ch = 0; ch < 3; ch++)
          for (let ky = 0; ky < P; ky++)
            for (let kx = 0; kx < P; kx++) s += v.patchW[((o * 3 + ch) * P + ky) * P + kx] * image[(ch * S + gy * P + ky) * S + gx * P + kx];
        const idx = gy * grid + gx;
        t[o] = s + v.posEmb[idx * w + o];
      }
      tokens.push(t);
    }
  }
  let xs = tokens;
  for (const l of v.layers) xs = encoderLayer(xs, l, c.visionHeads);
  const lastHidden = xs.map((x) => layerNorm(x, v.postLn.g, v.postLn.b, EPS));
  // torch.nn.MultiheadAttention(probe, h, h): in_proj rows split into q, k, v (here columns of [w, 3w]).
  const hd = v.head;
  const qkvOf = (x: Float64Array) => lin(x, hd.inProj);
  const q = qkvOf(Float64Array.from(hd.probe)).subarray(0, w);
  const kv = lastHidden.map(qkvOf);
  const [a] = attend([q], kv.map((r) => r.subarray(w, 2 * w)), kv.map((r) => r.subarray(2 * w)), w, c.visionHeads, false);
  const h = lin(a, hd.outProj);
  const pooled = add(h, mlp(layerNorm(h, hd.ln.g, hd.ln.b, EPS), hd.mlp));
  return { lastHidden, pooled, embedding: normalise(pooled) };
}

export interface SiglipTextOut {
  lastHidden: Mat; // [L, tw]
  pooled: Float64Array; // [w], unnormalised (HF pooler_output)
  embedding: Float64Array;
}

/** ids: one row of token ids (any length ≤ context; SigLIP is fed exactly 64). */
export function siglipTextForward(wts: SiglipArchWeights, ids: ArrayLike<number>): SiglipTextOut {
  const c = wts.config;
  const tw = c.textWidth;
  const t = wts.text;
  let xs: Mat = Array.from(ids, (id, i) => {
    const e = new Float64Array(tw);
    for (let k = 0; k < tw; k++) e[k] = t.tokenEmb[id * tw + k] + t.posEmb[i * tw + k];
    return e;
  });
  for (const l of t.layers) xs = encoderLayer(xs, l, c.textHeads);
  const lastHidden = xs.map((x) => layerNorm(x, t.finalLn.g, t.finalLn.b, EPS));
  const pooled = lin(lastHidden[lastHidden.length - 1], t.head);
  return { lastHidden, pooled, embedding: normalise(pooled) };
}

/** SiglipModel: logits_per_text[t][i] = exp(logit_scale)·cos(text_t, image_i) + logit_bias. */
export function siglipLogitsPerText(wts: SiglipArchWeights, texts: Float64Array[], images: Float64Array[]): number[][] {
  const scale = Math.exp(wts.logitScale);
  return texts.map((t) => images.map((im) => scale * t.reduce((s, v, k) => s + v * im[k], 0) + wts.logitBias));
}

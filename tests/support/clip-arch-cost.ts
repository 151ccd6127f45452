/**
 * Parameters and FLOPs of the CLIP fixture architecture (src/fixtures/clip-arch.ts) by hand formula, from
 * its config alone: the oracle for what src/models/cost-graph.ts reads out of the graphs.
 */
import type { ClipArchConfig } from '../../src/fixtures/clip-arch.js';

// A pre-LN block of width w: ln_1, ln_2 (2w each), in_proj (3w² + 3w), out_proj (w² + w), c_fc (4w² + 4w),
// c_proj (4w² + w) and two scalar constants (the 1/√d scale, QuickGELU's 1.702).
const blockParams = (w: number) => 12 * w * w + 13 * w + 2;
// On T tokens: the four linears 2·T·w·(3w + w + 4w + 4w); q·kᵀ and attn·v 2·2·T²·w over all heads.
const blockFlops = (w: number, T: number) => 24 * T * w * w + 4 * T * T * w;

export function clipArchCost(c: ClipArchConfig): { visual: { parameters: number; flops: number }; text: { parameters: number; flops: number } } {
  const grid = c.imageSize / c.patchSize;
  const T = grid * grid + 1;
  const vw = c.visionWidth;
  const tw = c.textWidth;
  const L = c.contextLength;
  return {
    visual: {
      // patch conv, class embedding, positional embedding, ln_pre, blocks, ln_post, projection
      parameters: vw * 3 * c.patchSize ** 2 + vw + T * vw + 2 * vw + c.visionLayers * blockParams(vw) + 2 * vw + vw * c.embedDim,
      flops: 2 * vw * grid * grid * 3 * c.patchSize ** 2 + c.visionLayers * blockFlops(vw, T) + 2 * vw * c.embedDim,
    },
    text: {
      // token and positional embeddings, the L×L causal mask buffer, blocks, ln_final, projection, OneHot's 2 values
      parameters: c.vocabSize * tw + L * tw + L * L + c.textLayers * blockParams(tw) + 2 * tw + tw * c.embedDim + 2,
      // full context; the end-of-text pooling is a [1, L]·[L, w] MatMul
      flops: c.textLayers * blockFlops(tw, L) + 2 * L * tw + 2 * tw * c.embedDim,
    },
  };
}

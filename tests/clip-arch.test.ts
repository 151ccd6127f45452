import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { CLIP_ARCH_SIZES, clipTextualGraph, clipVisualGraph, randomClipWeights } from '../src/fixtures/clip-arch.js';
import { mulberry32, normalArray } from '../src/fixtures/random.js';
import { textForward, visualForward } from './support/clip-forward.js';

const config = { ...CLIP_ARCH_SIZES.tiny, vocabSize: 600 };
const weights = randomClipWeights(config, 1234);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('random-weight CLIP architecture (tiny) against an independent forward pass', () => {
  it('image tower: ONNX embedding of a batch of 2 equals the float64 oracle per row', async () => {
    const session = await ort.InferenceSession.create(clipVisualGraph(weights).toBytes());
    const S = config.imageSize;
    const images = normalArray(mulberry32(7), 2 * 3 * S * S, 1);
    const out = await session.run({ image: new ort.Tensor('float32', images, [2, 3, S, S]) });
    expect(out.embedding.dims).toEqual([2, config.embedDim]);
    const got = out.embedding.data as Float32Array;
    for (let r = 0; r < 2; r++) {
      const want = visualForward(weights, images.subarray(r * 3 * S * S, (r + 1) * 3 * S * S));
      // float32 accumulation over 3·32·32-term convolutions and 2 blocks: ~1e-6 relative; 1e-4 leaves room, not slack for bugs
      expect(maxAbsDiff(got.subarray(r * config.embedDim, (r + 1) * config.embedDim), want)).toBeLessThan(1e-4);
    }
    // the two different images really give different embeddings (the tower reads pixels)
    expect(maxAbsDiff(got.subarray(0, config.embedDim), got.subarray(config.embedDim))).toBeGreaterThan(1e-2);
  });

  it('text tower: causal mask and end-of-text pooling match the oracle; padding after EOT changes nothing', async () => {
    const session = await ort.InferenceSession.create(clipTextualGraph(weights).toBytes());
    const L = config.contextLength;
    const eot = config.vocabSize - 1;
    const rows = [
      [eot - 1, 5, 17, 300, eot],
      [eot - 1, 42, eot],
    ];
    const ids = new Int32Array(rows.length * L);
    rows.forEach((r, i) => ids.set(r, i * L));
    const out = await session.run({ text: new ort.Tensor('int32', ids, [rows.length, L]) });
    const got = out.embedding.data as Float32Array;
    rows.forEach((_, i) => {
      const want = textForward(weights, ids.subarray(i * L, (i + 1) * L));
      expect(maxAbsDiff(got.subarray(i * config.embedDim, (i + 1) * config.embedDim), want)).toBeLessThan(1e-4);
    });
    // causality: tokens after EOT must not influence the pooled output
    const noisy = ids.slice();
    noisy.fill(7, 10, L);
    const out2 = await session.run({ text: new ort.Tensor('int32', noisy, [rows.length, L]) });
    expect(maxAbsDiff(out2.embedding.data as Float32Array, got)).toBeLessThan(1e-6);
  });

  it('int64 ids give the same text embeddings as int32', async () => {
    const s32 = await ort.InferenceSession.create(clipTextualGraph(weights).toBytes());
    const s64 = await ort.InferenceSession.create(clipTextualGraph(weights, { input: 'input_ids', output: 'text_embeds', dtype: 'int64' }).toBytes());
    const L = config.contextLength;
    const ids = new Int32Array(L);
    ids.set([598, 3, 4, 599]);
    const a = await s32.run({ text: new ort.Tensor('int32', ids, [1, L]) });
    const b = await s64.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(Array.from(ids, BigInt)), [1, L]) });
    expect(Array.from(b.text_embeds.data as Float32Array)).toEqual(Array.from(a.embedding.data as Float32Array));
  });
});

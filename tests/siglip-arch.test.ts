/**
 * The random-weight SigLIP (src/fixtures/siglip-arch.ts), as written in its export layouts, against the
 * independent float64 forward pass of tests/support/siglip-forward.ts: vision (MAP head), text (no
 * causal mask, last-position pooling), and the combined graph's logits = exp(scale)·cos + bias.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32, normalArray } from '../src/fixtures/random.js';
import { siglipEmbedDim } from '../src/fixtures/siglip-arch.js';
import { writeSiglipFixture, type SiglipFixture } from '../src/fixtures/siglip-layouts.js';
import { siglipLogitsPerText, siglipTextForward, siglipVisionForward } from './support/siglip-forward.js';

const TEXTS = ['a photo of a red square.', 'a blue circle'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'siglip-arch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Relative tolerance (max |ONNX − float64| over max |float64|): float32 rounding through two layers
 * and the head measures ≤ 1.1e-6 here. 2e-5 leaves room for the runtime's summation order and still
 * catches CLIP's LayerNorm eps (1e-5 instead of SigLIP's 1e-6), which moves the outputs by ≥ 6e-4
 * relative with these weights (siglip-arch.ts keeps the embeddings small for that).
 */
const REL_TOL = 2e-5;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
  }
  expect(diff / scale, what).toBeLessThan(REL_TOL);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const flat = (rows: Float64Array[]) => Float64Array.from(rows.flatMap((r) => Array.from(r)));
const session = (dir: string, rel: string) => ort.InferenceSession.create(readFileSync(path.join(dir, rel)));

async function fixture(layout: Parameters<typeof writeSiglipFixture>[1]): Promise<{ dir: string; fx: SiglipFixture }> {
  const dir = path.join(tmp, layout);
  return { dir, fx: await writeSiglipFixture(dir, layout, TEXTS, { seed: 42 }) };
}

/** Two ids rows of 64 with random content ids, `</s>` = 1 after the content and 1 as padding, as SigLIP is fed. */
function idsRows(vocab: number, lengths: number[]): number[][] {
  const rand = mulberry32(9);
  return lengths.map((n) => Array.from({ length: 64 }, (_, i) => (i < n ? 3 + Math.floor(rand() * (vocab - 3)) : 1)));
}

describe('random-weight SigLIP (tiny) against an independent float64 forward pass', () => {
  it('vision (HF split): last_hidden_state and the MAP head pooler_output per row of a batch of 2, unnormalised', async () => {
    const { dir, fx } = await fixture('hf-split');
    const c = fx.config;
    const S = c.imageSize;
    const images = normalArray(mulberry32(7), 2 * 3 * S * S, 1);
    const s = await session(dir, 'onnx/vision_model.onnx');
    expect(s.inputNames).toEqual(['pixel_values']);
    const out = await s.run({ pixel_values: new ort.Tensor('float32', images, [2, 3, S, S]) });
    const grid2 = (S / c.patchSize) ** 2;
    expect(out.last_hidden_state.dims).toEqual([2, grid2, c.visionWidth]);
    expect(out.pooler_output.dims).toEqual([2, siglipEmbedDim(c)]);
    const E = siglipEmbedDim(c);
    for (let r = 0; r < 2; r++) {
      const want = siglipVisionForward(fx.weights, images.subarray(r * 3 * S * S, (r + 1) * 3 * S * S));
      const hid = (out.last_hidden_state.data as Float32Array).subarray(r * grid2 * c.visionWidth, (r + 1) * grid2 * c.visionWidth);
      expectClose(hid, flat(want.lastHidden), `last_hidden_state row ${r}`);
      const pooled = (out.pooler_output.data as Float32Array).subarray(r * E, (r + 1) * E);
      expectClose(pooled, want.pooled, `pooler_output row ${r}`);
      // HF's pooler_output is not normalised: its norm is whatever the head gives, not 1
      expect(Math.abs(Math.hypot(...pooled) - 1)).toBeGreaterThan(0.05);
    }
    const p = out.pooler_output.data as Float32Array;
    expect(maxAbsDiff(p.subarray(0, E), p.subarray(E))).toBeGreaterThan(1e-2); // the tower reads pixels
  });

  it('vision (Immich): `image` → `embedding` is the oracle pooled output, L2-normalised; batch-1 export has a fixed batch', async () => {
    const { dir, fx } = await fixture('immich');
    const S = fx.config.imageSize;
    const image = normalArray(mulberry32(8), 3 * S * S, 1);
    const out = await (await session(dir, 'visual/model.onnx')).run({ image: new ort.Tensor('float32', image, [1, 3, S, S]) });
    expectClose(out.embedding.data as Float32Array, siglipVisionForward(fx.weights, image).embedding, 'embedding');
    const b1 = await fixture('immich-batch1');
    const s1 = await session(b1.dir, 'visual/model.onnx');
    await expect(s1.run({ image: new ort.Tensor('float32', normalArray(mulberry32(8), 2 * 3 * S * S, 1), [2, 3, S, S]) })).rejects.toThrow();
  });

  it('text (HF split): int64 input_ids of 64, no causal mask, pooled at position 63 through the head', async () => {
    const { dir, fx } = await fixture('hf-split');
    const c = fx.config;
    const rows = idsRows(c.vocabSize, [6, 63]);
    const s = await session(dir, 'onnx/text_model.onnx');
    expect(s.inputNames).toEqual(['input_ids']); // optimum's SigLIP text export has no attention_mask
    const run = async (rs: number[][]) => (await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(rs.flat().map(BigInt)), [rs.length, rs[0].length]) }));
    const out = await run(rows);
    const E = siglipEmbedDim(c);
    const L = 64;
    rows.forEach((row, r) => {
      const want = siglipTextForward(fx.weights, row);
      expectClose((out.last_hidden_state.data as Float32Array).subarray(r * L * c.textWidth, (r + 1) * L * c.textWidth), flat(want.lastHidden), `last_hidden_state row ${r}`);
      expectClose((out.pooler_output.data as Float32Array).subarray(r * E, (r + 1) * E), want.pooled, `pooler_output row ${r}`);
    });

    // What sits at position 63 is what gets pooled: a pad there instead of a content id changes the output …
    const changed = rows.map((r) => [...r.slice(0, 63), 5]);
    const out2 = await run(changed);
    const delta = maxAbsDiff((out2.pooler_output.data as Float32Array).subarray(0, E), (out.pooler_output.data as Float32Array).subarray(0, E));
    expect(delta).toBeGreaterThan(1e-2);
    expectClose((out2.pooler_output.data as Float32Array).subarray(0, E), siglipTextForward(fx.weights, changed[0]).pooled, 'pooler_output after changing position 63');
    // … and, with no causal mask, it reaches back to position 0's hidden state too
    expect(maxAbsDiff((out2.last_hidden_state.data as Float32Array).subarray(0, c.textWidth), (out.last_hidden_state.data as Float32Array).subarray(0, c.textWidth))).toBeGreaterThan(1e-3);

    // Padding to the longest prompt instead of to 64 (a known silent SigLIP error) gives another embedding.
    const short = [rows[0].slice(0, 7)];
    const out3 = await run(short);
    expectClose(out3.pooler_output.data as Float32Array, siglipTextForward(fx.weights, short[0]).pooled, 'pooler_output of a 7-long row');
    expect(maxAbsDiff(out3.pooler_output.data as Float32Array, (out.pooler_output.data as Float32Array).subarray(0, E))).toBeGreaterThan(1e-2);
  });

  it('text (Immich): int32 `text` [1, 64] → `embedding`, the normalised oracle', async () => {
    const { dir, fx } = await fixture('immich-batch1');
    const [row] = idsRows(fx.config.vocabSize, [9]);
    const s = await session(dir, 'textual/model.onnx');
    const out = await s.run({ text: new ort.Tensor('int32', Int32Array.from(row), [1, 64]) });
    expectClose(out.embedding.data as Float32Array, siglipTextForward(fx.weights, row).embedding, 'embedding');
    expect(Math.hypot(...(out.embedding.data as Float32Array))).toBeCloseTo(1, 5);
  });

  it('combined (HF): logits_per_text = exp(logit_scale)·cos + logit_bias from the oracle embeddings; logits_per_image is its transpose', async () => {
    const { dir, fx } = await fixture('hf-combined');
    const c = fx.config;
    const S = c.imageSize;
    const images = normalArray(mulberry32(11), 2 * 3 * S * S, 1);
    const rows = idsRows(c.vocabSize, [4, 10, 30]);
    const s = await session(dir, 'onnx/model.onnx');
    const out = await s.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [3, 64]),
      pixel_values: new ort.Tensor('float32', images, [2, 3, S, S]),
    });
    const textEmb = rows.map((r) => siglipTextForward(fx.weights, r).embedding);
    const imageEmb = [0, 1].map((i) => siglipVisionForward(fx.weights, images.subarray(i * 3 * S * S, (i + 1) * 3 * S * S)).embedding);
    expectClose(out.text_embeds.data as Float32Array, flat(textEmb), 'text_embeds');
    expectClose(out.image_embeds.data as Float32Array, flat(imageEmb), 'image_embeds');
    const perText = siglipLogitsPerText(fx.weights, textEmb, imageEmb);
    expect(out.logits_per_text.dims).toEqual([3, 2]);
    expect(out.logits_per_image.dims).toEqual([2, 3]);
    // logits are ~−10…−16 + ~100·cos: an absolute 1e-3 is 1e-4 of their size
    const lpt = out.logits_per_text.data as Float32Array;
    const lpi = out.logits_per_image.data as Float32Array;
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < 2; i++) {
        expect(Math.abs(lpt[t * 2 + i] - perText[t][i])).toBeLessThan(1e-3);
        expect(lpi[i * 3 + t]).toBe(lpt[t * 2 + i]);
      }
    }
    // the bias is the weights' own, not open_clip's init of −10 (the fixture draws it elsewhere)
    expect(fx.weights.logitBias).toBeLessThan(-10);
  });
});

/** Every file under `dir`, relative, sorted. */
const filesOf = (dir: string): string[] => (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
const readJson = (dir: string, rel: string) => JSON.parse(readFileSync(path.join(dir, rel), 'utf8')) as Record<string, any>;

describe('SigLIP layout files (names and fields as issue 16 and the real exports give them)', () => {
  it('Immich: towers, textual tokenizer files, open_clip config with init_logit_bias, squash/bicubic/0.5 preprocess_cfg', async () => {
    const { dir, fx } = await fixture('immich');
    expect(filesOf(dir)).toEqual(['config.json', 'textual/model.onnx', 'textual/special_tokens_map.json', 'textual/tokenizer.json', 'textual/tokenizer_config.json', 'visual/model.onnx', 'visual/preprocess_cfg.json']);
    const cfg = readJson(dir, 'config.json');
    expect(cfg.init_logit_bias).toBe(-10);
    expect(cfg.embed_dim).toBe(siglipEmbedDim(fx.config));
    expect(cfg.text_cfg).toMatchObject({ context_length: 64, vocab_size: fx.config.vocabSize, tokenizer_kwargs: { clean: 'canonicalize' }, pool_type: 'last', no_causal_mask: true, proj_bias: true });
    expect(readJson(dir, 'visual/preprocess_cfg.json')).toMatchObject({ size: [224, 224], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bicubic', resize_mode: 'squash' });
    expect(readJson(dir, 'textual/tokenizer_config.json')).toMatchObject({ tokenizer_class: 'T5Tokenizer', model_max_length: 64, eos_token: '</s>', pad_token: '</s>' });
    const t = await session(dir, 'textual/model.onnx');
    expect([t.inputNames, t.outputNames]).toEqual([['text'], ['embedding']]);
  });

  it('HF split and combined: graph names, SiglipTokenizer, SiglipImageProcessor (resample 3, or 2 when asked), model_type siglip, spiece.model beside', async () => {
    const split = await fixture('hf-split');
    expect(filesOf(split.dir)).toEqual(['config.json', 'onnx/text_model.onnx', 'onnx/vision_model.onnx', 'preprocessor_config.json', 'special_tokens_map.json', 'spiece.model', 'tokenizer.json', 'tokenizer_config.json']);
    const v = await session(split.dir, 'onnx/vision_model.onnx');
    expect(v.outputNames).toEqual(['last_hidden_state', 'pooler_output']);
    expect(readJson(split.dir, 'tokenizer_config.json')).toMatchObject({ tokenizer_class: 'SiglipTokenizer', model_max_length: 64, do_lower_case: true });
    expect(readJson(split.dir, 'preprocessor_config.json')).toMatchObject({ image_processor_type: 'SiglipImageProcessor', resample: 3, size: { height: 224, width: 224 }, image_mean: [0.5, 0.5, 0.5] });
    expect(readJson(split.dir, 'config.json')).toMatchObject({ model_type: 'siglip', text_config: { max_position_embeddings: 64, vocab_size: split.fx.config.vocabSize } });
    const bilinear = path.join(tmp, 'hf-split-bilinear');
    await writeSiglipFixture(bilinear, 'hf-split', TEXTS, { resample: 2 });
    expect(readJson(bilinear, 'preprocessor_config.json').resample).toBe(2);
    const comb = await fixture('hf-combined');
    const s = await session(comb.dir, 'onnx/model.onnx');
    expect([...s.inputNames].sort()).toEqual(['input_ids', 'pixel_values']);
    expect(s.outputNames).toEqual(['logits_per_image', 'logits_per_text', 'text_embeds', 'image_embeds']);
  });
});

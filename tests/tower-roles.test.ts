/**
 * Role resolution on graph signatures: known names win in their order, never-embeddings are never
 * picked, a lone tensor of the right shape is taken (and said), several are refused.
 */
import { describe, expect, it } from 'vitest';
import type { TensorSignature } from '../src/models/onnx-session.js';
import { resolveTowerIO, TOWER_ROLE_NAMES, type TowerRequest } from '../src/models/tower-roles.js';
import { usageFailureSync } from './support/usage-failure.js';

const sig = (name: string, type: string, ...shape: (number | string)[]): TensorSignature => ({ name, type, shape });
const pixels = sig('pixel_values', 'float32', 'b', 3, 224, 224);
const ids = sig('input_ids', 'int64', 'b', 'l');
const open: TowerRequest = { inputs: [], outputs: [] };
const outName = (outs: TensorSignature[], kind: 'image' | 'text', ins = kind === 'image' ? [pixels] : [ids]) => resolveTowerIO(ins, outs, kind, open, 'm.onnx').output?.name;

describe('embedding outputs', () => {
  it('a combined graph: each tower takes its own embedding, never the logits', () => {
    const outs = [sig('logits_per_image', 'float32', 'i', 't'), sig('logits_per_text', 'float32', 't', 'i'), sig('text_embeds', 'float32', 't', 8), sig('image_embeds', 'float32', 'i', 8)];
    expect(outName(outs, 'image', [ids, pixels])).toBe('image_embeds');
    expect(outName(outs, 'text', [ids, pixels])).toBe('text_embeds');
  });

  it('known names in table order: image_embeds before pooler_output; last_hidden_state never', () => {
    expect(outName([sig('last_hidden_state', 'float32', 'b', 50, 8), sig('pooler_output', 'float32', 'b', 8), sig('image_embeds', 'float32', 'b', 8)], 'image')).toBe('image_embeds');
    expect(outName([sig('last_hidden_state', 'float32', 'b', 64, 8), sig('pooler_output', 'float32', 'b', 8)], 'text')).toBe('pooler_output');
    expect(outName([sig('last_hidden_state', 'float32', 'b', 8)], 'image')).toBeUndefined();
    expect(TOWER_ROLE_NAMES.imageEmbedding.map((e) => e.name).indexOf('image_embeds')).toBeLessThan(TOWER_ROLE_NAMES.imageEmbedding.map((e) => e.name).indexOf('pooler_output'));
  });

  it('a known name on a rank-3 tensor is passed over', () => {
    expect(outName([sig('embedding', 'float32', 'b', 50, 8), sig('image_embedding', 'float32', 'b', 8)], 'image')).toBe('image_embedding');
  });

  it('only logits: no embedding at all (the caller refuses)', () => {
    expect(outName([sig('logits_per_image', 'float32', 'i', 't')], 'image')).toBeUndefined();
  });

  it('a name the layout asks for comes before the table', () => {
    const outs = [sig('embedding', 'float32', 'b', 8), sig('features', 'float32', 'b', 8)];
    expect(resolveTowerIO([pixels], outs, 'image', { inputs: [], outputs: ['features'] }, 'm.onnx').output?.name).toBe('features');
  });

  it('no known name: the only rank-2 float output is taken and noted; rank 3 and integer outputs do not count', () => {
    const r = resolveTowerIO([pixels], [sig('hidden', 'float32', 'b', 50, 8), sig('count', 'int64', 'b', 1), sig('out', 'float32', 'b', 8)], 'image', open, 'm.onnx');
    expect(r.output?.name).toBe('out');
    expect(r.notes).toEqual(['image embedding: output "out", the graph\'s only rank-2 float output (no known name)']);
  });

  it('several unnamed candidates: refused, listing them, fix a manifest', () => {
    expect(usageFailureSync(() => resolveTowerIO([pixels], [sig('a', 'float32', 'b', 8), sig('b', 'float16', 'b', 8)], 'image', open, 'm.onnx'))).toBe(
      'm.onnx: several outputs could be the image embedding and none has a known name: a float32[b,8], b float16[b,8] — name the embedding output in a clip-bench.json manifest (see README)',
    );
  });
});

describe('inputs', () => {
  it('text: the attention mask is never the ids; an unnamed rank-2 integer input is', () => {
    const r = resolveTowerIO([sig('attention_mask', 'int64', 'b', 'l'), sig('tok', 'int64', 'b', 'l')], [sig('text_embeds', 'float32', 'b', 8)], 'text', open, 'm.onnx');
    expect(r.input?.name).toBe('tok');
    expect(r.mask?.name).toBe('attention_mask');
  });

  it('known input names: IMAGE, images, TEXT, text', () => {
    const out = [sig('y', 'float32', 'b', 8)];
    for (const n of ['image', 'pixel_values', 'IMAGE', 'images']) expect(resolveTowerIO([sig('x', 'float32', 'b', 3, 9, 9), sig(n, 'float32', 'b', 3, 9, 9)], out, 'image', open, 'm.onnx').input?.name).toBe(n);
    for (const n of ['text', 'input_ids', 'TEXT', 'tokens']) expect(resolveTowerIO([sig('x', 'int32', 'b', 77), sig(n, 'int32', 'b', 77)], out, 'text', open, 'm.onnx').input?.name).toBe(n);
  });

  it('two unnamed rank-4 float inputs: refused', () => {
    expect(usageFailureSync(() => resolveTowerIO([sig('a', 'float32', 1, 3, 9, 9), sig('b', 'float32', 1, 3, 9, 9)], [], 'image', open, 'm.onnx'))).toMatch(/several inputs could be the pixels and none has a known name: a float32\[1,3,9,9\], b float32\[1,3,9,9\]/);
  });
});

describe('a manifest', () => {
  it('uses exactly its names: nothing is resolved by role', () => {
    const r = resolveTowerIO([pixels], [sig('image_embeds', 'float32', 'b', 8)], 'image', { inputs: ['pixels'], outputs: ['features'], exact: true }, 'm.onnx');
    expect(r.input).toBeUndefined();
    expect(r.output).toBeUndefined();
  });
});

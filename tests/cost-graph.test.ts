import { describe, expect, it } from 'vitest';
import { CLIP_ARCH_SIZES, clipTextualGraph, clipVisualGraph, randomClipWeights } from '../src/fixtures/clip-arch.js';
import { OnnxGraph } from '../src/models/onnx/graph.js';
import { onnxGraphCost } from '../src/models/cost-graph.js';
import { clipArchCost } from './support/clip-arch-cost.js';

const config = { ...CLIP_ARCH_SIZES.tiny, vocabSize: 600 };
const weights = randomClipWeights(config, 1234);

describe('parameters and FLOPs read from ONNX graphs', () => {
  const c = config;

  it('tiny CLIP image tower: parameters and FLOPs per image equal the hand formula', () => {
    const { parameters: params, flops } = clipArchCost(c).visual;
    const cost = onnxGraphCost(clipVisualGraph(weights).toBytes(), 'image');
    expect(cost).toEqual({ parameters: params, flops });
    // a graph fixed at batch 1 costs the same; fp16 weights count the same parameters
    expect(onnxGraphCost(clipVisualGraph(weights, 1).toBytes())).toEqual({ parameters: params, flops });
    expect(onnxGraphCost(clipVisualGraph(weights).toBytes({ weights: 'float16' })).parameters).toBe(params);
  });

  it('tiny CLIP text tower at full context: parameters include the causal mask buffer; FLOPs per prompt', () => {
    const { parameters: params, flops } = clipArchCost(c).text;
    expect(onnxGraphCost(clipTextualGraph(weights).toBytes(), 'text')).toEqual({ parameters: params, flops });
  });

  it('a dynamic axis other than the batch makes FLOPs unknown, with the reason', () => {
    const g = new OnnxGraph('dyn');
    const x = g.input('x', 'float32', ['N', 'L', 8]);
    g.output(g.op('MatMul', [x, g.f32('w', new Float32Array(8 * 4), [8, 4])]), 'y', 'float32', ['N', 'L', 4]);
    const cost = onnxGraphCost(g.toBytes(), 'x');
    expect(cost.parameters).toBe(32);
    expect(cost.flops).toBeNull();
    expect(cost.flopsUnknown).toMatch(/input "x" has a dynamic axis/);
  });

  it('Gemm with transB and a padded, strided, grouped Conv: brute-force multiply-add count', () => {
    const g = new OnnxGraph('convgemm');
    const x = g.input('x', 'float32', ['N', 4, 9, 9]);
    // Conv 4→6 channels, group 2, kernel 3, stride 2, pads 1: output 5×5
    const conv = g.op('Conv', [x, g.f32('cw', new Float32Array(6 * 2 * 3 * 3), [6, 2, 3, 3])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 2 });
    const flat = g.op('Flatten', [conv], { axis: 1 }); // [1, 150]
    const y = g.op('Gemm', [flat, g.f32('gw', new Float32Array(7 * 150), [7, 150])], { transB: 1 });
    g.output(y, 'y', 'float32', ['N', 7]);
    // brute force: count multiply-adds by walking every output element and its receptive field (padding included, as onnxruntime computes it)
    let macs = 0;
    for (let co = 0; co < 6; co++) for (let oy = 0; oy < 5; oy++) for (let ox = 0; ox < 5; ox++) for (let ci = 0; ci < 2; ci++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) macs++;
    for (let o = 0; o < 7; o++) for (let i = 0; i < 150; i++) macs++;
    expect(onnxGraphCost(g.toBytes(), 'x')).toEqual({ parameters: 6 * 2 * 9 + 7 * 150, flops: 2 * macs });
  });
});

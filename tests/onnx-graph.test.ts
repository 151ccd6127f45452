import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { OnnxGraph } from '../src/models/onnx/graph.js';

describe('OnnxGraph writer', () => {
  it('writes a model onnxruntime loads and runs: y = relu(x·W + b), checked by hand', async () => {
    const g = new OnnxGraph('affine');
    const x = g.input('x', 'float32', ['N', 2]);
    const w = g.f32('W', [1, -2, 3, 0.5, 1, -1], [2, 3]);
    const b = g.f32('b', [0.5, 0, -10], [3]);
    const y = g.op('Relu', [g.op('Add', [g.op('MatMul', [x, w]), b])]);
    g.output(y, 'y', 'float32', ['N', 3]);
    const session = await ort.InferenceSession.create(g.toBytes());
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, -1, 0]), [2, 2]) });
    // row 1: [1,2]·W = [1+1, -2+2, 3-2] = [2, 0, 1]; + b = [2.5, 0, -9] -> relu [2.5, 0, 0]
    // row 2: [-1,0]·W = [-1, 2, -3]; + b = [-0.5, 2, -13] -> relu [0, 2, 0]
    expect(Array.from(out.y.data as Float32Array)).toEqual([2.5, 0, 0, 0, 2, 0]);
    expect(out.y.dims).toEqual([2, 3]);
  });

  it('writes int attributes, int64 initialisers and several outputs', async () => {
    const g = new OnnxGraph('split');
    const x = g.input('x', 'float32', [1, 4]);
    const [a, b] = g.opN('Split', [x, g.i64('sizes', [1, 3])], 2, { axis: 1 });
    g.output(a, 'a', 'float32', [1, 1]);
    g.output(g.op('ReduceSum', [b, g.i64('axes', [1])], { keepdims: 0 }), 's', 'float32', [1]);
    const session = await ort.InferenceSession.create(g.toBytes({ opset: 17 }));
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([5, 1, 2, 3]), [1, 4]) });
    expect(Array.from(out.a.data as Float32Array)).toEqual([5]);
    expect(Array.from(out.s.data as Float32Array)).toEqual([6]);
  });
});

/**
 * What a graph costs, read from the ONNX file itself: parameters (the elements of its floating-point
 * initializers) and FLOPs per input row (2 × multiply-adds of MatMul, Gemm and Conv, from static shapes
 * propagated through the graph with the batch axis set to 1). Where a MatMul/Gemm/Conv input's shape
 * cannot be known statically the FLOPs are `null` with the reason: no silent guess. (open_clip's model table
 * and fvcore count one FLOP per multiply-add, half of ours.)
 */
import { readFileSync } from 'node:fs';
import { modelType } from './onnx/graph.js';

/** TensorProto.DataType codes of floating-point element types: FLOAT, FLOAT16, DOUBLE, BFLOAT16. */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);
/** Integer tensors at most this long keep their values (shape arithmetic: Shape → Slice → Concat → Reshape). */
const MAX_VALUE = 64;

type Long = number | { toNumber(): number };
const num = (x: Long): number => (typeof x === 'number' ? x : x.toNumber());

interface TensorMsg { name: string; dims: Long[]; data_type: number; raw_data?: Uint8Array; int64_data?: Long[]; int32_data?: number[]; float_data?: number[] }
interface AttrMsg { name: string; type: number; i?: Long; f?: number; ints?: Long[]; floats?: number[]; t?: TensorMsg; s?: Uint8Array }
interface NodeMsg { op_type: string; input: string[]; output: string[]; attribute: AttrMsg[]; domain?: string }
interface DimMsg { dim_value?: Long; dim_param?: string }
interface ValueInfoMsg { name: string; type?: { tensor_type?: { shape?: { dim: DimMsg[] } } } }
interface GraphMsg { node: NodeMsg[]; initializer: TensorMsg[]; input: ValueInfoMsg[]; output: ValueInfoMsg[]; value_info?: ValueInfoMsg[] }

export interface GraphCost {
  /** elements of floating-point initializers: weights, plus constant buffers such as a causal mask */
  parameters: number;
  /** 2 × multiply-adds of MatMul/Gemm/Conv for one input row (batch axis 1); null when a shape is dynamic */
  flops: number | null;
  /** why `flops` is null */
  flopsUnknown?: string;
}

/** A value's static shape (null: unknown) and, for small integer tensors, its contents. */
interface Known { shape: number[] | null; value?: number[] }

const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function tensorValue(t: TensorMsg): number[] | undefined {
  const count = prod(t.dims.map(num));
  if (count > MAX_VALUE) return undefined;
  if (t.int64_data?.length) return t.int64_data.map(num);
  if (t.int32_data?.length) return [...t.int32_data];
  if (t.float_data?.length) return [...t.float_data];
  const raw = t.raw_data;
  if (!raw || raw.length === 0) return undefined;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const read: Record<number, [number, (o: number) => number]> = {
    1: [4, (o) => view.getFloat32(o, true)],
    6: [4, (o) => view.getInt32(o, true)],
    7: [8, (o) => Number(view.getBigInt64(o, true))],
    11: [8, (o) => view.getFloat64(o, true)],
  };
  const r = read[t.data_type];
  if (!r || raw.length !== r[0] * count) return undefined;
  return Array.from({ length: count }, (_, i) => r[1](i * r[0]));
}

/** numpy broadcasting of two shapes; null when either is unknown or they do not broadcast. */
function broadcast(a: number[] | null, b: number[] | null): number[] | null {
  if (!a || !b) return null;
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

const axisOf = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Where', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Max', 'Min', 'And', 'Or', 'Mod', 'PRelu']);
const SAME_SHAPE = new Set([
  'Identity', 'Cast', 'CastLike', 'Sigmoid', 'Relu', 'Erf', 'Tanh', 'Sqrt', 'Neg', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'Dropout', 'Gelu', 'Abs', 'Exp', 'Log', 'Reciprocal',
  'Not', 'Floor', 'Ceil', 'Round', 'Clip', 'BatchNormalization', 'InstanceNormalization', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Sign', 'IsNaN', 'IsInf', 'Sin', 'Cos', 'SimplifiedLayerNormalization',
]);
const REDUCE = new Set(['ReduceMean', 'ReduceL2', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare', 'ArgMax', 'ArgMin']);

/** Shape propagation and FLOP counting over one graph; `inputShapes` gives each graph input's static shape. */
export function graphFlops(graph: GraphMsg, inputShapes: Map<string, number[] | null>): { flops: number | null; unknown?: string } {
  const known = new Map<string, Known>();
  for (const [name, shape] of inputShapes) known.set(name, { shape });
  for (const t of graph.initializer) known.set(t.name, { shape: t.dims.map(num), value: tensorValue(t) });
  // shapes an exporter's own shape inference wrote down: used for ops this module does not model
  const declared = new Map<string, number[]>();
  for (const v of [...(graph.value_info ?? []), ...graph.output]) {
    const dims = v.type?.tensor_type?.shape?.dim;
    if (dims && dims.every((d) => d.dim_value !== undefined && num(d.dim_value) > 0)) declared.set(v.name, dims.map((d) => num(d.dim_value!)));
  }
  const get = (name: string | undefined): Known => (name ? known.get(name) ?? { shape: null } : { shape: null });
  const attrs = (n: NodeMsg) => new Map(n.attribute.map((a) => [a.name, a]));
  let flops = 0;
  for (const node of graph.node) {
    const a = attrs(node);
    const int = (k: string, d: number) => (a.has(k) ? num(a.get(k)!.i ?? 0) : d);
    const ints = (k: string) => a.get(k)?.ints?.map(num);
    const ins = node.input.map((i) => get(i));
    const x = ins[0] ?? { shape: null };
    const outs: Known[] = infer(node.op_type, node, ins, x, int, ints, a);
    if (['MatMul', 'Gemm', 'Conv'].includes(node.op_type)) {
      const cost = opFlops(node.op_type, ins, outs[0], int);
      if (cost === null) {
        const which = node.input.find((i) => !get(i).shape) ?? node.input[0];
        return { flops: null, unknown: `${node.op_type} input "${which}" has no static shape` };
      }
      flops += cost;
    }
    node.output.forEach((o, i) => {
      const k = outs[i] ?? { shape: null };
      known.set(o, k.shape ? k : { shape: declared.get(o) ?? null });
    });
  }
  return { flops };
}

type IntAttr = (k: string, d: number) => number;

function opFlops(op: string, ins: Known[], out: Known | undefined, int: IntAttr): number | null {
  const [A, B] = [ins[0]?.shape, ins[1]?.shape];
  if (!A || !B || !out?.shape) return null;
  if (op === 'MatMul') {
    const K = A.length === 1 ? A[0] : A[A.length - 1];
    return 2 * prod(out.shape) * K;
  }
  if (op === 'Gemm') {
    const K = int('transA', 0) ? A[0] : A[1];
    return 2 * prod(out.shape) * K;
  }
  // Conv: every output element is a dot product over (C_in / group) × kernel
  return 2 * prod(out.shape) * prod(B.slice(1));
}

function infer(op: string, node: NodeMsg, ins: Known[], x: Known, int: IntAttr, ints: (k: string) => number[] | undefined, a: Map<string, AttrMsg>): Known[] {
  const s = x.shape;
  const v = (i: number) => ins[i]?.value;
  if (SAME_SHAPE.has(op)) return [{ shape: s, value: op === 'Identity' || op === 'Cast' ? x.value : undefined }];
  if (ELEMENTWISE.has(op)) {
    const shape = op === 'Where' ? broadcast(broadcast(ins[0]?.shape ?? null, ins[1]?.shape ?? null), ins[2]?.shape ?? null) : broadcast(ins[0]?.shape ?? null, ins[1]?.shape ?? null);
    const [p, q] = [v(0), v(1)];
    const f: Record<string, (x: number, y: number) => number> = { Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y, Div: (x, y) => Math.trunc(x / y) };
    if (shape && p && q && f[op] && (p.length === q.length || p.length === 1 || q.length === 1)) {
      const n = Math.max(p.length, q.length);
      return [{ shape, value: Array.from({ length: n }, (_, i) => f[op](p[p.length === 1 ? 0 : i], q[q.length === 1 ? 0 : i])) }];
    }
    return [{ shape }];
  }
  switch (op) {
    case 'Constant': {
      const t = a.get('value')?.t;
      if (t) return [{ shape: t.dims.map(num), value: tensorValue(t) }];
      const vi = a.get('value_ints')?.ints;
      if (vi) return [{ shape: [vi.length], value: vi.map(num) }];
      if (a.has('value_int')) return [{ shape: [], value: [int('value_int', 0)] }];
      const vf = a.get('value_floats')?.floats;
      if (vf) return [{ shape: [vf.length], value: [...vf] }];
      if (a.has('value_float')) return [{ shape: [], value: [a.get('value_float')!.f ?? 0] }];
      return [{ shape: null }];
    }
    case 'Shape': {
      if (!s) return [{ shape: null }];
      const start = axisOf(int('start', 0), s.length);
      const end = a.has('end') ? axisOf(int('end', s.length), s.length) : s.length;
      const value = s.slice(start, end);
      return [{ shape: [value.length], value }];
    }
    case 'Size':
      return [{ shape: [], value: s ? [prod(s)] : undefined }];
    case 'ConstantOfShape':
      return [{ shape: v(0) ?? null }];
    case 'MatMul': {
      const B = ins[1]?.shape;
      if (!s || !B) return [{ shape: null }];
      const A2 = s.length === 1 ? [1, s[0]] : s;
      const B2 = B.length === 1 ? [B[0], 1] : B;
      if (A2[A2.length - 1] !== B2[B2.length - 2]) return [{ shape: null }];
      const batch = broadcast(A2.slice(0, -2), B2.slice(0, -2));
      if (!batch) return [{ shape: null }];
      const shape = [...batch, ...(s.length === 1 ? [] : [A2[A2.length - 2]]), ...(B.length === 1 ? [] : [B2[B2.length - 1]])];
      return [{ shape }];
    }
    case 'Gemm': {
      const B = ins[1]?.shape;
      if (!s || !B || s.length !== 2 || B.length !== 2) return [{ shape: null }];
      const M = int('transA', 0) ? s[1] : s[0];
      const N = int('transB', 0) ? B[0] : B[1];
      return [{ shape: [M, N] }];
    }
    case 'Conv':
    case 'MaxPool':
    case 'AveragePool': {
      const W = ins[1]?.shape;
      if (!s || (op === 'Conv' && !W)) return [{ shape: null }];
      const spatial = s.length - 2;
      const kernel = ints('kernel_shape') ?? (W ? W.slice(2) : undefined);
      if (!kernel) return [{ shape: null }];
      const strides = ints('strides') ?? Array(spatial).fill(1);
      const dil = ints('dilations') ?? Array(spatial).fill(1);
      const pads = ints('pads') ?? Array(2 * spatial).fill(0);
      const autoPad = a.get('auto_pad')?.s ? Buffer.from(a.get('auto_pad')!.s!).toString() : 'NOTSET';
      const ceil = int('ceil_mode', 0) ? Math.ceil : Math.floor;
      const out = s.slice(2).map((d, i) => {
        if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(d / strides[i]);
        const span = dil[i] * (kernel[i] - 1) + 1;
        const padded = autoPad === 'VALID' ? d : d + pads[i] + pads[i + spatial];
        return ceil((padded - span) / strides[i]) + 1;
      });
      return [{ shape: [s[0], op === 'Conv' ? W![0] : s[1], ...out] }];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return [{ shape: s ? [s[0], s[1], ...s.slice(2).map(() => 1)] : null }];
    case 'Flatten': {
      if (!s) return [{ shape: null }];
      const axis = axisOf(int('axis', 1), s.length);
      return [{ shape: [prod(s.slice(0, axis)), prod(s.slice(axis))] }];
    }
    case 'Reshape': {
      const target = v(1);
      if (!target) return [{ shape: null }];
      const allowZero = int('allowzero', 0);
      const dims = target.map((d, i) => (d === 0 && !allowZero ? s?.[i] ?? NaN : d));
      if (dims.some((d) => Number.isNaN(d))) return [{ shape: null }];
      const minus = dims.indexOf(-1);
      if (minus >= 0) {
        if (!s) return [{ shape: null }];
        dims[minus] = prod(s) / prod(dims.filter((d, i) => i !== minus));
        if (!Number.isInteger(dims[minus])) return [{ shape: null }];
      }
      return [{ shape: dims, value: x.value }];
    }
    case 'Transpose': {
      if (!s) return [{ shape: null }];
      const perm = ints('perm') ?? s.map((_, i) => s.length - 1 - i);
      return [{ shape: perm.map((p) => s[p]) }];
    }
    case 'Unsqueeze': {
      const axes = ints('axes') ?? v(1);
      if (!s || !axes) return [{ shape: null }];
      const rank = s.length + axes.length;
      const at = new Set(axes.map((ax) => axisOf(ax, rank)));
      const out: number[] = [];
      for (let i = 0, j = 0; i < rank; i++) out.push(at.has(i) ? 1 : s[j++]);
      return [{ shape: out, value: x.value }];
    }
    case 'Squeeze': {
      if (!s) return [{ shape: null }];
      const axes = ints('axes') ?? v(1);
      const at = new Set((axes ?? s.flatMap((d, i) => (d === 1 ? [i] : []))).map((ax) => axisOf(ax, s.length)));
      return [{ shape: s.filter((_, i) => !at.has(i)), value: x.value }];
    }
    case 'Concat': {
      const shapes = ins.map((k) => k.shape);
      if (shapes.some((sh) => !sh)) return [{ shape: null }];
      const axis = axisOf(int('axis', 0), shapes[0]!.length);
      const shape = [...shapes[0]!];
      shape[axis] = shapes.reduce((t, sh) => t + sh![axis], 0);
      const values = ins.map((k) => k.value);
      return [{ shape, value: shape.length === 1 && values.every((q) => q) ? values.flat() as number[] : undefined }];
    }
    case 'Gather': {
      const idx = ins[1];
      if (!s || !idx?.shape) return [{ shape: null }];
      const axis = axisOf(int('axis', 0), s.length);
      const shape = [...s.slice(0, axis), ...idx.shape, ...s.slice(axis + 1)];
      const value = s.length === 1 && x.value && idx.value ? idx.value.map((i) => x.value![i < 0 ? i + s[0] : i]) : undefined;
      return [{ shape, value }];
    }
    case 'Slice': {
      const [starts, ends] = [v(1), v(2)];
      if (!s || !starts || !ends) return [{ shape: null }];
      const axes = v(3) ?? starts.map((_, i) => i);
      const steps = v(4) ?? starts.map(() => 1);
      const shape = [...s];
      const ranges = s.map((d) => [0, d, 1]);
      axes.forEach((ax0, i) => {
        const ax = axisOf(ax0, s.length);
        const d = s[ax];
        const clamp = (q: number, lo: number, hi: number) => Math.min(Math.max(q, lo), hi);
        const step = steps[i];
        let st = starts[i] < 0 ? starts[i] + d : starts[i];
        let en = ends[i] < 0 ? ends[i] + d : ends[i];
        st = step > 0 ? clamp(st, 0, d) : clamp(st, 0, d - 1);
        en = step > 0 ? clamp(en, 0, d) : clamp(en, -1, d - 1);
        shape[ax] = Math.max(0, Math.ceil((en - st) / step));
        ranges[ax] = [st, en, step];
      });
      let value: number[] | undefined;
      if (s.length === 1 && x.value) {
        value = [];
        const [st, en, step] = ranges[0];
        for (let i = st; step > 0 ? i < en : i > en; i += step) value.push(x.value[i]);
      }
      return [{ shape, value }];
    }
    case 'Expand': {
      const target = v(1);
      return [{ shape: target ? broadcast(s, target) : null }];
    }
    case 'Split': {
      if (!s) return node.output.map(() => ({ shape: null }));
      const axis = axisOf(int('axis', 0), s.length);
      const n = node.output.length;
      const sizes = ints('split') ?? v(1) ?? (s[axis] % n === 0 ? Array(n).fill(s[axis] / n) : undefined);
      if (!sizes) return node.output.map(() => ({ shape: null }));
      return sizes.map((d) => {
        const shape = [...s];
        shape[axis] = d;
        return { shape };
      });
    }
    case 'OneHot': {
      const depth = v(1);
      if (!s || !depth) return [{ shape: null }];
      const shape = [...s];
      shape.splice(axisOf(int('axis', -1), s.length + 1), 0, depth[0]);
      return [{ shape }];
    }
    default:
      if (REDUCE.has(op)) {
        if (!s) return [{ shape: null }];
        const axes = ints('axes') ?? (op.startsWith('Arg') ? [int('axis', 0)] : v(1)) ?? s.map((_, i) => i);
        const at = new Set(axes.map((ax) => axisOf(ax, s.length)));
        const keep = int('keepdims', 1);
        return [{ shape: s.flatMap((d, i) => (at.has(i) ? (keep ? [1] : []) : [d])) }];
      }
      return node.output.map(() => ({ shape: null }));
  }
}

/** Parameters and per-row FLOPs of one ONNX file; the input named `rowInput` gets batch 1 on a dynamic first axis. */
export function onnxGraphCost(bytes: Uint8Array, rowInput?: string): GraphCost {
  const graph = modelType().decode(bytes) as unknown as { graph: GraphMsg };
  const g = graph.graph;
  let parameters = 0;
  for (const t of g.initializer) if (FLOAT_TYPES.has(t.data_type)) parameters += prod(t.dims.map(num));
  const inits = new Set(g.initializer.map((t) => t.name));
  const inputShapes = new Map<string, number[] | null>();
  let dynamic: string | undefined;
  for (const input of g.input) {
    if (inits.has(input.name)) continue;
    const dims = input.type?.tensor_type?.shape?.dim ?? [];
    const shape = dims.map((d, i) => (d.dim_value !== undefined && num(d.dim_value) > 0 ? num(d.dim_value) : i === 0 && (!rowInput || input.name === rowInput) ? 1 : NaN));
    if (shape.some((d) => Number.isNaN(d))) {
      dynamic ??= `input "${input.name}" has a dynamic axis other than the batch: [${dims.map((d) => d.dim_param ?? num(d.dim_value ?? 0)).join(',')}]`;
      inputShapes.set(input.name, null);
    } else inputShapes.set(input.name, shape);
  }
  const r = graphFlops(g, inputShapes);
  if (r.flops === null) return { parameters, flops: null, flopsUnknown: dynamic ?? r.unknown };
  return { parameters, flops: r.flops };
}

export function onnxFileCost(file: string, rowInput?: string): GraphCost {
  return onnxGraphCost(readFileSync(file), rowInput);
}

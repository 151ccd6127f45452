/**
 * A model whose text tower echoes what it was fed, so that the feeding is visible in the embeddings:
 * `[1, fed length, mask sum (0 without a mask input), Σ (id mod 1009), last id, first id]`, L2-normalised
 * like every export (divide by component 0 to read the numbers back). The ids also go through an
 * embedding table of `vocab` rows and the fed length through a position table of `positions` rows, both
 * zeros, so that ids past the table and rows longer than the positions fail as in a real text tower.
 * The image tower is a fixed random projection of the pixels. Written in Immich's folder layout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OnnxGraph, type OnnxDtype } from '../../src/models/onnx/graph.js';
import { mulberry32, normalArray } from '../../src/fixtures/random.js';
import { OPENAI_PREPROCESS_CFG } from '../../src/fixtures/model-layouts.js';

export const ECHO_DIM = 6;
export const ECHO_MOD = 1009;
const IMAGE_SIZE = 8;

export interface EchoTextOptions {
  input?: string;
  dtype?: OnnxDtype;
  /** the graph's batch axis: a number (Immich's static 1) or dynamic */
  batch?: number | 'batch';
  /** a fixed sequence length, or dynamic */
  seq: number | 'sequence';
  /** name of an attention-mask input, if the graph takes one */
  mask?: string;
  /** rows of the embedding table (ids ≥ vocab fail) */
  vocab: number;
  /** rows of the position table (longer rows fail) */
  positions: number;
}

const i64 = (...v: number[]) => ({ dtype: 'int64' as const, dims: [v.length], data: BigInt64Array.from(v.map(BigInt)) });

export function echoTextGraph(o: EchoTextOptions): OnnxGraph {
  const g = new OnnxGraph('textual');
  const batch = o.batch ?? 'batch';
  const ids = g.input(o.input ?? 'text', o.dtype ?? 'int32', [batch, o.seq]);
  const mask = o.mask ? g.input(o.mask, o.dtype ?? 'int32', [batch, o.seq]) : undefined;
  const ids64 = g.op('Cast', [ids], { to: 7 });
  const idsF = g.op('Cast', [ids], { to: 1 });
  const axis1 = g.init('axis1', i64(1));
  const sum1 = (x: string) => g.op('ReduceSum', [x, axis1], { keepdims: 1 });
  const ones = g.op('Add', [g.op('Mul', [idsF, g.init('zero', { dtype: 'float32', dims: [1], data: new Float32Array([0]) })]), g.init('one', { dtype: 'float32', dims: [1], data: new Float32Array([1]) })]);
  const len = sum1(ones);
  // embedding and position tables (zeros): Gather fails on ids past the table, Add on rows longer than the positions
  const table = g.init('token_embedding', { dtype: 'float32', dims: [o.vocab, 1], data: new Float32Array(o.vocab) });
  const pos = g.init('positional_embedding', { dtype: 'float32', dims: [o.positions, 1], data: new Float32Array(o.positions) });
  const seqLen = g.op('Slice', [g.op('Shape', [ids64]), g.init('one64', i64(1)), g.init('two64', i64(2))]);
  const posUsed = g.op('Slice', [pos, g.init('zero64', i64(0)), seqLen, g.init('axis0', i64(0))]);
  const embedded = g.op('Add', [g.op('Gather', [table, ids64], { axis: 0 }), posUsed]);
  const zeros = g.op('ReduceSum', [g.op('ReduceSum', [embedded, g.init('axis2', i64(2))], { keepdims: 0 }), axis1], { keepdims: 1 });
  const c0 = g.op('Add', [g.op('Div', [len, len]), zeros]);
  const maskSum = mask ? sum1(g.op('Cast', [mask], { to: 1 })) : g.op('Mul', [len, g.init('zero2', { dtype: 'float32', dims: [1], data: new Float32Array([0]) })]);
  const modSum = sum1(g.op('Cast', [g.op('Mod', [ids64, g.init('mod', i64(ECHO_MOD))])], { to: 1 }));
  const last = g.op('Slice', [idsF, g.init('m1', i64(-1)), g.init('big', i64(2 ** 31 - 1)), g.init('ax1b', i64(1))]);
  const first = g.op('Slice', [idsF, g.init('z', i64(0)), g.init('o', i64(1)), g.init('ax1c', i64(1))]);
  const out = g.op('Concat', [c0, len, maskSum, modSum, last, first], { axis: 1 });
  g.output(l2(g, out), 'embedding', 'float32', [batch, ECHO_DIM]);
  return g;
}

function l2(g: OnnxGraph, x: string): string {
  return g.op('Div', [x, g.op('ReduceL2', [x], { axes: [1], keepdims: 1 })]);
}

export function echoImageGraph(batch: number | 'batch' = 'batch'): OnnxGraph {
  const g = new OnnxGraph('visual');
  const x = g.input('image', 'float32', [batch, 3, IMAGE_SIZE, IMAGE_SIZE]);
  const w = g.init('proj', { dtype: 'float32', dims: [3 * IMAGE_SIZE * IMAGE_SIZE, ECHO_DIM], data: normalArray(mulberry32(3), 3 * IMAGE_SIZE * IMAGE_SIZE * ECHO_DIM, 0.1) });
  const y = g.op('MatMul', [g.op('Flatten', [x], { axis: 1 }), w]);
  g.output(l2(g, y), 'embedding', 'float32', [batch, ECHO_DIM]);
  return g;
}

/** Writes an Immich-layout echo model into `dir`; `textual` holds the files given (tokenizer.json, configs…). */
export function writeEchoModel(dir: string, text: EchoTextOptions, textualFiles: Record<string, string>, top: Record<string, string> = {}): string {
  mkdirSync(path.join(dir, 'visual'), { recursive: true });
  mkdirSync(path.join(dir, 'textual'), { recursive: true });
  const batch = text.batch ?? 'batch';
  writeFileSync(path.join(dir, 'visual', 'model.onnx'), echoImageGraph(batch).toBytes());
  writeFileSync(path.join(dir, 'visual', 'preprocess_cfg.json'), JSON.stringify({ ...OPENAI_PREPROCESS_CFG, size: [IMAGE_SIZE, IMAGE_SIZE] }));
  writeFileSync(path.join(dir, 'textual', 'model.onnx'), echoTextGraph(text).toBytes());
  for (const [f, content] of Object.entries(textualFiles)) writeFileSync(path.join(dir, 'textual', f), content);
  for (const [f, content] of Object.entries(top)) writeFileSync(path.join(dir, f), content);
  return dir;
}

/** The echo read back from one unit row: `{len, maskSum, modSum, last, first}`. */
export function readEcho(row: ArrayLike<number>): { len: number; maskSum: number; modSum: number; last: number; first: number } {
  const v = (i: number) => Math.round(row[i] / row[0]);
  return { len: v(1), maskSum: v(2), modSum: v(3), last: v(4), first: v(5) };
}

/** What the echo of a fed row is, computed from the row itself (float64). */
export function echoOf(ids: readonly number[], mask: readonly number[] | null): { len: number; maskSum: number; modSum: number; last: number; first: number } {
  return {
    len: ids.length,
    maskSum: mask ? mask.reduce((a, b) => a + b, 0) : 0,
    modSum: ids.reduce((a, id) => a + (id % ECHO_MOD), 0),
    last: ids[ids.length - 1],
    first: ids[0],
  };
}

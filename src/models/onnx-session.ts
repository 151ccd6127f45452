/**
 * onnxruntime-node at the edge: loaded lazily (no native work at import time), sessions created with
 * explicit, recorded options, and batches split to what a graph's fixed batch dimension accepts.
 */
import { createRequire } from 'node:module';
import type * as OrtTypes from 'onnxruntime-node';
import { UsageError } from '../errors.js';

export type Ort = typeof OrtTypes;
export type Session = OrtTypes.InferenceSession;

let ortModule: Ort | undefined;
export function ort(): Ort {
  if (!ortModule) {
    try {
      ortModule = createRequire(import.meta.url)('onnxruntime-node') as Ort;
    } catch (err) {
      throw new UsageError('cannot load onnxruntime-node', { fix: 'run `npm ci` in the clip-bench folder', cause: err });
    }
  }
  return ortModule;
}

export interface SessionOptions {
  /** threads per operator (0 = onnxruntime's default, one per core) */
  intraOpThreads: number;
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  executionProvider: 'cpu';
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { intraOpThreads: 0, graphOptimization: 'all', executionProvider: 'cpu' };

export async function createSession(file: string, opts: SessionOptions): Promise<Session> {
  try {
    return await ort().InferenceSession.create(file, {
      executionProviders: [opts.executionProvider],
      graphOptimizationLevel: opts.graphOptimization,
      ...(opts.intraOpThreads > 0 ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    });
  } catch (err) {
    throw new UsageError(`onnxruntime cannot load this model: ${String((err as Error).message).split('\n')[0]}`, {
      file,
      fix: 'check that the file is a complete ONNX export (re-download or re-export it)',
      cause: err,
    });
  }
}

export interface TensorSignature {
  name: string;
  type: string;
  /** dimensions; strings are symbolic (dynamic) */
  shape: (number | string)[];
}

export function inputSignatures(s: Session): TensorSignature[] {
  return s.inputMetadata.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

export function outputSignatures(s: Session): TensorSignature[] {
  return s.outputMetadata.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

/** The graph's fixed batch size, or undefined when the first axis is dynamic. */
export function fixedBatch(sig: TensorSignature): number | undefined {
  const d = sig.shape[0];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** float32 data of an output tensor, converting float16 outputs. */
export function floatData(t: OrtTypes.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    const src = t.data as Uint16Array;
    const out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
    return out;
  }
  throw new Error(`unexpected output type ${t.type}`);
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

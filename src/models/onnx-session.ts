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
const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
export function ort(): Ort {
  if (!ortModule) {
    try {
      ortModule = createRequire(import.meta.url)('onnxruntime-node') as Ort;
      // Warnings only: onnxruntime's own notices (e.g. "Failed to persist telemetry device ID" where the
      // home folder is not writable) would break the one-line error and clean stderr contract.
      ortModule.env.logLevel = ORT_LOG_LEVELS.find((l) => l === process.env.CLIP_BENCH_ORT_LOG) ?? 'error';
    } catch (err) {
      throw new UsageError('cannot load onnxruntime-node', { fix: 'run `npm ci` in the clip-bench folder', cause: err });
    }
  }
  return ortModule;
}

export type ExecutionProvider = 'cpu' | 'cuda';

export interface SessionOptions {
  /** threads per operator (0 = onnxruntime's default, one per core) */
  intraOpThreads: number;
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  executionProvider: ExecutionProvider;
  /**
   * whether idle intra-op threads spin waiting for work (onnxruntime's default). Spinning saves a wake-up
   * per operator but burns cores that preprocessing workers could use.
   */
  spinning?: boolean;
  /**
   * image encoder in its own worker thread (`inference-thread.ts`), so that the main thread keeps
   * feeding the preprocessing workers while it runs; default on, `CLIP_BENCH_INFERENCE_WORKER=0` turns it off
   */
  inferenceWorker?: boolean;
}

/** Execution providers this onnxruntime-node install can use. */
export function availableProviders(): string[] {
  const O = ort() as Ort & { listSupportedBackends?: () => { name: string; bundled: boolean }[] };
  return (O.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }]).filter((b) => b.bundled || b.name === 'cpu').map((b) => b.name);
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { intraOpThreads: 0, graphOptimization: 'all', executionProvider: 'cpu', spinning: true };

/** Session options with every default filled in (what a run records), the inference worker's from the environment. */
export function resolveSessionOptions(partial: Partial<SessionOptions> = {}): Required<SessionOptions> {
  const env = process.env.CLIP_BENCH_INFERENCE_WORKER;
  return { ...DEFAULT_SESSION_OPTIONS, spinning: true, inferenceWorker: env === undefined ? true : !['0', 'false', 'off', 'no'].includes(env.toLowerCase()), ...dropUndefined(partial) };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

let sessionsCreated = 0;
/** Sessions this thread has created so far (for tests: which thread holds a tower's weights). */
export function sessionsCreatedHere(): number {
  return sessionsCreated;
}

/** A session on a model file, or on model bytes built in memory (e.g. the logit scorer). */
export async function createSession(file: string | Uint8Array, opts: SessionOptions): Promise<Session> {
  if (opts.executionProvider !== 'cpu' && !availableProviders().includes(opts.executionProvider)) {
    throw new UsageError(`this onnxruntime-node install has no ${opts.executionProvider} execution provider (available: ${availableProviders().join(', ')})`, {
      fix: 'on a machine with CUDA 12, reinstall with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`, or use --provider cpu',
    });
  }
  try {
    const options = {
      executionProviders: [opts.executionProvider],
      graphOptimizationLevel: opts.graphOptimization,
      ...(opts.intraOpThreads > 0 ? { intraOpNumThreads: opts.intraOpThreads } : {}),
      ...(opts.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
    };
    const session = typeof file === 'string' ? await ort().InferenceSession.create(file, options) : await ort().InferenceSession.create(file, options);
    sessionsCreated++;
    return session;
  } catch (err) {
    throw new UsageError(`onnxruntime cannot load this model: ${String((err as Error).message).split('\n')[0]}`, {
      file: typeof file === 'string' ? file : '(in-memory model)',
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

/** float32 → IEEE 754 binary16 bits, round to nearest even (for graphs with float16 inputs). */
export function floatToHalfArray(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < src.length; i++) {
    f[0] = src[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
    out[i] = sign | half;
  }
  return out;
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

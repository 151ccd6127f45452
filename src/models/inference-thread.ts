/**
 * The image encoder in a dedicated worker thread. onnxruntime-node's `session.run` blocks its thread for
 * the whole call (seconds for a batch of ViT-B/32); run on the main thread, it would stop the main thread
 * from handing images to the preprocessing workers and from writing predictions, so preprocessing and
 * inference would take turns instead of overlapping.
 *
 * At most `maxInFlight` batches are with the worker at a time (further calls wait), so memory stays flat
 * however long the run. Pixel buffers are transferred, not copied: a caller's buffer made by
 * `Checkpoint.imageBatch` goes as is; any other is copied once into a reused transfer buffer.
 *
 * The worker runs compiled JS (`dist/src/models/inference-worker.js`): from sources (vitest) `npm run
 * build` must have run first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import { workerUrl } from '../paths.js';
import type { InferenceRequest, InferenceResponse, InferenceSetup, SerializedError } from './inference-worker.js';
import type { TensorSignature } from './onnx-session.js';

export type { InferenceSetup } from './inference-worker.js';

export interface InferenceThread {
  /** the image graph's inputs and outputs, as the worker's session reports them */
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  /**
   * Encodes n rows of [n, 3, size, size] pixels → [n, dim] unit rows. With `transfer`, `pixels.buffer`
   * moves to the worker (the caller's array is detached); otherwise the pixels are copied.
   */
  encode(pixels: Float32Array, n: number, transfer: boolean): Promise<{ data: Float32Array; dim: number }>;
  /** A pixel buffer back from the worker with at least `bytes` bytes, to refill (contents unspecified), if one is spare. */
  takeBuffer(bytes: number): ArrayBuffer | undefined;
  /** Stops the worker; requests still pending reject. */
  close(): Promise<void>;
}

let live = 0;
let busyMs = 0;
/** Inference workers started and not yet exited (for tests: a finished or interrupted run leaves none). */
export function liveInferenceThreads(): number {
  return live;
}

/** Milliseconds inference workers of this process have spent in onnxruntime so far (for the bench: how busy the encoder was). */
export function inferenceBusyMs(): number {
  return busyMs;
}

function toError(e: SerializedError): Error {
  if (e.usage) return new UsageError(e.message, { file: e.file, fix: e.fix });
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

interface Pending {
  resolve: (r: { data: Float32Array; dim: number }) => void;
  reject: (e: Error) => void;
}

/** Starts the worker and waits until its session is open (a model that fails to load rejects here). */
export async function startInferenceThread(setup: InferenceSetup, opts: { maxInFlight?: number } = {}): Promise<InferenceThread> {
  const maxInFlight = opts.maxInFlight ?? 2;
  const url = workerUrl(import.meta.url, 'inference-worker.js');
  if (!existsSync(fileURLToPath(url))) {
    throw new UsageError('inference worker script is not built', { file: fileURLToPath(url), fix: 'run `npm run build` first' });
  }
  const worker = new Worker(url, { workerData: { inferenceSetup: setup } });
  live++;
  const pending = new Map<number, Pending>();
  /** callers waiting for a free slot */
  const waiting: (() => void)[] = [];
  /** pixel buffers back from the worker, reused for copies */
  const spare: ArrayBuffer[] = [];
  let nextId = 1;
  let closing = false;
  let failure: Error | undefined;

  const stopped = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      live--;
      resolve();
    }),
  );
  const failAll = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    for (const w of waiting.splice(0)) w();
  };

  let onStart: ((msg: InferenceResponse) => void) | undefined;
  let onStartError: ((err: Error) => void) | undefined;
  let onStartExit: ((code: number) => void) | undefined;
  let signature: { inputs: TensorSignature[]; outputs: TensorSignature[] } = { inputs: [], outputs: [] };
  try {
    await new Promise<void>((resolve, reject) => {
      onStart = (msg) => {
        if (msg.type === 'ready') {
          signature = { inputs: msg.inputs, outputs: msg.outputs };
          resolve();
        }
        else if (msg.type === 'failed') reject(toError(msg.error));
      };
      onStartError = reject;
      onStartExit = (code) => reject(new Error(`inference worker exited with code ${code} before its session opened`));
      worker.on('message', onStart).on('error', onStartError).on('exit', onStartExit);
    });
  } catch (err) {
    await worker.terminate();
    await stopped;
    throw err;
  } finally {
    worker.off('message', onStart!).off('error', onStartError!).off('exit', onStartExit!);
  }
  worker.unref(); // an idle worker must not keep the process alive

  worker.on('message', (msg: InferenceResponse) => {
    if (msg.type !== 'result') return;
    if (spare.length < maxInFlight) spare.push(msg.pixels.buffer as ArrayBuffer);
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (pending.size === 0) worker.unref();
    if (msg.ok) {
      busyMs += msg.busyMs;
      p.resolve({ data: msg.data, dim: msg.dim });
    }
    else p.reject(toError(msg.error));
    waiting.shift()?.();
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(closing ? 'inference worker is closed' : `inference worker exited with code ${code}`)));

  return {
    ...signature,
    async encode(pixels, n, transfer) {
      while (!failure && !closing && pending.size >= maxInFlight) await new Promise<void>((r) => waiting.push(r));
      if (failure) throw failure;
      if (closing) throw new Error('inference worker is closed');
      let buf: Float32Array;
      if (transfer) buf = pixels;
      else {
        const reuse = spare.findIndex((b) => b.byteLength >= pixels.byteLength);
        buf = reuse >= 0 ? new Float32Array(spare.splice(reuse, 1)[0], 0, pixels.length) : new Float32Array(pixels.length);
        buf.set(pixels);
      }
      const id = nextId++;
      const result = new Promise<{ data: Float32Array; dim: number }>((resolve, reject) => pending.set(id, { resolve, reject }));
      if (pending.size === 1) worker.ref();
      worker.postMessage({ type: 'encode', id, pixels: buf, n } satisfies InferenceRequest, [buf.buffer as ArrayBuffer]);
      return result;
    },
    takeBuffer(bytes) {
      const i = spare.findIndex((b) => b.byteLength >= bytes);
      return i >= 0 ? spare.splice(i, 1)[0] : undefined;
    },
    async close() {
      if (closing) return stopped;
      closing = true;
      // An interrupted run: its callers stop waiting now, but the worker finishes the batches it has
      // (at most maxInFlight) before it closes — terminating a thread inside onnxruntime's run can abort
      // the whole process (SIGABRT, seen on Ctrl-C).
      if (pending.size > 0) failAll(new Error('inference worker is closed'));
      worker.ref();
      worker.postMessage({ type: 'close' } satisfies InferenceRequest);
      await stopped;
      for (const w of waiting.splice(0)) w();
    },
  };
}

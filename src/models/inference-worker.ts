/**
 * Worker-thread side of the inference thread (`inference-thread.ts`): owns the image encoder's
 * onnxruntime session, so that `session.run` — which blocks its thread for the whole call — blocks this
 * thread and not the one feeding the preprocessing workers. Embeddings come from `encodeImagesOn`, the
 * same code the main thread runs without a worker, so both give bit-identical results. Pixel buffers
 * arrive transferred and go back transferred with the embeddings, to be refilled (no copies).
 * Loaded as compiled JS from `dist/`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import { encodeImagesOn, openTower, textFeedsOf, type Feeds } from './checkpoint.js';
import type { TowerSpec } from './layout.js';
import type { FedBatch } from './tokenizer/fed-tokenizer.js';
import { createSession, inputSignatures, outputSignatures, type SessionOptions, type TensorSignature } from './onnx-session.js';

/** What the worker is started with (structured-cloned). */
export interface InferenceSetup {
  /** absolute path of the image graph */
  file: string;
  spec: TowerSpec;
  /** pixel size of the square input */
  size: number;
  session: SessionOptions;
  /** a combined graph (both towers in one) also needs one blank text row */
  blankText?: { spec: TowerSpec; fed: FedBatch; contextLength: number; cutToLongest: boolean };
}

/** Main thread → worker: encode the first n rows of `pixels` ([n, 3, size, size]), or stop. */
export type InferenceRequest = { type: 'encode'; id: number; pixels: Float32Array; n: number } | { type: 'close' };

export interface SerializedError {
  usage: boolean;
  name: string;
  message: string;
  file?: string;
  fix?: string;
}

/** Worker → main thread. `pixels` is the request's buffer, given back for reuse. */
export type InferenceResponse =
  | { type: 'ready'; inputs: TensorSignature[]; outputs: TensorSignature[] }
  | { type: 'failed'; error: SerializedError }
  | { type: 'result'; id: number; ok: true; data: Float32Array; dim: number; pixels: Float32Array; busyMs: number }
  | { type: 'result'; id: number; ok: false; error: SerializedError; pixels: Float32Array };

export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  const usage = e instanceof UsageError;
  return { usage, name: e.name, message: e.message, file: usage ? e.file : undefined, fix: usage ? e.fix : undefined };
}

const port = parentPort;
if (port && (workerData as { inferenceSetup?: InferenceSetup } | null)?.inferenceSetup) {
  const setup = (workerData as { inferenceSetup: InferenceSetup }).inferenceSetup;
  const start = async () => {
    const session = await createSession(setup.file, setup.session);
    const visual = openTower(setup.file, session, setup.spec, 'image');
    let extra: (() => Feeds) | undefined;
    if (setup.blankText) {
      const b = setup.blankText;
      const textual = openTower(setup.file, session, b.spec, 'text');
      extra = () => textFeedsOf(textual, b.contextLength, b.cutToLongest, b.fed, 0, 1, 1);
    }
    return { session, visual, extra };
  };
  start().then(
    ({ session, visual, extra }) => {
      // Requests are handled one at a time, in order: onnxruntime would serialise them anyway.
      let chain: Promise<void> = Promise.resolve();
      port.on('message', (msg: InferenceRequest) => {
        if (msg.type === 'close') {
          chain = chain.then(async () => {
            await session.release();
            port.close();
          });
          return;
        }
        chain = chain.then(async () => {
          try {
            const t0 = performance.now();
            const r = await encodeImagesOn(visual, setup.size, msg.pixels, msg.n, extra);
            const reply: InferenceResponse = { type: 'result', id: msg.id, ok: true, data: r.data, dim: r.dim, pixels: msg.pixels, busyMs: performance.now() - t0 };
            port.postMessage(reply, [r.data.buffer as ArrayBuffer, msg.pixels.buffer as ArrayBuffer]);
          } catch (err) {
            const reply: InferenceResponse = { type: 'result', id: msg.id, ok: false, error: serializeError(err), pixels: msg.pixels };
            port.postMessage(reply, [msg.pixels.buffer as ArrayBuffer]);
          }
        });
      });
      port.postMessage({ type: 'ready', inputs: inputSignatures(session), outputs: outputSignatures(session) } satisfies InferenceResponse);
    },
    (err: unknown) => {
      port.postMessage({ type: 'failed', error: serializeError(err) } satisfies InferenceResponse);
      port.close();
    },
  );
}

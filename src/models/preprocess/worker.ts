/**
 * Worker-thread side of the preprocessing pool: decode + resample + normalise one image per
 * message and transfer the float32 result back (no copy). Loaded as compiled JS from `dist/`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../../errors.js';
import type { PreprocessConfig } from './config.js';
import { readImageFileSync } from './decode.js';
import { adoptProcessDecodeBudget, type DecodeBudget } from './decode-budget.js';
import { adoptProcessDecodeLock, type DecodeLock } from './decode-lock.js';
import type { RawImage } from './image.js';
import { preprocessImage } from './transform.js';

/** Main thread → worker. */
export interface WorkerRequest {
  id: number;
  input: string | Uint8Array | RawImage;
}

/** Worker → main thread. */
export type WorkerResponse =
  | { id: number; ok: true; data: Float32Array }
  | { id: number; ok: false; error: { usage: boolean; name: string; message: string; file?: string; fix?: string } };

const port = parentPort;
if (port) {
  const { cfg, decodeLock, decodeBudget } = workerData as { cfg: PreprocessConfig; decodeLock: DecodeLock; decodeBudget: DecodeBudget };
  adoptProcessDecodeLock(decodeLock);
  adoptProcessDecodeBudget(decodeBudget);
  const run = async (input: string | Uint8Array | RawImage): Promise<Float32Array> =>
    typeof input === 'string' ? preprocessImage(readImageFileSync(input), cfg, { name: input }) : preprocessImage(input, cfg);
  port.on('message', (msg: WorkerRequest) => {
    run(msg.input).then(
      (data) => port.postMessage({ id: msg.id, ok: true, data } satisfies WorkerResponse, [data.buffer as ArrayBuffer]),
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const usage = e instanceof UsageError;
        const error = { usage, name: e.name, message: e.message, file: usage ? e.file : undefined, fix: usage ? e.fix : undefined };
        port.postMessage({ id: msg.id, ok: false, error } satisfies WorkerResponse);
      },
    );
  });
}

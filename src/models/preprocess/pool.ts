/**
 * A pool of worker threads that decode and preprocess images in parallel. Each worker runs
 * `preprocessImage` with the pool's config; results come back as transferred buffers.
 *
 * Workers run compiled JS (`dist/src/models/preprocess/worker.js`), so from sources (vitest)
 * `npm run build` must have run first.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../../errors.js';
import { workerUrl } from '../../paths.js';
import type { PreprocessConfig } from './config.js';
import type { RawImage } from './image.js';
import { OPENAI_CLIP_CONFIG, validateConfig } from './config.js';
import { processDecodeBudget } from './decode-budget.js';
import { processDecodeLock } from './decode-lock.js';
import type { WorkerRequest, WorkerResponse } from './worker.js';

export interface PreprocessPoolOptions {
  /** Worker threads (default: available parallelism, at most 4). */
  threads?: number;
  cfg?: PreprocessConfig;
  /**
   * Images handed to one worker at a time. 2 lets a worker resample one image while sharp
   * decodes the next on libuv's thread pool.
   */
  perWorker?: number;
}

export interface PreprocessPool {
  /** Float32 CHW [3, size, size] for one image path, encoded buffer or decoded image (buffers are copied, not detached). */
  run(input: string | Uint8Array | RawImage): Promise<Float32Array>;
  /** Stop the workers; pending and queued runs reject. */
  close(): Promise<void>;
  readonly threads: number;
}

interface Task {
  id: number;
  input: string | Uint8Array | RawImage;
  resolve: (v: Float32Array) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Task>;
}

function toError(e: Extract<WorkerResponse, { ok: false }>['error']): Error {
  if (e.usage) return new UsageError(e.message, { file: e.file, fix: e.fix });
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export function createPreprocessPool(opts: PreprocessPoolOptions = {}): PreprocessPool {
  const cfg: PreprocessConfig = { ...(opts.cfg ?? OPENAI_CLIP_CONFIG) };
  validateConfig(cfg);
  const threads = opts.threads ?? Math.max(1, Math.min(4, os.availableParallelism()));
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`threads must be a positive integer, got ${threads}`);
  const perWorker = opts.perWorker ?? 2;
  const url = workerUrl(import.meta.url, 'worker.js');
  if (!existsSync(fileURLToPath(url))) {
    throw new UsageError('preprocessing worker script is not built', { file: fileURLToPath(url), fix: 'run `npm run build` first' });
  }

  const queue: Task[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (): Slot => {
    const slot: Slot = { worker: new Worker(url, { workerData: { cfg, decodeLock: processDecodeLock(), decodeBudget: processDecodeBudget() } }), inFlight: new Map() };
    slot.worker.unref(); // idle workers must not keep the process alive
    slot.worker.on('message', (msg: WorkerResponse) => {
      const task = slot.inFlight.get(msg.id);
      if (!task) return;
      slot.inFlight.delete(msg.id);
      if (msg.ok) task.resolve(msg.data);
      else task.reject(toError(msg.error));
      if (slot.inFlight.size === 0) slot.worker.unref();
      pump();
    });
    const fail = (err: Error) => {
      const lost = [...slot.inFlight.values()];
      slot.inFlight.clear();
      for (const t of lost) t.reject(err);
      if (closed) return;
      // Replace a crashed worker so the pool keeps its size.
      const i = slots.indexOf(slot);
      if (i >= 0) slots[i] = spawn();
      pump();
    };
    slot.worker.on('error', (err) => fail(err));
    slot.worker.on('exit', (code) => {
      if (!closed) fail(new Error(`preprocessing worker exited with code ${code}`));
    });
    return slot;
  };

  const slots: Slot[] = Array.from({ length: threads }, spawn);

  function pump(): void {
    while (queue.length > 0) {
      let best: Slot | undefined;
      for (const s of slots) if (s.inFlight.size < perWorker && (!best || s.inFlight.size < best.inFlight.size)) best = s;
      if (!best) return;
      const task = queue.shift()!;
      best.inFlight.set(task.id, task);
      if (best.inFlight.size === 1) best.worker.ref();
      best.worker.postMessage({ id: task.id, input: task.input } satisfies WorkerRequest);
    }
  }

  return {
    threads,
    run(input) {
      if (closed) return Promise.reject(new Error('preprocessing pool is closed'));
      return new Promise<Float32Array>((resolve, reject) => {
        queue.push({ id: nextId++, input, resolve, reject });
        pump();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const err = new Error('preprocessing pool is closed');
      for (const t of queue.splice(0)) t.reject(err);
      for (const s of slots) {
        for (const t of s.inFlight.values()) t.reject(err);
        s.inFlight.clear();
      }
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

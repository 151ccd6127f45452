/**
 * The image encoder in a worker thread (`src/models/inference-thread.ts`) must give exactly the embeddings
 * of the same session on the main thread, fail with a clear error instead of hanging, and never outlive
 * a run — finished or interrupted — nor keep the process alive.
 *
 * The worker runs compiled JS: `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunInterrupted, runZeroShot, type EvalOptions } from '../src/eval/zero-shot.js';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { archTowers, fixtureTexts } from '../src/fixtures/fixture-models.js';
import { writeModelLayout } from '../src/fixtures/model-layouts.js';
import { mulberry32, normalArray } from '../src/fixtures/random.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { liveInferenceThreads, startInferenceThread } from '../src/models/inference-thread.js';
import { inputSignatures, outputSignatures, resolveSessionOptions, sessionsCreatedHere } from '../src/models/onnx-session.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { getRun, iteratePredictions } from '../src/store/runs.js';

const built = existsSync(path.join(packageRoot, 'dist/src/models/inference-worker.js'));
let tmp: string;
let root: string;
const model = (layout: string) => path.join(tmp, `tiny-${layout}`);

beforeAll(async () => {
  if (!built) throw new Error('dist/src/models/inference-worker.js is missing: run `npm run build` first');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-inference-'));
  root = path.join(tmp, 'colours');
  await writeColourDataset(root, { perClass: 3, seed: 11 });
  const towers = archTowers('tiny', fixtureTexts(loadPromptSet('colours').templates));
  // hf-combined: one graph for both towers, so the worker feeds a blank text row as well
  for (const layout of ['immich', 'hf-split', 'hf-combined'] as const) await writeModelLayout(model(layout), towers, layout, { fp16Variant: layout === 'hf-split' });
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('embeddings from the worker equal those of the main thread, bit for bit', () => {
  it.each([
    ['immich', undefined],
    ['hf-split', undefined],
    ['hf-split', 'fp16'],
    ['hf-combined', undefined],
  ])('%s %s', async (layout, variant) => {
    const inThread = await loadCheckpoint(model(layout), { variant, session: { inferenceWorker: false } });
    const inWorker = await loadCheckpoint(model(layout), { variant, session: { inferenceWorker: true } });
    try {
      expect(inWorker.sessionOptions.inferenceWorker).toBe(true);
      const n = 5;
      const pixels = normalArray(mulberry32(3), n * 3 * 224 * 224, 1);
      const expected = await inThread.encodeImages(pixels, n);
      expect(expected).toHaveLength(n * inThread.embedDim);

      // a foreign array is copied: it stays usable and unchanged
      const copy = pixels.slice();
      const viaCopy = await inWorker.encodeImages(copy, n);
      expect(copy).toEqual(pixels);
      expect(viaCopy).toEqual(expected);

      // an array from imageBatch is transferred (detached afterwards), not copied
      const batch = inWorker.imageBatch(n);
      batch.set(pixels);
      const viaTransfer = await inWorker.encodeImages(batch, n);
      expect(batch.length).toBe(0);
      expect(viaTransfer).toEqual(expected);
      expect(liveInferenceThreads()).toBe(1);
    } finally {
      await inThread.release();
      await inWorker.release();
    }
    expect(liveInferenceThreads()).toBe(0);
  });

  it('a whole run gives identical predictions and logits with the worker on and off', async () => {
    const run = async (inferenceWorker: boolean) => {
      const db = openDb(':memory:');
      const r = await runZeroShot(db, { modelDir: model('hf-split'), dataset: 'imagefolder', root, prompts: 'colours', batchSize: 5, workers: 1, cache: false, session: { inferenceWorker } });
      const out = { preds: [...iteratePredictions(db, r.runId)], session: getRun(db, r.runId).params.session };
      db.close();
      return out;
    };
    const off = await run(false);
    const on = await run(true);
    expect(on.preds).toHaveLength(24);
    expect(on.preds).toEqual(off.preds);
    // the setting is recorded with the run
    expect(on.session).toMatchObject({ inferenceWorker: true });
    expect(off.session).toMatchObject({ inferenceWorker: false });
  });
});

describe('the image weights are loaded once', () => {
  // The worker's session is the image tower's only one: this thread opens the text tower alone (ViT-B/32:
  // 1.2 GB peak instead of 1.8 for a short eval). Without the worker, or for a combined graph (one session
  // that is both towers), this thread opens what it runs.
  it.each([
    ['hf-split', true, 1],
    ['immich', true, 1],
    ['hf-split', false, 2],
    ['hf-combined', true, 1],
    ['hf-combined', false, 1],
  ] as const)('%s with the worker %s: %i session(s) on this thread', async (layout, inferenceWorker, here) => {
    const before = sessionsCreatedHere();
    const c = await loadCheckpoint(model(layout), { session: { inferenceWorker } });
    try {
      expect(sessionsCreatedHere() - before).toBe(here);
      expect(liveInferenceThreads()).toBe(inferenceWorker && layout !== 'hf-combined' ? 1 : 0);
    } finally {
      await c.release();
    }
    expect(liveInferenceThreads()).toBe(0);
  });

  it("the worker reports the image graph's signature as a session on this thread reads it", async () => {
    const inWorker = await loadCheckpoint(model('hf-split'), { session: { inferenceWorker: true } });
    const { createSession } = await import('../src/models/onnx-session.js');
    const here = await createSession(inWorker.visual.file, resolveSessionOptions());
    try {
      expect(inWorker.visual.inputs).toEqual(inputSignatures(here));
      expect(inWorker.visual.outputs).toEqual(outputSignatures(here));
      expect(inWorker.visual.input.name).toBe('pixel_values');
    } finally {
      await here.release();
      await inWorker.release();
    }
  });

  it('after releaseTextEncoder the text side refuses and the image side still encodes', async () => {
    const c = await loadCheckpoint(model('hf-split'), { session: { inferenceWorker: true } });
    try {
      const before = await c.encodeImages(new Float32Array(3 * 224 * 224), 1);
      await c.releaseTextEncoder();
      await expect(c.encodeTexts(['a photo of a red thing.'])).rejects.toThrow(/text encoder was released/);
      expect(await c.encodeImages(new Float32Array(3 * 224 * 224), 1)).toEqual(before);
    } finally {
      await c.release(); // after releaseTextEncoder: frees the rest, once
    }
    expect(liveInferenceThreads()).toBe(0);
  });

  it('a text tower that fails to load stops the image worker started beside it', async () => {
    const broken = path.join(tmp, 'broken-text');
    const { cpSync } = await import('node:fs');
    cpSync(model('hf-split'), broken, { recursive: true });
    writeFileSync(path.join(broken, 'onnx', 'text_model.onnx'), 'not a protobuf');
    await expect(loadCheckpoint(broken, { session: { inferenceWorker: true } })).rejects.toMatchObject({ name: 'UsageError', message: expect.stringContaining('onnxruntime cannot load this model') });
    expect(liveInferenceThreads()).toBe(0);
  });
});

describe('failures are errors, not hangs', () => {
  it('a model file that is not ONNX rejects with the file named', async () => {
    const bad = path.join(tmp, 'not-onnx.onnx');
    writeFileSync(bad, 'this is not a protobuf');
    const start = startInferenceThread({ file: bad, spec: { file: 'not-onnx.onnx', inputs: ['pixel_values'], outputs: ['image_embeds'] }, size: 224, session: resolveSessionOptions() });
    await expect(start).rejects.toMatchObject({ name: 'UsageError', file: bad, message: expect.stringContaining('onnxruntime cannot load this model') });
    expect(liveInferenceThreads()).toBe(0);
  });

  it('a graph without the expected input rejects with what it has', async () => {
    const file = path.join(model('hf-split'), 'onnx', 'vision_model.onnx');
    const start = startInferenceThread({ file, spec: { file: 'onnx/vision_model.onnx', inputs: ['image'], outputs: ['embedding'], exact: true }, size: 224, session: resolveSessionOptions() });
    await expect(start).rejects.toMatchObject({ name: 'UsageError', message: expect.stringContaining('the graph has inputs [pixel_values') });
    expect(liveInferenceThreads()).toBe(0);
  });

  it('a batch the session refuses rejects that call; the worker goes on serving', async () => {
    const file = path.join(model('hf-split'), 'onnx', 'vision_model.onnx');
    const t = await startInferenceThread({ file, spec: { file: 'onnx/vision_model.onnx', inputs: ['pixel_values'], outputs: ['image_embeds'] }, size: 224, session: resolveSessionOptions() });
    try {
      // 2 rows claimed, 1.5 rows of pixels given: the tensor cannot be built
      await expect(t.encode(new Float32Array(3 * 224 * 224 * 1.5), 2, false)).rejects.toThrow(/size|length|shape/i);
      const ok = await t.encode(new Float32Array(3 * 224 * 224), 1, false);
      expect(ok.data).toHaveLength(ok.dim);
    } finally {
      await t.close();
    }
    expect(liveInferenceThreads()).toBe(0);
  });
});

describe('the worker never outlives its run', () => {
  const opts = (): EvalOptions => ({ modelDir: model('hf-split'), dataset: 'imagefolder', root, prompts: 'colours', batchSize: 2, workers: 1, cache: false, session: { inferenceWorker: true } });

  it('is running during the image phase and gone when the run finishes', async () => {
    const seen: number[] = [];
    const db = openDb(':memory:');
    const r = await runZeroShot(db, opts(), (p) => p.stage === 'images' && seen.push(liveInferenceThreads()));
    db.close();
    expect(r.n).toBe(24);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((k) => k === 1)).toBe(true);
    expect(liveInferenceThreads()).toBe(0);
  });

  it('is gone after an interrupted run', async () => {
    const ac = new AbortController();
    const db = openDb(':memory:');
    let during = -1;
    const run = runZeroShot(db, { ...opts(), signal: ac.signal }, (p) => {
      if (p.stage === 'images' && !ac.signal.aborted) {
        during = liveInferenceThreads();
        ac.abort();
      }
    });
    await expect(run).rejects.toBeInstanceOf(RunInterrupted);
    const status = db.prepare('SELECT status FROM runs').pluck().get();
    db.close();
    expect(during).toBe(1);
    expect(status).toBe('interrupted');
    expect(liveInferenceThreads()).toBe(0);
  });

  it('an idle worker does not keep the process alive, even without release()', () => {
    const script = `
      import { loadCheckpoint } from ${JSON.stringify(path.join(packageRoot, 'dist/src/models/checkpoint.js'))};
      const c = await loadCheckpoint(${JSON.stringify(model('hf-split'))}, { session: { inferenceWorker: true } });
      const e = await c.encodeImages(new Float32Array(3 * 224 * 224), 1);
      console.log('encoded', e.length);
    `;
    // the timeout only guards against a hang; it is not what the test measures
    const file = path.join(tmp, 'idle-worker.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, 'the process did not exit by itself').toBeNull();
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^encoded \d+/);
    expect(r.status).toBe(0);
  });
});

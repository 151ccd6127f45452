/**
 * `clip-bench cost` through the built CLI on the tiny CLIP fixture: the stored record's key and fields,
 * the size, parameter and FLOP counts against independent computations, and bad input. Times are a
 * benchmark's: checked to be present and positive, never against a bound.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineDescription } from '../src/eval/cost.js';
import { fixtureTexts } from '../src/fixtures/fixture-models.js';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import type { ClipArchConfig } from '../src/fixtures/clip-arch.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { listCosts } from '../src/store/cost.js';
import { openDb } from '../src/store/db.js';
import { cli, requireBuilt, tmpDir } from './faults/support/faults.js';
import { clipArchCost } from './support/clip-arch-cost.js';

let tmp: string;
let model: string;
let config: ClipArchConfig;
const quick = ['--images', '4', '--prompts', '8', '--seconds', '0.2', '--batch-size', '2', '--workers', '1', '--threads', '1'];

beforeAll(async () => {
  requireBuilt();
  tmp = tmpDir('cost');
  model = path.join(tmp, 'ViT-T-32__fixture');
  config = await writeClipArch(model, 'tiny', fixtureTexts(loadPromptSet('colours').templates));
});
afterAll(() => undefined);

/** Every file under `dir`, by walking it (not the layout's list): the fixture folder holds only what the model uses. */
function bytesUnder(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? bytesUnder(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).size), 0);
}

describe('clip-bench cost', () => {
  it('measures the tiny CLIP and stores one record keyed by fingerprint, variant, provider and machine; measuring again replaces it', async () => {
    const db = path.join(tmp, 'cost.sqlite');
    const r = cli(['cost', '--model', model, '--db', db, '--json', ...quick], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    const ckpt = await loadCheckpoint(model);
    await ckpt.release();
    const want = clipArchCost(config);
    const h = openDb(db, { readonly: true });
    const stored = listCosts(h);
    h.close();
    expect(stored).toHaveLength(1);
    const c = stored[0];
    expect(c).toEqual(printed);
    expect(c).toMatchObject({
      fingerprint: ckpt.fingerprint,
      variant: 'fp32',
      executionProvider: 'cpu',
      machine: machineDescription(),
      modelName: 'ViT-T-32__fixture',
      batchSize: 2,
      sizeBytes: bytesUnder(model),
      parameters: want.visual.parameters + want.text.parameters,
      imageFlops: want.visual.flops,
      textFlops: want.text.flops,
      flopsNote: null,
      settings: { workers: 1, images: 4, prompts: 8, seconds: 0.2 },
    });
    for (const k of ['imagesPerSecond', 'latencyMs', 'promptsPerSecond', 'peakRssMiB'] as const) {
      expect(Number.isFinite(c[k]) && c[k] > 0, k).toBe(true);
    }

    const again = cli(['cost', '--model', model, '--db', db, '--json', ...quick], { timeoutMs: 120_000 });
    expect(again.code).toBe(0);
    const h2 = openDb(db, { readonly: true });
    const after = listCosts(h2);
    h2.close();
    expect(after).toHaveLength(1);
    expect(after[0].measuredAt >= c.measuredAt).toBe(true);
  });

  it('the text output names every measurement, FLOPs in GFLOP', () => {
    const db = path.join(tmp, 'text.sqlite');
    const r = cli(['cost', '--model', model, '--db', db, ...quick], { timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    const gflop = (clipArchCost(config).visual.flops / 1e9).toFixed(3);
    expect(r.stdout).toContain(`${gflop} GFLOP per image`);
    expect(r.stdout).toMatch(/images\/s at batch 2; [\d.]+ ms per image at batch 1/);
    expect(r.stdout).toContain(`stored in ${db}`);
  });

  it.each([
    [['--model', 'FIXTURE', '--images', '0'], '--images must be a whole number ≥ 1, got 0 — pass --images 1 or more'],
    [['--model', 'FIXTURE', '--seconds', '-1'], '--seconds must be > 0, got -1'],
    [['--model', '/no/such/model'], '/no/such/model'],
  ])('%j: one line, exit 2, no DB written', (args, message) => {
    const db = path.join(tmp, 'bad.sqlite');
    const r = cli(['cost', ...args.map((a) => (a === 'FIXTURE' ? model : a)), '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(() => statSync(db)).toThrow();
  });
});

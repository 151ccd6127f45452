/**
 * Scoring links: CLIP's softmax(100·cos) and SigLIP's sigmoid(scale·cos + bias). Every probability is
 * checked against a brute-force float64 computation written out here; the scale and bias solved from a
 * combined graph against the values that graph was built with; ECE under each link against a plain
 * bin-by-bin loop.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { writeColourDataset } from '../src/fixtures/colour-dataset.js';
import { archTowers, fixtureTexts } from '../src/fixtures/fixture-models.js';
import { writeModelLayout } from '../src/fixtures/model-layouts.js';
import { mulberry32 } from '../src/fixtures/random.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { OnnxGraph } from '../src/models/onnx/graph.js';
import { createSession, ort } from '../src/models/onnx-session.js';
import { CLIP_SOFTMAX_LINK, runLink, scoringLinkFor, solveLinkFromCombinedGraph, solveScaleBias, topConfidence, type ScoringLink } from '../src/models/scoring-link.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { runCalibration } from '../src/report/per-class.js';
import { expectedCalibrationError } from '../src/report/stats.js';
import { getRun, iteratePredictions } from '../src/store/runs.js';
import { openDb } from '../src/store/db.js';

const rand = mulberry32(16);
const siglip = (scale: number, bias: number): ScoringLink => ({ link: 'sigmoid', scale, bias, origin: 'stated', source: 'test' });

/** float64 oracles, the textbook formulas */
const softmaxOracle = (cos: number[], scale: number, c: number) => Math.exp(scale * cos[c]) / cos.reduce((s, x) => s + Math.exp(scale * x), 0);
const sigmoidOracle = (x: number) => 1 / (1 + Math.exp(-x));

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-scoring-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('topConfidence from stored logits (100·cos)', () => {
  it('softmax: softmax(scale·cos) of the class, for CLIP scale 100 and a stated temperature', () => {
    for (let t = 0; t < 50; t++) {
      const cos = Array.from({ length: 7 }, () => rand() * 0.6 - 0.2);
      const stored = cos.map((x) => 100 * x);
      for (const scale of [100, 30]) {
        const link: ScoringLink = { ...CLIP_SOFTMAX_LINK, scale };
        for (let c = 0; c < cos.length; c++) expect(topConfidence(link, stored, c)).toBeCloseTo(softmaxOracle(cos, scale, c), 12);
      }
    }
  });

  it('sigmoid: sigmoid(scale·cos + bias) of the class alone, whatever the other classes', () => {
    for (let t = 0; t < 200; t++) {
      const cos = rand() * 2 - 1;
      const scale = 1 + rand() * 150;
      const bias = -20 + rand() * 25;
      const others = [rand(), rand()].map((x) => 100 * x);
      expect(topConfidence(siglip(scale, bias), [100 * cos, ...others], 0)).toBeCloseTo(sigmoidOracle(scale * cos + bias), 12);
    }
    // the far tails: no NaN from exp overflow, and still relative precision at 1e-300
    expect(topConfidence(siglip(10, -700), [100], 0) / sigmoidOracle(-690)).toBeCloseTo(1, 12);
    expect(topConfidence(siglip(10, -2000), [100], 0)).toBe(0);
    expect(topConfidence(siglip(10, 2000), [100], 0)).toBe(1);
  });

  it('top-k is the same under both links, their probabilities are not', () => {
    const stored = Array.from({ length: 20 }, () => 100 * (rand() * 0.5));
    const order = (p: number[]) => p.map((_, i) => i).sort((a, b) => p[b] - p[a]);
    const soft = stored.map((_, c) => topConfidence(CLIP_SOFTMAX_LINK, stored, c));
    const sig = stored.map((_, c) => topConfidence(siglip(117, -12.9), stored, c));
    expect(order(sig)).toEqual(order(soft));
    expect(order(soft)).toEqual(order(stored));
    expect(sig.reduce((a, b) => a + b, 0)).not.toBeCloseTo(1, 2); // sigmoid probabilities do not sum to 1
  });
});

describe('solving scale and bias from a combined graph', () => {
  it('solveScaleBias recovers scale and bias from two exact points', () => {
    for (let t = 0; t < 50; t++) {
      const scale = rand() * 150;
      const bias = -15 + rand() * 10;
      const cos: [number, number] = [rand() - 0.5, rand() - 0.5];
      const r = solveScaleBias(cos, [scale * cos[0] + bias, scale * cos[1] + bias]);
      if (Math.abs(cos[0] - cos[1]) <= 1e-3) expect(r).toBeNull();
      else {
        expect(r!.scale).toBeCloseTo(scale, 8);
        expect(r!.bias).toBeCloseTo(bias, 8);
      }
    }
  });

  it('from one run of an ONNX graph computing exp(logit_scale)·cos + logit_bias (float32: 1e-3 absolute)', async () => {
    const logitScale = Math.log(117.33);
    const logitBias = -12.93;
    const g = new OnnxGraph('siglip_head');
    const img = g.input('img', 'float32', [1, 8]);
    const txt = g.input('txt', 'float32', [2, 8]);
    const unit = (x: string) => g.op('Div', [x, g.op('ReduceL2', [x], { axes: [1], keepdims: 1 })]);
    const i = unit(img);
    const t = unit(txt);
    const cos = g.op('MatMul', [i, g.op('Transpose', [t], { perm: [1, 0] })]);
    const logits = g.op('Add', [g.op('Mul', [cos, g.op('Exp', [g.f32('logit_scale', [logitScale], [])])]), g.f32('logit_bias', [logitBias], [])]);
    g.output(logits, 'logits_per_image', 'float32', [1, 2]);
    g.output(i, 'image_embeds', 'float32', [1, 8]);
    g.output(t, 'text_embeds', 'float32', [2, 8]);
    const session = await createSession(g.toBytes(), { executionProvider: 'cpu', graphOptimization: 'all', intraOpThreads: 1 });
    const T = ort().Tensor;
    const feeds = { img: new T('float32', Float32Array.from({ length: 8 }, () => rand() - 0.5), [1, 8]), txt: new T('float32', Float32Array.from({ length: 16 }, () => rand() - 0.5), [2, 8]) };
    const solved = await solveLinkFromCombinedGraph(session, feeds, { image: 'image_embeds', text: 'text_embeds' });
    await session.release();
    // float32 logits of magnitude ~10 carry ~1e-6 absolute error; divided by a cosine gap of ~0.1 → ~1e-4
    expect(Math.abs(solved!.scale - Math.exp(logitScale))).toBeLessThan(1e-2);
    expect(Math.abs(solved!.bias - logitBias)).toBeLessThan(1e-3);
  });
});

describe('scoringLinkFor: where the numbers come from', () => {
  const dirWith = (name: string, files: Record<string, unknown>) => {
    const dir = path.join(tmp, name);
    for (const [f, v] of Object.entries(files)) {
      mkdirp(path.dirname(path.join(dir, f)));
      writeFileSync(path.join(dir, f), JSON.stringify(v));
    }
    mkdirp(dir);
    return dir;
  };
  const mkdirp = (d: string) => mkdirSync(d, { recursive: true });

  it('CLIP: softmax 100 from the family; --logit-scale sets the temperature; --logit-bias is refused', () => {
    const dir = dirWith('clip', { 'config.json': { model_type: 'clip' } });
    expect(scoringLinkFor(dir)).toMatchObject({ link: 'softmax', scale: 100, bias: 0, origin: 'family' });
    expect(scoringLinkFor(dir, { stated: { logitScale: Math.log(50) } })).toMatchObject({ link: 'softmax', origin: 'stated' });
    expect(scoringLinkFor(dir, { stated: { logitScale: Math.log(50) } }).scale).toBeCloseTo(50, 10);
    expect(() => scoringLinkFor(dir, { stated: { logitBias: -10 } })).toThrow(UsageError);
  });

  it('SigLIP (HF config.json model_type) without stated values: the stated default, said to be one', () => {
    const dir = dirWith('hf-siglip', { 'config.json': { model_type: 'siglip' } });
    const l = scoringLinkFor(dir);
    expect(l).toMatchObject({ link: 'sigmoid', bias: -10, origin: 'default' });
    expect(l.scale).toBeCloseTo(10, 12);
    expect(l.source).toMatch(/not the trained values/);
  });

  it('Immich SigLIP config.json init_logit_bias: used, and called init values', () => {
    const dir = dirWith('immich-siglip', { 'config.json': { embed_dim: 768, init_logit_bias: -10, vision_cfg: {}, text_cfg: {} } });
    const l = scoringLinkFor(dir);
    expect(l).toMatchObject({ link: 'sigmoid', bias: -10, origin: 'init' });
    expect(l.source).toMatch(/init values, not the trained ones/);
  });

  it('the family from the tokenizer overrides the configs; stated flags come first and need both', () => {
    const dir = dirWith('plain', {});
    expect(scoringLinkFor(dir, { family: 'siglip2-gemma' }).link).toBe('sigmoid');
    expect(scoringLinkFor(dir, { family: 'siglip', stated: { logitScale: 4.7655, logitBias: -12.93 } })).toMatchObject({ origin: 'stated', bias: -12.93 });
    expect(scoringLinkFor(dir, { family: 'siglip', stated: { logitScale: 4.7655, logitBias: -12.93 } }).scale).toBeCloseTo(Math.exp(4.7655), 10);
    expect(() => scoringLinkFor(dir, { family: 'siglip', stated: { logitScale: 4.7 } })).toThrow(/both/);
    expect(scoringLinkFor(dir, { family: 'siglip', solved: { scale: 117, bias: -12, file: path.join(dir, 'onnx/model.onnx') } })).toMatchObject({ origin: 'graph', scale: 117, bias: -12 });
  });

  it('runLink: runs without params.scoring are CLIP softmax 100; a stored link comes back; a corrupt one is refused', () => {
    expect(runLink({})).toMatchObject({ link: 'softmax', scale: 100 });
    expect(runLink({ scoring: siglip(117, -12) })).toMatchObject({ link: 'sigmoid', scale: 117, bias: -12 });
    expect(() => runLink({ scoring: { link: 'tanh', scale: 1, bias: 0 } })).toThrow(UsageError);
  });
});

describe('calibration under the run link (brute-force ECE)', () => {
  /** ECE with equal-width bins (k/B, (k+1)/B], written out plainly */
  function eceOracle(conf: number[], correct: number[], B: number): number {
    let ece = 0;
    for (let k = 0; k < B; k++) {
      const idx = conf.map((c, i) => [c, i] as const).filter(([c]) => (k === 0 ? c <= (k + 1) / B : c > k / B && c <= (k + 1) / B)).map(([, i]) => i);
      if (!idx.length) continue;
      const acc = idx.reduce((s, i) => s + correct[i], 0) / idx.length;
      const cf = idx.reduce((s, i) => s + conf[i], 0) / idx.length;
      ece += (idx.length / conf.length) * Math.abs(acc - cf);
    }
    return ece;
  }

  const n = 300;
  const C = 5;
  const cos = Array.from({ length: n }, () => Array.from({ length: C }, () => rand() * 0.4 - 0.1));
  const labels = Array.from({ length: n }, () => Math.floor(rand() * C));
  const top = cos.map((r) => r.indexOf(Math.max(...r)));
  const correct = top.map((t, i) => (t === labels[i] ? 1 : 0));
  const link = siglip(117.33, -12.93);

  it('expectedCalibrationError with a sigmoid link = the oracle on sigmoid(scale·cos_top + bias)', () => {
    const got = expectedCalibrationError(Float32Array.from(cos.flat()), labels, { link, bins: 10 });
    const conf = cos.map((r, i) => sigmoidOracle(link.scale * Math.fround(r[top[i]]) + link.bias));
    expect(got.ece).toBeCloseTo(eceOracle(conf, correct, 10), 12);
  });

  it('runCalibration of rows without stored confidences: exact from the top-1 logit under sigmoid, says which link', () => {
    const rows = cos.map((r, i) => ({ label: labels[i], top5: [top[i]], top5Logits: [100 * r[top[i]]], confidence: undefined }));
    const cal = runCalibration(rows, 10, link)!;
    expect(cal.source).toBe('top1');
    expect(cal.link.link).toBe('sigmoid');
    const conf = cos.map((r, i) => sigmoidOracle(link.scale * r[top[i]] + link.bias));
    expect(cal.ece).toBeCloseTo(eceOracle(conf, correct, 10), 12);
    const soft = runCalibration(rows, 10)!;
    expect(soft.link.link).toBe('softmax');
    expect(soft.ece).not.toBeCloseTo(cal.ece, 3);
    expect(cal.linkNote).toMatch(/^sigmoid\(117\.33·cos − 12\.93\)/);
  });
});

describe('a SigLIP combined checkpoint end to end: the link solved at load, stored with the run, used for confidences', () => {
  it('hf-combined with config.json model_type siglip', async () => {
    const dir = path.join(tmp, 'siglip-combined');
    const texts = fixtureTexts(loadPromptSet('colours').templates);
    await writeModelLayout(dir, archTowers('tiny', texts), 'hf-combined');
    const cfgFile = path.join(dir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), model_type: 'siglip' }));
    const ckpt = await loadCheckpoint(dir);
    const link = ckpt.scoring;
    await ckpt.release();
    // the fixture's graph computes 100·cos with no bias: solved from its float32 logits
    expect(link).toMatchObject({ link: 'sigmoid', origin: 'graph' });
    expect(Math.abs(link.scale - 100)).toBeLessThan(0.05);
    expect(Math.abs(link.bias)).toBeLessThan(0.01);
    expect(link.source).toMatch(/onnx\/model\.onnx logits_per_image/);

    const root = path.join(tmp, 'colours');
    await writeColourDataset(root, { perClass: 2, seed: 5 });
    const db = openDb(':memory:');
    const r = await runZeroShot(db, { modelDir: dir, dataset: 'imagefolder', root, prompts: 'colours', batchSize: 3, workers: 1 });
    expect(r.scoring).toMatchObject({ link: 'sigmoid', origin: 'graph' });
    expect(getRun(db, r.runId).params.scoring).toMatchObject({ link: 'sigmoid', scale: link.scale, bias: link.bias });
    for (const p of iteratePredictions(db, r.runId)) {
      if (p.top5Logits === null) continue;
      expect(p.confidence).toBeCloseTo(sigmoidOracle((link.scale * p.top5Logits[0]) / 100 + link.bias), 6);
    }
    db.close();
  });
});

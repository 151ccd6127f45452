/**
 * Seeded, bounded fuzzing of everything that reads outside input: image bytes, prompt text, JSON files.
 * The contract is the same everywhere: a valid result or a `UsageError` — never another error type, a
 * crash or a hang. Failures are collected with their seed index and a description, to reproduce them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { writeDemo, type DemoPaths } from '../../src/fixtures/demo.js';
import { readManifest } from '../../src/models/manifest.js';
import { fromHfPreprocessorConfig, fromOpenClipPreprocessCfg, OPENAI_CLIP_CONFIG, preprocessImage, validateConfig } from '../../src/models/preprocess/index.js';
import { loadTokenizerFile, loadTokenizerFromDir, type ClipTokenizer } from '../../src/models/tokenizer/index.js';
import { reference } from '../support/reference.js';
import { loadPromptSet, resolvePrompts } from '../../src/prompts/prompt-set.js';
import { faultCategory, tmpDir } from './support/faults.js';
import { imageSeeds, jsonText, mutate, mutateJson, randomImageBytes, randomJson, randomText, rng } from './support/fuzz.js';


/** The JSON a fuzzed text parses to, or the text itself as a string value when it is not JSON. */
function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
const c = faultCategory('fuzz');

const CASES = 300;
/** A batch stops early (and says so in its counts) past this much time: a slow machine runs fewer inputs, never for ever. */
const BATCH_MS = 20_000;
const inTime = (t0: number) => performance.now() - t0 < BATCH_MS;
/** No single input may take longer than this: a hang or a bomb shows here. */
const PER_CASE_MS = 5_000;
const SIZE = OPENAI_CLIP_CONFIG.size;
const DEMO_CLASSES = ['black', 'blue', 'cyan', 'green', 'magenta', 'red', 'white', 'yellow'];

let tmp: string;
let demo: DemoPaths;
let seeds: Record<string, Buffer>;

beforeAll(async () => {
  tmp = tmpDir('fuzz');
  demo = await writeDemo(path.join(tmp, 'demo'), 1);
  seeds = await imageSeeds();
});

interface Failure {
  index: number;
  how: string;
  got: string;
}

/** How each input of the current batch ended: a result, or a UsageError (both fine). */
const outcome = { ok: 0, usage: 0 };

/** `fn` must return normally or throw a UsageError, within PER_CASE_MS; anything else is a failure. */
async function expectResultOrUsageError(index: number, how: string, fn: () => unknown | Promise<unknown>, check: (v: never) => string | null, failures: Failure[]): Promise<void> {
  const t0 = performance.now();
  try {
    const problem = check((await fn()) as never);
    if (problem) failures.push({ index, how, got: problem });
    else outcome.ok++;
  } catch (err) {
    if (err instanceof UsageError) outcome.usage++;
    if (!(err instanceof UsageError)) failures.push({ index, how, got: `${(err as Error)?.constructor?.name}: ${String((err as Error)?.message ?? err).slice(0, 200)}` });
    else if (err.oneLine().length === 0) failures.push({ index, how, got: 'UsageError with an empty message' });
  }
  const ms = performance.now() - t0;
  if (ms > PER_CASE_MS) failures.push({ index, how, got: `took ${ms.toFixed(0)} ms` });
}

function finish(label: string, n: number, failures: Failure[]): void {
  const broke = new Set(failures.map((f) => f.index)).size;
  c.tally(n, n - broke);
  console.log(`fuzz ${label}: ${n} inputs — ${outcome.ok} valid results, ${outcome.usage} UsageErrors, ${broke} broke the contract`);
  outcome.ok = 0;
  outcome.usage = 0;
  expect(failures, `${label}: ${failures.length} of ${n} inputs broke the contract`).toEqual([]);
}

const tensorProblem = (out: Float32Array): string | null => {
  if (!(out instanceof Float32Array)) return `returned ${Object.prototype.toString.call(out)}`;
  if (out.length !== 3 * SIZE * SIZE) return `tensor of ${out.length} values, expected ${3 * SIZE * SIZE}`;
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) return `non-finite value at ${i}`;
  return null;
};

describe('image bytes into preprocessImage', () => {
  c.fuzz(`${CASES} random byte strings (most behind a format's magic number): a tensor or a UsageError`, async () => {
    const r = rng(101);
    const failures: Failure[] = [];
    const t0 = performance.now();
    let n = 0;
    for (; n < CASES && inTime(t0); n++) {
      const { bytes, how } = randomImageBytes(r);
      await expectResultOrUsageError(n, how, () => preprocessImage(bytes, OPENAI_CLIP_CONFIG, { name: `random-${n}` }), tensorProblem, failures);
    }
    finish('random bytes', n, failures);
  }, 60_000);

  c.fuzz(`${CASES} mutations of valid JPEG, PNG, WebP, GIF, TIFF, BMP and Netpbm files: a tensor or a UsageError`, async () => {
    const r = rng(202);
    const names = Object.keys(seeds);
    // the seeds themselves decode
    for (const name of names) expect(tensorProblem(await preprocessImage(seeds[name])), name).toBeNull();
    const failures: Failure[] = [];
    const t0 = performance.now();
    let n = 0;
    for (; n < CASES && inTime(t0); n++) {
      const name = names[n % names.length];
      const { bytes, how } = mutate(r, seeds[name]);
      await expectResultOrUsageError(n, `${name}: ${how}`, () => preprocessImage(bytes, OPENAI_CLIP_CONFIG, { name: `${name}-${n}` }), tensorProblem, failures);
    }
    finish('mutated images', n, failures);
  }, 60_000);
});

describe('text into the tokenizer', () => {
  const tokenizers: [string, () => ClipTokenizer][] = [['the demo model\'s tokenizer.json', () => loadTokenizerFromDir(demo.model)]];
  const vocabRef = reference('clip-bpe/bpe_simple_vocab_16e6.txt.gz', 'hostile text into the real CLIP vocabulary');
  const realVocab = vocabRef.path;
  if (vocabRef.present) tokenizers.push(['the real CLIP vocabulary (bpe_simple_vocab_16e6.txt.gz)', () => loadTokenizerFile(realVocab)]);
  else c.faultIf(false, vocabRef.skipNote, 'hostile text into the real CLIP vocabulary', () => undefined);

  for (const [label, load] of tokenizers) {
    c.fuzz(`${CASES} hostile strings (lone surrogates, controls, emoji, RTL, up to 100k chars) into ${label}: [sot, …, eot], ≤ 77 ids, no throw`, () => {
      const tok = load();
      const r = rng(303);
      const failures: Failure[] = [];
      const texts: string[] = [];
      const t0Batch = performance.now();
      let n = 0;
      for (let i = 0; i < CASES && inTime(t0Batch); i++, n++) {
        const text = i === 0 ? '' : i === 1 ? 'x'.repeat(100_000) : randomText(r);
        texts.push(text);
        const how = `${text.length} chars: ${JSON.stringify(text.slice(0, 40))}`;
        const t0 = performance.now();
        try {
          const ids = tok.tokenize(text);
          const bad =
            !Array.isArray(ids) ? 'not an array'
            : ids[0] !== tok.sotId ? `starts with ${ids[0]}`
            : ids[ids.length - 1] !== tok.eotId ? `ends with ${ids[ids.length - 1]}`
            : ids.length < 2 || ids.length > tok.contextLength ? `${ids.length} ids`
            : ids.some((id) => !Number.isInteger(id) || id < 0 || id >= tok.vocabSize) ? 'an id outside the vocabulary'
            : ids.slice(1, -1).includes(tok.eotId) && !text.includes('<|endoftext|>') && ids.length < tok.contextLength ? 'eot inside the text'
            : null;
          if (bad) failures.push({ index: i, how, got: bad });
          else outcome.ok++;
        } catch (err) {
          failures.push({ index: i, how, got: `threw ${(err as Error).constructor.name}: ${(err as Error).message.slice(0, 200)}` });
        }
        if (performance.now() - t0 > PER_CASE_MS) failures.push({ index: i, how, got: `took ${(performance.now() - t0).toFixed(0)} ms` });
      }
      // the batch form pads every row to the context length, eot where the row's text ends
      const short = texts.filter((t) => t.length < 2000);
      const batch = tok.tokenizeBatch(short, { dtype: 'int64' });
      expect(batch.dims).toEqual([short.length, tok.contextLength]);
      for (let row = 0; row < short.length; row++) expect(Number(batch.data[row * tok.contextLength + batch.eotIndex[row]])).toBe(tok.eotId);
      finish(label, n, failures);
    }, 60_000);
  }
});

describe('JSON into the config readers', () => {
  const validPromptSet = { id: 'fuzz', description: 'd', classes: Object.fromEntries(DEMO_CLASSES.map((k) => [k, [k, `${k}ish`]])), templates: ['a photo of a {c}.', 'the {c} one.'] };
  const validManifest = {
    variant: 'int8',
    visual: { file: 'image_encoder.onnx', input: 'pixels', output: 'features' },
    textual: { file: 'text_encoder.onnx', input: 'tokens', output: 'features', attentionMask: 'mask' },
    tokenizer: 'tokenizer.json',
    preprocess: { size: 224, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], interpolation: 'bicubic', resize_mode: 'shortest' },
    contextLength: 77,
  };
  const validOpenClip = { size: [224, 224], mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], interpolation: 'bicubic', resize_mode: 'shortest', fill_color: 0 };
  const validHf = { image_processor_type: 'CLIPImageProcessor', size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 }, resample: 3, do_center_crop: true, do_convert_rgb: true, do_resize: true, rescale_factor: 1 / 255, image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711] };

  /** Half random JSON, half edits of a valid document (which get further down the parser). */
  const inputs = (seed: number, valid: unknown) => {
    const r = rng(seed);
    return Array.from({ length: CASES }, (_, i) => (i === 0 ? valid : r.chance(0.35) ? randomJson(r) : mutateJson(r, valid))).map((v, i) => ({ value: v, text: i === 0 ? JSON.stringify(v) : jsonText(r, v) }));
  };

  c.fuzz(`${CASES} prompt set files into loadPromptSet, then resolvePrompts for the demo's classes: a prompt set or a UsageError`, () => {
    const dir = path.join(tmp, 'prompt-sets');
    mkdirSync(dir, { recursive: true });
    const failures: Failure[] = [];
    const t0Batch = performance.now();
    const all = inputs(404, validPromptSet);
    let n = 0;
    for (const [i, { text }] of all.entries()) {
      if (!inTime(t0Batch)) break;
      n++;
      const file = path.join(dir, `p${i}.json`);
      writeFileSync(file, text);
      const t0 = performance.now();
      try {
        const set = loadPromptSet(file);
        const bad = !Array.isArray(set.templates) || set.templates.length === 0 || !set.templates.every((t) => typeof t === 'string' && t.includes('{c}')) ? 'invalid templates accepted' : null;
        if (bad) failures.push({ index: i, how: text.slice(0, 200), got: bad });
        try {
          const resolved = resolvePrompts(set, DEMO_CLASSES, 'imagefolder');
          if (resolved.classNames.length !== DEMO_CLASSES.length || resolved.texts.some((t) => typeof t !== 'string')) failures.push({ index: i, how: text.slice(0, 200), got: 'bad resolved prompts' });
          else if (!bad) outcome.ok++;
        } catch (err) {
          if (err instanceof UsageError) outcome.usage++;
          if (!(err instanceof UsageError)) failures.push({ index: i, how: text.slice(0, 200), got: `resolvePrompts threw ${(err as Error).constructor.name}: ${(err as Error).message}` });
        }
      } catch (err) {
        if (err instanceof UsageError) outcome.usage++;
        else failures.push({ index: i, how: text.slice(0, 200), got: `${(err as Error).constructor.name}: ${(err as Error).message}` });
      }
      if (performance.now() - t0 > PER_CASE_MS) failures.push({ index: i, how: text.slice(0, 200), got: 'too slow' });
    }
    finish('prompt sets', n, failures);
  }, 60_000);

  c.fuzz(`${CASES} clip-bench.json manifests into readManifest: a manifest or a UsageError`, async () => {
    const failures: Failure[] = [];
    const all = inputs(505, validManifest);
    const t0Batch = performance.now();
    let n = 0;
    for (const [i, { text }] of all.entries()) {
      if (!inTime(t0Batch)) break;
      n++;
      const dir = path.join(tmp, 'manifests', String(i));
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'tokenizer.json'), '{}');
      writeFileSync(path.join(dir, 'clip-bench.json'), text);
      await expectResultOrUsageError(i, text.slice(0, 200), () => readManifest(dir), (m: ReturnType<typeof readManifest>) =>
        typeof m.visual?.file === 'string' && m.visual.file && typeof m.textual?.file === 'string' && m.textual.file && typeof m.tokenizer === 'string' && typeof m.variant === 'string' ? null : `invalid manifest accepted: ${JSON.stringify(m).slice(0, 200)}`,
      failures);
    }
    finish('manifests', n, failures);
  }, 60_000);

  const configOk = (cfg: ReturnType<typeof fromOpenClipPreprocessCfg>): string | null => {
    try {
      validateConfig(cfg);
      return null;
    } catch (err) {
      return `returned a config that fails validation: ${(err as Error).message}`;
    }
  };

  c.fuzz(`${CASES} open_clip preprocess_cfg.json objects into fromOpenClipPreprocessCfg: a valid config or a UsageError`, async () => {
    const failures: Failure[] = [];
    const t0Batch = performance.now();
    let n = 0;
    for (const [i, { text }] of inputs(606, validOpenClip).entries()) {
      if (!inTime(t0Batch)) break;
      n++;
      const json = parsedOrText(text);
      await expectResultOrUsageError(i, text.slice(0, 200), () => fromOpenClipPreprocessCfg(json, 'preprocess_cfg.json'), configOk, failures);
    }
    finish('open_clip configs', n, failures);
  }, 60_000);

  c.fuzz(`${CASES} Hugging Face preprocessor_config.json objects into fromHfPreprocessorConfig (both conventions): a valid config or a UsageError`, async () => {
    const failures: Failure[] = [];
    const t0Batch = performance.now();
    let n = 0;
    for (const [i, { text }] of inputs(707, validHf).entries()) {
      if (!inTime(t0Batch)) break;
      n++;
      const json = parsedOrText(text);
      const convention = i % 2 ? 'exporter' : 'reference';
      await expectResultOrUsageError(i, `${convention}: ${text.slice(0, 200)}`, () => fromHfPreprocessorConfig(json, 'preprocessor_config.json', { convention }), configOk, failures);
    }
    finish('Hugging Face configs', n, failures);
  }, 60_000);

  // Class ids are folder names: nothing stops a dataset from having a class "constructor" or "toString".
  c.fault('class ids named like Object.prototype members ("constructor", "toString", "__proto__") are matched as ids, not through the prototype', () => {
    const set = { id: 'x', classes: { red: 'red', green: 'green' }, templates: ['a {c}.'], source: 'x.json' };
    const failures: string[] = [];
    for (const odd of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      try {
        resolvePrompts(set, ['red', 'green', odd], 'imagefolder');
        failures.push(`${odd}: accepted although the prompt set has no name for it`);
      } catch (err) {
        if (!(err instanceof UsageError)) failures.push(`${odd}: ${(err as Error).constructor.name}: ${(err as Error).message}`);
        else if (!err.message.includes(`missing from the prompts: "${odd}"`)) failures.push(`${odd}: ${err.message}`);
      }
    }
    // and with a name given for it, it resolves to that name
    const named = resolvePrompts({ ...set, classes: { ...set.classes, constructor: 'builder' } }, ['red', 'green', 'constructor'], 'imagefolder');
    expect(named.classNames).toEqual([['red'], ['green'], ['builder']]);
    expect(failures).toEqual([]);
  });
});

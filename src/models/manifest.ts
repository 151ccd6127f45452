/**
 * `clip-bench.json`: describes a hand-made or edge export that follows no known layout.
 *
 * {
 *   "variant": "fp32",                                   // optional, a label stored with runs
 *   "visual":  { "file": "image_encoder.onnx", "input": "pixels", "output": "features" },
 *   "textual": { "file": "text_encoder.onnx", "input": "tokens", "output": "features", "attentionMask": "mask" },
 *   "tokenizer": "tokenizer.json",                       // or vocab.json (+ merges.txt beside it), bpe_simple_vocab_16e6.txt.gz
 *   "preprocess": { "size": 224, "mean": [...], "std": [...], "interpolation": "bicubic", "resize_mode": "shortest" },
 *   "contextLength": 77                                  // optional, else the tokenizer's configs decide
 * }
 * `preprocess` may also be a path to an open_clip `preprocess_cfg.json` or an HF `preprocessor_config.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

export interface ManifestTower {
  file: string;
  input: string;
  output: string;
  attentionMask?: string;
}

export interface Manifest {
  variant: string;
  visual: ManifestTower;
  textual: ManifestTower;
  tokenizer: string;
  /** inline open_clip-style object, or a file (relative to the model folder) */
  preprocess?: Record<string, unknown> | string;
  contextLength?: number;
}

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'clip-bench.json');
  const fail = (what: string) => new UsageError(what, { file, fix: 'see the clip-bench.json example in the README' });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw fail(`not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail('the manifest must be a JSON object');
  const o = raw as Record<string, unknown>;
  const tower = (key: 'visual' | 'textual'): ManifestTower => {
    const t = o[key];
    if (typeof t !== 'object' || t === null) throw fail(`"${key}" must be an object with file, input and output`);
    const r = t as Record<string, unknown>;
    for (const k of ['file', 'input', 'output']) if (typeof r[k] !== 'string' || !r[k]) throw fail(`"${key}.${k}" must be a non-empty string`);
    if (r.attentionMask !== undefined && typeof r.attentionMask !== 'string') throw fail(`"${key}.attentionMask" must be a string`);
    return { file: r.file as string, input: r.input as string, output: r.output as string, attentionMask: r.attentionMask as string | undefined };
  };
  if (typeof o.tokenizer !== 'string' || !o.tokenizer) throw fail('"tokenizer" must name the tokenizer file');
  if (!existsSync(path.join(dir, o.tokenizer))) throw new UsageError('tokenizer file named by the manifest not found', { file: path.join(dir, o.tokenizer), fix: 'fix "tokenizer" in clip-bench.json' });
  const pre = o.preprocess;
  if (pre !== undefined && typeof pre !== 'string' && (typeof pre !== 'object' || pre === null || Array.isArray(pre))) throw fail('"preprocess" must be an object or a file name');
  if (o.contextLength !== undefined && !(Number.isInteger(o.contextLength) && (o.contextLength as number) > 1)) throw fail('"contextLength" must be an integer > 1');
  return {
    variant: typeof o.variant === 'string' ? o.variant : 'fp32',
    visual: tower('visual'),
    textual: tower('textual'),
    tokenizer: o.tokenizer,
    preprocess: pre as Manifest['preprocess'],
    contextLength: o.contextLength as number | undefined,
  };
}

/**
 * Which files of a model folder make a CLIP checkpoint, which precision variant is used, and which
 * I/O names to look for. File names decide the layout; the graphs' own signatures are checked when the
 * sessions open (`checkpoint.ts`).
 *
 * - `immich`: `visual/model.onnx` (`image` → `embedding`, older `image_embedding`), `textual/model.onnx`
 *   (`text` → `embedding`, older `text_embedding`), `textual/tokenizer.json`, `visual/preprocess_cfg.json`.
 * - `hf-split`: `onnx/vision_model{suffix}.onnx` (`pixel_values` → `image_embeds`) and
 *   `onnx/text_model{suffix}.onnx` (`input_ids` [+ `attention_mask`] → `text_embeds`).
 * - `hf-combined`: `onnx/model{suffix}.onnx` with all three inputs and both embedding outputs.
 * - `manifest`: a `clip-bench.json` naming two ONNX files, their inputs and outputs, tokenizer and preprocessing.
 * - `flat-pair`: two ONNX files side by side as other runtimes ship CLIP (ailia MODELS, lakera onnx_clip,
 *   clip-as-service, usls), known by their names (`configs/models/flat-pairs.json`); the tokenizer is the
 *   one found beside them, the preprocessing OpenAI's unless a config is there.
 * Except in a manifest, the names below are only tried first: `tower-roles.ts` resolves every input and
 * output by role.
 * Suffixes name precision variants: `_fp16`, `_quantized`, `_int8`, `_uint8`, `_q4`, `_bnb4`, `_q4f16`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { readManifest, type Manifest } from './manifest.js';
import { preprocessConfigFileIn } from './preprocess/config.js';
import { fedTokenizerFiles } from './tokenizer/fed-tokenizer.js';

export type ModelLayout = 'immich' | 'hf-split' | 'hf-combined' | 'manifest' | 'flat-pair';

export interface TowerSpec {
  /** path relative to the model folder */
  file: string;
  /** input names to look for, first match wins */
  inputs: string[];
  outputs: string[];
  /** optional attention-mask input of a text graph */
  mask?: string;
  /** only these names (a manifest): no resolution by role */
  exact?: boolean;
}

export interface DetectedLayout {
  layout: ModelLayout;
  /** precision variant in use: `fp32` for unsuffixed files */
  variant: string;
  /** every variant the folder offers */
  variants: string[];
  visual: TowerSpec;
  textual: TowerSpec;
  /** hf-combined: both towers are one graph (`visual.file === textual.file`) */
  combined: boolean;
  /** every file the checkpoint uses, relative to its folder: what the fingerprint covers */
  files: string[];
  manifest?: Manifest;
  /** the tokenizer file the layout found, relative to the model folder (flat pairs); else the folder's own search decides */
  tokenizer?: string;
  /** what was assumed rather than read from the checkpoint, one line each (shown by `inspect`) */
  assumptions: string[];
}

export const KNOWN_SUFFIXES = ['fp16', 'quantized', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16'] as const;

/**
 * The files besides the graphs that a folder-layout checkpoint (Immich, Hugging Face) reads: the
 * tokenizer's files (of `tokenizer` relative to `dir` if the layout found one, else of the folder) and the
 * preprocessing config, found by the same functions the loaders use, so the fingerprint covers exactly
 * what is read.
 */
function folderSideFiles(dir: string, tokenizer?: string): string[] {
  const pre = preprocessConfigFileIn(dir);
  return [...tokenizerFilesRel(dir, tokenizer ?? '.'), ...(pre ? [pre] : [])];
}

/**
 * Every file the text tokenizer at `rel` (below `dir`) reads, relative to `dir`; none where there is no
 * tokenizer to read (a `--tokenizer` may replace it; otherwise loading it says what is wrong).
 */
function tokenizerFilesRel(dir: string, rel: string): string[] {
  try {
    return readTokenizerFilesRel(dir, rel);
  } catch {
    return [];
  }
}

/** Every file the text tokenizer at `rel` (below `dir`) reads, relative to `dir`; throws where there is none. */
function readTokenizerFilesRel(dir: string, rel: string): string[] {
  return fedTokenizerFiles(path.join(dir, rel)).map((f) => path.relative(dir, f).split(path.sep).join('/'));
}

/**
 * What a manifest checkpoint reads: the manifest, its tokenizer file(s), and its preprocessing config
 * (a named file; inline it is part of clip-bench.json; absent, the folder's own config if any).
 */
function manifestSideFiles(dir: string, m: Manifest): string[] {
  const pre = typeof m.preprocess === 'string' ? m.preprocess : m.preprocess === undefined ? preprocessConfigFileIn(dir) : undefined;
  return ['clip-bench.json', ...tokenizerFilesRel(dir, m.tokenizer), ...(pre ? [pre] : [])];
}

/** The line `inspect` shows when a folder has no preprocessing config: the transform is then a default, not the checkpoint's. */
function preprocessAssumption(dir: string): string[] {
  return preprocessConfigFileIn(dir) ? [] : ['preprocessing: OpenAI CLIP defaults (no preprocessing config in the model folder)'];
}

/** `vision_model_fp16.onnx` → `fp16`; `vision_model.onnx` → `fp32`. */
function variantOf(file: string, stem: string): string | undefined {
  const m = new RegExp(`^${stem}(?:_([a-z0-9]+))?\\.onnx$`).exec(file);
  if (!m) return undefined;
  return m[1] ?? 'fp32';
}

function pickVariant(dir: string, available: string[], requested: string | undefined): string {
  const sorted = [...new Set(available)].sort((a, b) => (a === 'fp32' ? -1 : b === 'fp32' ? 1 : a.localeCompare(b)));
  if (requested === undefined) return sorted[0];
  if (sorted.includes(requested)) return requested;
  throw new UsageError(`no "${requested}" variant in this model`, { file: dir, fix: `pass --variant with one of: ${sorted.join(', ')}` });
}

function hfLayout(dir: string, requested: string | undefined): DetectedLayout | undefined {
  const onnxDir = path.join(dir, 'onnx');
  if (!existsSync(onnxDir) || !statSync(onnxDir).isDirectory()) return undefined;
  const names = readdirSync(onnxDir);
  const byStem = (stem: string) => new Map(names.flatMap((n) => (variantOf(n, stem) ? [[variantOf(n, stem)!, n] as const] : [])));
  const vision = byStem('vision_model');
  const text = byStem('text_model');
  const combined = byStem('model');
  const split = [...vision.keys()].filter((v) => text.has(v));
  const lonely = [...vision.keys(), ...text.keys()].filter((v) => !(vision.has(v) && text.has(v)));
  const available = [...split, ...combined.keys()];
  if (available.length === 0) {
    if (lonely.length) {
      const have = vision.size ? 'vision_model' : 'text_model';
      const missing = vision.size ? 'text_model' : 'vision_model';
      throw new UsageError(`found onnx/${have}*.onnx but no onnx/${missing}*.onnx`, { file: onnxDir, fix: `download the ${missing} file of the same variant too` });
    }
    return undefined;
  }
  const variant = pickVariant(dir, available, requested);
  const side = folderSideFiles(dir);
  if (vision.has(variant) && text.has(variant)) {
    const v = `onnx/${vision.get(variant)}`;
    const t = `onnx/${text.get(variant)}`;
    return {
      layout: 'hf-split',
      variant,
      variants: [...new Set(available)].sort(),
      visual: { file: v, inputs: ['pixel_values'], outputs: ['image_embeds'] },
      textual: { file: t, inputs: ['input_ids'], outputs: ['text_embeds'], mask: 'attention_mask' },
      combined: false,
      files: [v, t, ...side],
      assumptions: preprocessAssumption(dir),
    };
  }
  const c = `onnx/${combined.get(variant)}`;
  return {
    layout: 'hf-combined',
    variant,
    variants: [...new Set(available)].sort(),
    visual: { file: c, inputs: ['pixel_values'], outputs: ['image_embeds'] },
    textual: { file: c, inputs: ['input_ids'], outputs: ['text_embeds'], mask: 'attention_mask' },
    combined: true,
    files: [c, ...side],
    assumptions: preprocessAssumption(dir),
  };
}

function immichLayout(dir: string, requested: string | undefined): DetectedLayout | undefined {
  const has = (rel: string) => existsSync(path.join(dir, rel));
  if (!has('visual') && !has('textual')) return undefined;
  const variantsIn = (sub: string) => (has(sub) ? readdirSync(path.join(dir, sub)).flatMap((n) => (variantOf(n, 'model') ? [variantOf(n, 'model')!] : [])) : []);
  const visual = variantsIn('visual');
  const textual = variantsIn('textual');
  const available = visual.filter((v) => textual.includes(v));
  if (available.length === 0) {
    const missing = visual.length === 0 ? 'visual/model.onnx' : 'textual/model.onnx';
    throw new UsageError(`Immich layout without ${missing}`, { file: path.join(dir, missing), fix: 'copy the complete export (both the visual/ and the textual/ folder)' });
  }
  const variant = pickVariant(dir, available, requested);
  const file = (sub: string) => `${sub}/model${variant === 'fp32' ? '' : `_${variant}`}.onnx`;
  return {
    layout: 'immich',
    variant,
    variants: [...new Set(available)].sort(),
    visual: { file: file('visual'), inputs: ['image'], outputs: ['embedding', 'image_embedding'] },
    textual: { file: file('textual'), inputs: ['text'], outputs: ['embedding', 'text_embedding'], mask: 'attention_mask' },
    combined: false,
    files: [file('visual'), file('textual'), ...folderSideFiles(dir)],
    assumptions: preprocessAssumption(dir),
  };
}

function manifestLayout(dir: string, requested: string | undefined): DetectedLayout | undefined {
  if (!existsSync(path.join(dir, 'clip-bench.json'))) return undefined;
  const m = readManifest(dir);
  if (requested !== undefined && requested !== m.variant) {
    throw new UsageError(`no "${requested}" variant in this model`, { file: path.join(dir, 'clip-bench.json'), fix: `its manifest describes the ${m.variant} variant only` });
  }
  return {
    layout: 'manifest',
    variant: m.variant,
    variants: [m.variant],
    visual: { file: m.visual.file, inputs: [m.visual.input], outputs: [m.visual.output], exact: true },
    textual: { file: m.textual.file, inputs: [m.textual.input], outputs: [m.textual.output], mask: m.textual.attentionMask, exact: true },
    combined: false,
    files: [...new Set([m.visual.file, m.textual.file, ...manifestSideFiles(dir, m)])],
    manifest: m,
    assumptions: [],
  };
}

/** One runtime's file-name pattern for a flat pair (`configs/models/flat-pairs.json`). */
interface FlatPairPattern {
  runtime: string;
  /** file names with `{name}` standing for the pair's name */
  visual: string;
  textual: string;
  source: string;
}

let flatPatterns: FlatPairPattern[] | undefined;
function flatPairPatterns(): FlatPairPattern[] {
  return (flatPatterns ??= (JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'models', 'flat-pairs.json'), 'utf8')) as { pairs: FlatPairPattern[] }).pairs);
}

export interface FlatPair {
  runtime: string;
  /** the `{name}` part of the file names ('' for runtimes with fixed names) */
  name: string;
  visual: string;
  textual: string;
}

/** `{name}-visual.onnx` → a regex capturing the name (non-empty). */
function patternRegex(pattern: string): RegExp {
  const [before, after] = pattern.split('{name}').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return after === undefined ? new RegExp(`^${before}$`) : new RegExp(`^${before}(.+)${after}$`);
}

/**
 * The flat ONNX pairs among `files` (names in a folder), by every known runtime's pattern; also the
 * image files whose text partner is missing, for a helpful refusal.
 */
export function findFlatPairs(files: readonly string[]): { pairs: FlatPair[]; lonely: { file: string; missing: string }[] } {
  const pairs: FlatPair[] = [];
  const lonely: { file: string; missing: string }[] = [];
  for (const p of flatPairPatterns()) {
    const [visualRe, textualRe] = [patternRegex(p.visual), patternRegex(p.textual)];
    for (const f of files) {
      const v = visualRe.exec(f);
      const t = textualRe.exec(f);
      if (v) {
        const textual = p.textual.replace('{name}', v[1] ?? '');
        if (files.includes(textual)) pairs.push({ runtime: p.runtime, name: v[1] ?? '', visual: f, textual });
        else lonely.push({ file: f, missing: textual });
      } else if (t) {
        const visual = p.visual.replace('{name}', t[1] ?? '');
        if (!files.includes(visual)) lonely.push({ file: f, missing: visual });
      }
    }
  }
  return { pairs, lonely };
}

/** The variant label of a pair: its name, or `fp32` for runtimes with fixed file names. */
const pairVariant = (p: FlatPair) => p.name || 'fp32';

/**
 * A folder holding ONNX pairs named as a known runtime names them. Several pairs (ViT-B32 and ViT-L14
 * side by side) are refused unless `--variant NAME` picks one: guessing would evaluate the wrong model.
 */
function flatPairLayout(dir: string, requested: string | undefined, opts: DetectOptions): DetectedLayout | undefined {
  const onnx = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
  const { pairs, lonely } = findFlatPairs(onnx);
  if (pairs.length === 0) {
    if (lonely.length) throw new UsageError(`found ${lonely[0].file} but not ${lonely[0].missing} beside it`, { file: path.join(dir, lonely[0].missing), fix: 'download the other half of the same pair too' });
    return undefined;
  }
  const variants = pairs.map(pairVariant);
  const listed = pairs.map((p) => `${pairVariant(p)} (${p.visual} + ${p.textual})`).join(', ');
  if (requested === undefined && pairs.length > 1) {
    throw new UsageError(`${pairs.length} ONNX pairs in this folder: ${listed}`, { file: dir, fix: `pick one with --variant ${variants.join(' | ')}` });
  }
  const pair = requested === undefined ? pairs[0] : pairs.find((p) => pairVariant(p) === requested);
  if (!pair) throw new UsageError(`no "${requested}" pair in this folder`, { file: dir, fix: `pass --variant with one of: ${variants.join(', ')}` });

  let tokenizerFiles: string[] = [];
  if (opts.tokenizer === undefined) {
    try {
      // the family tokenizer's own files too (tokenizer_config.json, special_tokens_map.json), as for the other layouts
      tokenizerFiles = readTokenizerFilesRel(dir, '.');
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      throw new UsageError(`no tokenizer beside the ${pair.runtime} pair ${pair.visual} + ${pair.textual}`, {
        file: dir,
        fix: 'put its tokenizer.json (or vocab.json + merges.txt, or bpe_simple_vocab_16e6.txt.gz) beside the pair, or pass --tokenizer FILE',
      });
    }
  }
  const pre = preprocessConfigFileIn(dir);
  return {
    layout: 'flat-pair',
    variant: pairVariant(pair),
    variants: [...new Set(variants)].sort(),
    visual: { file: pair.visual, inputs: [], outputs: [] },
    textual: { file: pair.textual, inputs: [], outputs: [] },
    combined: false,
    files: [pair.visual, pair.textual, ...tokenizerFiles, ...(pre ? [pre] : [])],
    ...(tokenizerFiles.length ? { tokenizer: tokenizerFiles[0] } : {}),
    assumptions: [
      `layout: ${pair.runtime} pair ${pair.visual} + ${pair.textual}, known by its file names (no manifest)`,
      ...(tokenizerFiles.length ? [`tokenizer: ${tokenizerFiles[0]}, found beside the pair`] : []),
      pre ? `preprocessing: ${pre}` : 'preprocessing: OpenAI CLIP defaults (no config beside the ONNX pair)',
    ],
  };
}

/** Whether `dir` holds a model export at its top: a manifest, Immich's visual/ + textual/, or HF's onnx/. */
function looksLikeExportRoot(dir: string): boolean {
  const isDir = (rel: string) => existsSync(path.join(dir, rel)) && statSync(path.join(dir, rel)).isDirectory();
  return existsSync(path.join(dir, 'clip-bench.json')) || (isDir('visual') && isDir('textual')) || (isDir('onnx') && readdirSync(path.join(dir, 'onnx')).some((f) => f.endsWith('.onnx')));
}

/** The nearest folder above `p` (up to two levels) that holds a model export: what `--model` should have been. */
function exportRootAbove(p: string): string | undefined {
  const parent = path.dirname(p);
  return [...new Set([parent, path.dirname(parent)])].find(looksLikeExportRoot);
}

export interface DetectOptions {
  /** a tokenizer given on the command line (`--tokenizer FILE`): a flat pair then needs none beside it */
  tokenizer?: string;
}

/**
 * The layout `dir` is written in, or undefined where it is none clip-bench knows; its model files are not
 * checked (`detectLayout` does). Throws where a layout recognised the folder but refuses it (a bad
 * clip-bench.json, an ambiguous variant).
 */
export function matchLayout(dir: string, variant?: string, opts: DetectOptions = {}): DetectedLayout | undefined {
  return manifestLayout(dir, variant) ?? immichLayout(dir, variant) ?? hfLayout(dir, variant) ?? flatPairLayout(dir, variant, opts);
}

/**
 * Detects the layout of `dir`; `variant` picks a precision variant (default: fp32, else the first), or
 * for flat pairs the pair's name.
 */
export function detectLayout(dir: string, variant?: string, opts: DetectOptions = {}): DetectedLayout {
  if (!existsSync(dir)) {
    throw new UsageError('model folder not found', { file: dir, fix: 'pass --model with the folder of an ONNX CLIP export' });
  }
  if (!statSync(dir).isDirectory()) {
    const root = exportRootAbove(dir) ?? path.dirname(dir);
    throw new UsageError('is a file; --model takes the model folder', { file: dir, fix: `pass the model folder above it: --model ${root}` });
  }
  const found = matchLayout(dir, variant, opts);
  if (found) {
    for (const f of [found.visual.file, found.textual.file]) {
      const file = path.join(dir, f);
      if (!existsSync(file)) throw new UsageError('model file not found', { file, fix: 'copy the complete export' });
      if (statSync(file).size === 0) throw new UsageError('model file is empty (0 bytes)', { file, fix: 'the download or copy was cut short; fetch the file again' });
    }
    return found;
  }
  const root = exportRootAbove(dir);
  if (root !== undefined) {
    throw new UsageError(`this is the ${path.basename(path.resolve(dir))}/ folder of a model export`, { file: dir, fix: `pass the export's own folder, the parent: --model ${root}` });
  }
  const onnx = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
  throw new UsageError(
    `no known CLIP export layout (Immich visual/ + textual/, Hugging Face onnx/, a known ONNX pair (ailia, onnx_clip, clip-as-service, usls), or a clip-bench.json manifest)${onnx.length ? `; found ${onnx.join(', ')}` : ''}`,
    { file: dir, fix: onnx.length ? 'describe the two ONNX files in a clip-bench.json manifest (see README)' : 'point --model at the folder of an ONNX CLIP export' },
  );
}

/**
 * How a checkpoint's family turns cosine similarities into probabilities: its scoring link. Top-k is the
 * same under any monotone link, calibration is not. CLIP's confidence is softmax(100·cos) over the classes;
 * SigLIP's probability is sigmoid(exp(logit_scale)·cos + logit_bias) per class, with the checkpoint's trained
 * `logit_scale` and `logit_bias`. Those are rarely written down beside an ONNX export, so every link says
 * where its numbers came from and whether they are the trained ones.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { LOGIT_SCALE } from '../prompts/classifier.js';
import { floatData, type Session } from './onnx-session.js';
import { familyOfClass } from './tokenizer/families.js';

export type LinkKind = 'softmax' | 'sigmoid';

/**
 * Where a link's scale and bias came from:
 * - `family`: CLIP's fixed rule, softmax(100·cos) (OpenAI's learned scale sits at its clamp of 100);
 * - `graph`: solved exactly from the checkpoint's own combined graph (`logits_per_image`), i.e. trained;
 * - `stated`: `--logit-scale` / `--logit-bias`;
 * - `init`: open_clip's initial values from the export's config.json, not the trained ones;
 * - `default`: nothing in the checkpoint states them; SigLIP's initialisation (paper: t′ = log 10, b = −10).
 */
export type LinkOrigin = 'family' | 'graph' | 'stated' | 'init' | 'default';

export interface ScoringLink {
  link: LinkKind;
  /** multiplies the cosine: exp(logit_scale) */
  scale: number;
  /** added after scaling (sigmoid only; 0 for softmax, where a shift changes nothing) */
  bias: number;
  origin: LinkOrigin;
  /** where scale and bias came from, in words */
  source: string;
}

/** What a user states with `--logit-scale` (log space, as open_clip and transformers store it) and `--logit-bias`. */
export interface StatedLink {
  logitScale?: number;
  logitBias?: number;
}

/** CLIP's link, and the link of every run stored before runs recorded one. */
export const CLIP_SOFTMAX_LINK: Readonly<ScoringLink> = Object.freeze({
  link: 'softmax',
  scale: LOGIT_SCALE,
  bias: 0,
  origin: 'family',
  source: "CLIP: softmax over the classes at OpenAI's logit scale of 100",
});

/** SigLIP's initialisation (Zhai et al. 2023, §3.2; open_clip `init_logit_scale = log(10)`, `init_logit_bias = -10`). */
const SIGLIP_INIT = { logitScale: Math.log(10), logitBias: -10 } as const;

/** A probability from a logit, stable on both tails. */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * The top-1 confidence of one image from its stored logits (LOGIT_SCALE·cos per class, as runs store them):
 * softmax(scale·cos) of class `c` for CLIP's link; sigmoid(scale·cos_c + bias) for SigLIP's, which needs
 * class c's logit only.
 * @example topConfidence(CLIP_SOFTMAX_LINK, [0, Math.log(3)], 1) // → 0.75
 */
export function topConfidence(link: ScoringLink, storedLogits: ArrayLike<number>, c: number): number {
  const k = link.scale / LOGIT_SCALE;
  if (link.link === 'sigmoid') return sigmoid(k * storedLogits[c] + link.bias);
  let max = -Infinity;
  for (let i = 0; i < storedLogits.length; i++) if (storedLogits[i] > max) max = storedLogits[i];
  let sum = 0;
  for (let i = 0; i < storedLogits.length; i++) sum += Math.exp(k * (storedLogits[i] - max));
  return Math.exp(k * (storedLogits[c] - max)) / sum;
}

/**
 * scale and bias of `logits = scale·cos + bias` from two (cos, logit) pairs of one run of a combined graph.
 * Null when the two cosines are too close for the slope to be meaningful.
 */
export function solveScaleBias(cos: readonly [number, number], logits: readonly [number, number]): { scale: number; bias: number } | null {
  const dc = cos[0] - cos[1];
  if (!(Math.abs(dc) > 1e-3)) return null;
  const scale = (logits[0] - logits[1]) / dc;
  return { scale, bias: logits[0] - scale * cos[0] };
}

type Json = Record<string, unknown>;

function readJsonIn(dir: string, rel: string): Json | undefined {
  const file = path.join(dir, rel);
  if (!existsSync(file)) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
  } catch (err) {
    throw new UsageError(`cannot read ${rel}: ${(err as Error).message}`, { file, cause: err });
  }
}

/**
 * Whether the checkpoint in `dir` is a SigLIP/SigLIP2 one, from its files: Hugging Face config.json
 * `model_type` siglip | siglip2, an open_clip/Immich config.json with `init_logit_bias` (only
 * SigLIP models have a bias), or a tokenizer_config.json whose class is of the siglip / siglip2-gemma
 * tokenizer families (`families.ts`).
 */
export function isSiglipCheckpoint(dir: string): boolean {
  const cfg = readJsonIn(dir, 'config.json');
  if (cfg && (cfg.model_type === 'siglip' || cfg.model_type === 'siglip2')) return true;
  if (cfg && typeof cfg.init_logit_bias === 'number') return true;
  const tok = readJsonIn(dir, 'tokenizer_config.json') ?? readJsonIn(dir, 'textual/tokenizer_config.json');
  const family = typeof tok?.tokenizer_class === 'string' ? familyOfClass(tok.tokenizer_class) : undefined;
  return family === 'siglip' || family === 'siglip2-gemma';
}

function finite(v: unknown, name: string, file: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`${name} must be a finite number, got ${JSON.stringify(v)}`, { file });
  return v;
}

export interface LinkInputs {
  /** the checkpoint's family (tokenizer family): siglip / siglip2-gemma take the sigmoid link; else found from the configs */
  family?: string;
  stated?: StatedLink;
  /** scale and bias solved from the checkpoint's combined graph, and that graph's file */
  solved?: { scale: number; bias: number; file: string };
}

/**
 * The link a checkpoint scores with, and where its numbers come from, in this order: stated flags; the
 * checkpoint's combined graph (trained values, solved exactly); config.json's open_clip init values (said
 * to be init values); SigLIP's initialisation as a stated default. CLIP checkpoints take softmax(100·cos),
 * or softmax(exp(--logit-scale)·cos).
 */
export function scoringLinkFor(dir: string, inputs: LinkInputs = {}): ScoringLink {
  const stated = inputs.stated ?? {};
  const siglip = inputs.family !== undefined ? inputs.family === 'siglip' || inputs.family === 'siglip2-gemma' : isSiglipCheckpoint(dir);
  const flagSource = (s: string) => `stated: ${s}`;
  if (!siglip) {
    if (stated.logitBias !== undefined) {
      throw new UsageError('--logit-bias has no effect on a softmax link (a shift of every logit changes no probability)', { file: dir, fix: 'drop --logit-bias; it is for SigLIP checkpoints' });
    }
    if (stated.logitScale === undefined) return { ...CLIP_SOFTMAX_LINK };
    return { link: 'softmax', scale: Math.exp(stated.logitScale), bias: 0, origin: 'stated', source: flagSource(`--logit-scale ${stated.logitScale} (softmax over the classes)`) };
  }
  if ((stated.logitScale === undefined) !== (stated.logitBias === undefined)) {
    throw new UsageError('a SigLIP link needs both --logit-scale and --logit-bias', { file: dir, fix: "state both of the checkpoint's trained values (logit_scale in log space, as stored)" });
  }
  if (stated.logitScale !== undefined) {
    return { link: 'sigmoid', scale: Math.exp(stated.logitScale), bias: stated.logitBias!, origin: 'stated', source: flagSource(`--logit-scale ${stated.logitScale} --logit-bias ${stated.logitBias}`) };
  }
  if (inputs.solved) {
    const rel = path.relative(dir, inputs.solved.file) || inputs.solved.file;
    return { link: 'sigmoid', scale: inputs.solved.scale, bias: inputs.solved.bias, origin: 'graph', source: `trained: solved from ${rel} logits_per_image = exp(logit_scale)·cos + logit_bias` };
  }
  const cfg = readJsonIn(dir, 'config.json');
  if (cfg && (cfg.init_logit_bias !== undefined || cfg.init_logit_scale !== undefined)) {
    const file = path.join(dir, 'config.json');
    const logitScale = cfg.init_logit_scale === undefined ? SIGLIP_INIT.logitScale : finite(cfg.init_logit_scale, 'init_logit_scale', file);
    const logitBias = cfg.init_logit_bias === undefined ? SIGLIP_INIT.logitBias : finite(cfg.init_logit_bias, 'init_logit_bias', file);
    const said = [cfg.init_logit_scale === undefined ? 'scale: open_clip default init log(10)' : 'config.json "init_logit_scale"', cfg.init_logit_bias === undefined ? 'bias: default init -10' : 'config.json "init_logit_bias"'];
    return { link: 'sigmoid', scale: Math.exp(logitScale), bias: logitBias, origin: 'init', source: `init values, not the trained ones: ${said.join(', ')} (open_clip initialisation)` };
  }
  return {
    link: 'sigmoid',
    scale: Math.exp(SIGLIP_INIT.logitScale),
    bias: SIGLIP_INIT.logitBias,
    origin: 'default',
    source: 'default: the checkpoint states no logit_scale/logit_bias; SigLIP\'s initialisation (scale 10, bias -10), not the trained values',
  };
}

/** Whether calibration under this link describes the model (its own trained or stated values) or only a default. */
export function linkIsTrained(link: ScoringLink): boolean {
  return link.origin === 'family' || link.origin === 'graph' || link.origin === 'stated';
}

/** The link in words: `sigmoid(117.33·cos − 12.93), trained: solved from …`. */
export function describeLink(link: ScoringLink): string {
  const num = (x: number) => String(Number(x.toPrecision(6)));
  const formula = link.link === 'softmax' ? `softmax(${num(link.scale)}·cos)` : `sigmoid(${num(link.scale)}·cos ${link.bias < 0 ? '−' : '+'} ${num(Math.abs(link.bias))})`;
  return `${formula}; ${link.source}`;
}

/** The part of a link that changes stored confidences, for a run's identity (nothing for CLIP's default, so older identities hold). */
export function linkIdentity(link: ScoringLink): Record<string, unknown> {
  return link.link === 'softmax' && link.scale === LOGIT_SCALE ? {} : { scoring: { link: link.link, scale: link.scale, bias: link.bias } };
}

/** The link a stored run used: its `params.scoring`, else (runs made before links were recorded) CLIP's. */
export function runLink(params: Record<string, unknown>): ScoringLink {
  const s = params.scoring as Partial<ScoringLink> | undefined;
  if (s === undefined || s === null) return { ...CLIP_SOFTMAX_LINK };
  const ok = (s.link === 'softmax' || s.link === 'sigmoid') && typeof s.scale === 'number' && Number.isFinite(s.scale) && s.scale > 0 && typeof s.bias === 'number' && Number.isFinite(s.bias);
  if (!ok) throw new UsageError(`the run's stored scoring link ${JSON.stringify(s)} is not one clip-bench writes`, { fix: 'the results DB was edited or written by another program' });
  return { link: s.link!, scale: s.scale!, bias: s.bias!, origin: s.origin ?? 'default', source: s.source ?? 'stored without a source' };
}

/** The combined graph's output that holds scale·cos + bias (Hugging Face CLIPModel / SiglipModel exports). */
export const COMBINED_LOGITS_OUTPUT = 'logits_per_image';

/**
 * One run of a combined graph on one image and two texts (`feeds`) → its logit scale and bias, solved from
 * `logits_per_image` against the cosines of the same run's embeddings. Undefined when the graph has no
 * `logits_per_image` or the two texts' cosines are too close to tell scale from bias.
 */
export async function solveLinkFromCombinedGraph(
  session: Session,
  feeds: Record<string, unknown>,
  outputs: { image: string; text: string },
): Promise<{ scale: number; bias: number } | undefined> {
  if (!session.outputNames.includes(COMBINED_LOGITS_OUTPUT)) return undefined;
  const r = await session.run(feeds as Parameters<Session['run']>[0], [COMBINED_LOGITS_OUTPUT, outputs.image, outputs.text]);
  const logits = floatData(r[COMBINED_LOGITS_OUTPUT]);
  const image = floatData(r[outputs.image]);
  const text = floatData(r[outputs.text]);
  const dim = image.length;
  if (logits.length < 2 || text.length < 2 * dim) return undefined;
  const cosine = (t: number) => {
    let dot = 0;
    let ni = 0;
    let nt = 0;
    for (let k = 0; k < dim; k++) {
      dot += image[k] * text[t * dim + k];
      ni += image[k] * image[k];
      nt += text[t * dim + k] * text[t * dim + k];
    }
    return dot / Math.sqrt(ni * nt);
  };
  return solveScaleBias([cosine(0), cosine(1)], [logits[0], logits[1]]) ?? undefined;
}

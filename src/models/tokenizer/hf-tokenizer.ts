/**
 * Every tokenizer.json that is not CLIP's BPE (Unigram, WordPiece, SentencePiece BPE with byte
 * fallback, Metaspace / Precompiled normalisers) runs through `@huggingface/tokenizers` (the pure-TS
 * tokenizers of transformers.js), loaded at first use. Where that library departs from
 * sentencepiece, clip-bench swaps in its own step: the Precompiled charsmap
 * ({@link PrecompiledCharsmap}) and the float32 Unigram Viterbi ({@link UnigramViterbi}).
 * Special-token spellings in the text are split out by the library, as Hugging Face does.
 */
import { createRequire } from 'node:module';
import { UsageError } from '../../errors.js';
import { PrecompiledCharsmap } from './precompiled-charsmap.js';
import { isRecord } from './read-files.js';
import { UnigramViterbi } from './unigram-viterbi.js';

/** clip-bench's own steps, each on by default; switching one off shows what it fixes. */
export interface ExactSteps {
  /** apply `precompiled_charsmap` itself instead of the library's NFKC approximation */
  charsmap?: boolean;
  /** segment Unigram text with sentencepiece's float32 Viterbi instead of the library's float64 lattice */
  float32Viterbi?: boolean;
}

/** The parts of `@huggingface/tokenizers`' Tokenizer this module uses (its types are loose). */
interface LibTokenizer {
  encode(text: string, opts: { add_special_tokens: boolean }): { ids: number[] };
  normalizer: unknown;
  model: { tokenize?: (text: string) => string[] } | null;
}
type LibModule = { Tokenizer: new (json: object, config: object) => LibTokenizer };

let lib: LibModule | undefined;
/** The library, required on first use (its CommonJS build, so that loading stays synchronous). */
function library(): LibModule {
  lib ??= createRequire(import.meta.url)('@huggingface/tokenizers') as LibModule;
  return lib;
}

const FIX = 'use the tokenizer.json the checkpoint ships (Hugging Face tokenizers format: model type Unigram, WordPiece or BPE)';

/** Model types `@huggingface/tokenizers` 0.2.0 can read. */
export const LIBRARY_MODEL_TYPES = ['BPE', 'Unigram', 'WordPiece', 'WordLevel'] as const;

/** A non-CLIP tokenizer.json: content ids of a text, without special tokens, padding or truncation. */
export class HfTokenizer {
  readonly modelType: string;
  /** the largest id of the vocabulary and the added tokens */
  readonly maxId: number;
  private readonly tok: LibTokenizer;
  private readonly tokenIds: Map<string, number>;

  /** `json`: the parsed tokenizer.json; `config`: tokenizer_config.json (or {}); `file` names errors. */
  constructor(json: unknown, config: Record<string, unknown>, file: string, steps: ExactSteps = {}) {
    if (!isRecord(json) || !isRecord(json.model)) throw new UsageError('not a Hugging Face tokenizer.json (no "model" object)', { file, fix: FIX });
    const type = json.model.type;
    if (typeof type !== 'string' || !(LIBRARY_MODEL_TYPES as readonly string[]).includes(type)) {
      throw new UsageError(`tokenizer model type ${JSON.stringify(type)} cannot be read (known: ${LIBRARY_MODEL_TYPES.join(', ')})`, { file, fix: FIX });
    }
    this.modelType = type;
    try {
      this.tok = new (library().Tokenizer)(json, config);
    } catch (e) {
      throw new UsageError(`@huggingface/tokenizers cannot read this tokenizer.json: ${(e as Error).message}`, { file, fix: FIX, cause: e });
    }
    this.tokenIds = tokenIdsOf(json);
    let maxId = -1;
    for (const id of this.tokenIds.values()) if (id > maxId) maxId = id; // no spread: vocabularies exceed the argument limit
    this.maxId = maxId;
    if (steps.charsmap !== false) replacePrecompiled(this.tok, file);
    if (steps.float32Viterbi !== false && type === 'Unigram') replaceViterbi(this.tok, json, file);
  }

  /** Id of a token (vocabulary or added token), e.g. `tokenToId('</s>')`. */
  tokenToId(token: string): number | undefined {
    return this.tokenIds.get(token);
  }

  /** Content ids of `text` (normalised, pre-tokenised, segmented), no special tokens added. */
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }
}

/** token → id over the model's vocabulary and the added tokens (which win, as in the library). */
function tokenIdsOf(json: Record<string, unknown>): Map<string, number> {
  const ids = new Map<string, number>();
  const model = json.model as Record<string, unknown>;
  if (Array.isArray(model.vocab)) model.vocab.forEach((entry, i) => Array.isArray(entry) && typeof entry[0] === 'string' && ids.set(entry[0], i));
  else if (isRecord(model.vocab)) for (const [t, id] of Object.entries(model.vocab)) if (Number.isInteger(id)) ids.set(t, id as number);
  for (const t of addedTokens(json)) ids.set(t.content, t.id);
  return ids;
}

function addedTokens(json: Record<string, unknown>): { content: string; id: number; special: boolean }[] {
  if (!Array.isArray(json.added_tokens)) return [];
  return json.added_tokens.filter((t): t is { content: string; id: number; special: boolean } => isRecord(t) && typeof t.content === 'string' && Number.isInteger(t.id)).map((t) => ({ content: t.content, id: t.id, special: t.special === true }));
}

/** A normaliser object as the library's Sequence calls it. */
interface LibNormalizer {
  config?: { type?: string; precompiled_charsmap?: unknown };
  normalizers?: LibNormalizer[];
  normalize(text: string): string;
}

/**
 * Swaps every Precompiled normaliser (top level or in a Sequence) for our charsmap. The library's
 * Tokenizer calls its normaliser as a function, so a top-level one is wrapped.
 */
function replacePrecompiled(tok: LibTokenizer, file: string): void {
  const own = (n: LibNormalizer): LibNormalizer | undefined => {
    if (n.config?.type !== 'Precompiled') return undefined;
    const b64 = n.config.precompiled_charsmap;
    if (typeof b64 !== 'string' || b64 === '') return undefined; // an empty charsmap is the identity, as the library treats it
    const map = PrecompiledCharsmap.fromBase64(b64, file);
    return { normalize: (t) => map.normalize(t) };
  };
  const top = tok.normalizer as LibNormalizer | null;
  if (!top) return;
  const swapped = own(top);
  if (swapped) {
    tok.normalizer = (t: string) => swapped.normalize(t);
    return;
  }
  const walk = (n: LibNormalizer) => {
    if (!n.normalizers) return;
    n.normalizers = n.normalizers.map((child) => own(child) ?? (walk(child), child));
  };
  walk(top);
}

/** Swaps the library's Unigram lattice for sentencepiece's float32 Viterbi. */
function replaceViterbi(tok: LibTokenizer, json: Record<string, unknown>, file: string): void {
  const model = json.model as Record<string, unknown>;
  const vocab = model.vocab;
  if (!Array.isArray(vocab) || !vocab.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number')) {
    throw new UsageError('model.vocab of a Unigram tokenizer must be a list of [piece, score]', { file, fix: FIX });
  }
  if (!Number.isInteger(model.unk_id)) throw new UsageError('Unigram model.unk_id is missing', { file, fix: FIX });
  // Special tokens are never matched inside text by sentencepiece (they are control pieces).
  const skip = new Set(addedTokens(json).filter((t) => t.special).map((t) => t.content));
  const viterbi = new UnigramViterbi({ vocab: vocab as [string, number][], unkId: model.unk_id as number }, skip);
  if (!tok.model) throw new UsageError('tokenizer.json has no model', { file, fix: FIX });
  tok.model.tokenize = (text: string) => viterbi.encodePieces(text);
}

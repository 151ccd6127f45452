/**
 * Loading CLIP tokenizers from the vocabulary files checkpoints ship. All loaders are synchronous (the files
 * are a few MB at most) and throw `UsageError` naming the file for anything that is not a CLIP BPE
 * tokenizer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { UsageError, invalidParameter } from '../../errors.js';
import { BYTE_VOCAB_ORDER } from './byte-level.js';
import type { Merge } from './bpe.js';
import { isRecord, readJson, readText } from './read-files.js';
import { ClipTokenizer, END_OF_WORD, EOT_TOKEN, SOT_TOKEN, type ClipTokenizerSpec } from './tokenizer.js';

/** Settings that override what the files say. */
export interface TokenizerLoadOptions {
  /** tokens per row (default: from the files, else 77) */
  contextLength?: number;
  /** padding id (default: from the files, else 0) */
  padId?: number;
}

/** simple_tokenizer keeps merges[1 : 49152-256-2+1] of bpe_simple_vocab_16e6.txt: 48,894 merges. */
export const CLIP_MERGE_COUNT = 49152 - 256 - 2;

const BPE_FIX = 'use a CLIP BPE tokenizer: tokenizer.json with model.type "BPE" and </w> word ends, vocab.json + merges.txt, or bpe_simple_vocab_16e6.txt.gz';

/** token → id from a JSON object, checking every id is a non-negative integer. */
function parseVocab(raw: unknown, file: string, where: string): Map<string, number> {
  if (!isRecord(raw)) throw new UsageError(`${where} is not an object of token → id`, { file, fix: BPE_FIX });
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(raw)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new UsageError(`${where} gives token ${JSON.stringify(token)} the id ${JSON.stringify(id)}, expected a non-negative integer`, { file, fix: BPE_FIX });
    }
    vocab.set(token, id as number);
  }
  return vocab;
}

/** One merge from tokenizer.json: `"a b"` (tokenizers < 0.20) or `["a", "b"]` (newer). */
function parseMerge(raw: unknown, index: number, file: string): Merge {
  if (typeof raw === 'string') {
    const parts = raw.split(' ');
    if (parts.length === 2 && parts[0] && parts[1]) return [parts[0], parts[1]];
  } else if (Array.isArray(raw) && raw.length === 2 && typeof raw[0] === 'string' && typeof raw[1] === 'string' && raw[0] && raw[1]) {
    return [raw[0], raw[1]];
  }
  throw new UsageError(`model.merges[${index}] is ${JSON.stringify(raw)}, expected "left right" or ["left", "right"]`, { file, fix: BPE_FIX });
}

/** HF tokenizers refuses merges whose parts or result are not tokens; so do we (a broken file, not a tokenizer). */
export function checkMerges(vocab: ReadonlyMap<string, number>, merges: readonly Merge[], file: string): void {
  merges.forEach(([a, b], i) => {
    for (const t of [a, b, a + b]) {
      if (!vocab.has(t)) throw new UsageError(`merge #${i} (${JSON.stringify(a)} + ${JSON.stringify(b)}) uses ${JSON.stringify(t)}, which is not in the vocabulary`, { file, fix: BPE_FIX });
    }
  });
}

export function checkOptions(opts: TokenizerLoadOptions): void {
  if (opts.contextLength !== undefined && (!Number.isInteger(opts.contextLength) || opts.contextLength < 2)) {
    throw invalidParameter('contextLength', 'an integer of at least 2', opts.contextLength);
  }
  if (opts.padId !== undefined && (!Number.isInteger(opts.padId) || opts.padId < 0)) {
    throw invalidParameter('padId', 'a non-negative integer', opts.padId);
  }
}

/** What a tokenizer.json says about context length and padding (its `truncation` / `padding` sections). */
function tokenizerJsonDefaults(json: Record<string, unknown>): TokenizerLoadOptions {
  const out: TokenizerLoadOptions = {};
  const trunc = json.truncation;
  if (isRecord(trunc) && Number.isInteger(trunc.max_length)) out.contextLength = trunc.max_length as number;
  const pad = json.padding;
  if (isRecord(pad)) {
    if (Number.isInteger(pad.pad_id)) out.padId = pad.pad_id as number;
    const fixed = isRecord(pad.strategy) ? pad.strategy.Fixed : undefined;
    if (Number.isInteger(fixed) && out.contextLength === undefined) out.contextLength = fixed as number;
  }
  return out;
}

/** The overrides in `opts` that are set, laid over `spec`. */
export function withOptions(spec: ClipTokenizerSpec, opts: TokenizerLoadOptions): ClipTokenizer {
  checkOptions(opts);
  return new ClipTokenizer({
    ...spec,
    contextLength: opts.contextLength ?? spec.contextLength,
    padId: opts.padId ?? spec.padId,
  });
}

/** Vocabulary, merges and settings of a parsed tokenizer.json; `file` is for error messages. */
export function tokenizerJsonSpec(json: unknown, file: string): ClipTokenizerSpec {
  if (!isRecord(json) || !isRecord(json.model)) {
    throw new UsageError('not a Hugging Face tokenizer.json (no "model" object)', { file, fix: BPE_FIX });
  }
  const model = json.model;
  if (model.type !== undefined && model.type !== 'BPE') {
    throw new UsageError(`tokenizer model is ${JSON.stringify(model.type)}, expected a CLIP BPE tokenizer (model.type "BPE")`, { file, fix: BPE_FIX });
  }
  if (!Array.isArray(model.merges)) throw new UsageError('model.merges is missing, expected a CLIP BPE tokenizer', { file, fix: BPE_FIX });
  if (typeof model.continuing_subword_prefix === 'string' && model.continuing_subword_prefix !== '') {
    throw new UsageError(`model.continuing_subword_prefix is ${JSON.stringify(model.continuing_subword_prefix)}; CLIP BPE has none`, { file, fix: BPE_FIX });
  }
  const vocab = parseVocab(model.vocab, file, 'model.vocab');
  // Specials may live only in added_tokens.
  if (Array.isArray(json.added_tokens)) {
    for (const t of json.added_tokens) {
      if (isRecord(t) && typeof t.content === 'string' && Number.isInteger(t.id) && !vocab.has(t.content)) vocab.set(t.content, t.id as number);
    }
  }
  const suffix = typeof model.end_of_word_suffix === 'string' && model.end_of_word_suffix ? model.end_of_word_suffix : undefined;
  if (suffix === undefined && ![...vocab.keys()].some((t) => t.endsWith(END_OF_WORD))) {
    throw new UsageError('BPE without the </w> end-of-word suffix (GPT-2 style), expected a CLIP BPE tokenizer', { file, fix: BPE_FIX });
  }
  const merges = model.merges.map((m, i) => parseMerge(m, i, file));
  checkMerges(vocab, merges, file);
  return {
    vocab,
    merges,
    endOfWordSuffix: suffix ?? END_OF_WORD,
    unkToken: typeof model.unk_token === 'string' ? model.unk_token : null,
    ...tokenizerJsonDefaults(json),
    source: file,
  };
}

/**
 * A tokenizer from an already parsed tokenizer.json object (see {@link loadTokenizerJson});
 * `file` only names it in error messages.
 */
export function parseTokenizerJson(json: unknown, opts: TokenizerLoadOptions = {}, file = 'tokenizer.json'): ClipTokenizer {
  return withOptions(tokenizerJsonSpec(json, file), opts);
}

/**
 * Loads a Hugging Face `tokenizer.json` (model.vocab + model.merges in either the `"a b"` or the
 * `["a","b"]` form; specials from `added_tokens` too). Its `truncation.max_length` and
 * `padding.pad_id`, when set, give the context length and pad id unless `opts` says otherwise.
 */
export function loadTokenizerJson(file: string, opts: TokenizerLoadOptions = {}): ClipTokenizer {
  return parseTokenizerJson(readJson(file, 'tokenizer.json'), opts, file);
}

/** Lines of merges.txt / bpe_simple_vocab as pairs (blank lines skipped); `firstLine` numbers errors. */
function parseMergeLines(lines: readonly string[], file: string, firstLine: number): Merge[] {
  const merges: Merge[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2) {
      throw new UsageError(`line ${firstLine + i} is ${JSON.stringify(line.slice(0, 80))}, expected a merge "left right"`, { file, fix: BPE_FIX });
    }
    merges.push([parts[0], parts[1]]);
  });
  return merges;
}

export function vocabMergesSpec(vocabFile: string, mergesFile: string): ClipTokenizerSpec {
  const vocab = parseVocab(readJson(vocabFile, 'vocab.json'), vocabFile, 'vocab.json');
  const lines = readText(mergesFile, 'merges.txt').split('\n');
  const header = lines[0]?.startsWith('#version') ? 1 : 0;
  const merges = parseMergeLines(lines.slice(header), mergesFile, header + 1);
  checkMerges(vocab, merges, mergesFile);
  return { vocab, merges, source: vocabFile };
}

/** Loads Hugging Face's slow-tokenizer pair `vocab.json` + `merges.txt` (a `#version` header line is skipped). */
export function loadVocabMerges(vocabFile: string, mergesFile: string, opts: TokenizerLoadOptions = {}): ClipTokenizer {
  return withOptions(vocabMergesSpec(vocabFile, mergesFile), opts);
}

/**
 * simple_tokenizer's vocabulary for a merge list: the 256 byte symbols, the same with `</w>`, each
 * merge's result, then `<|startoftext|>` and `<|endoftext|>` (ids in that order).
 */
export function buildClipVocab(merges: readonly Merge[]): Map<string, number> {
  return clipVocab(merges.map(([a, b]) => a + b));
}

/** Python's `dict(zip(vocab, range(len(vocab))))`: a repeated token keeps its last id. */
function clipVocab(mergedTokens: readonly string[]): Map<string, number> {
  const tokens = [...BYTE_VOCAB_ORDER, ...BYTE_VOCAB_ORDER.map((c) => c + END_OF_WORD), ...mergedTokens, SOT_TOKEN, EOT_TOKEN];
  return new Map(tokens.map((t, i) => [t, i]));
}

const GZ_FIX = 'expected bpe_simple_vocab_16e6.txt.gz as shipped by CLIP / open_clip';

export function bpeVocabGzSpec(file: string): ClipTokenizerSpec {
  if (!existsSync(file)) throw new UsageError('BPE vocabulary not found', { file });
  let text: string;
  try {
    text = gunzipSync(readFileSync(file)).toString('utf8');
  } catch (e) {
    throw new UsageError(`not a gzip file (${(e as Error).message})`, { file, fix: GZ_FIX, cause: e });
  }
  const lines = text.split('\n');
  if (!lines[0].includes('#version')) {
    throw new UsageError(`first line ${JSON.stringify(lines[0].slice(0, 60))} is not the "#version" header of a BPE merges file`, { file, fix: GZ_FIX });
  }
  // simple_tokenizer: merges[1:49152-256-2+1]. In a file shorter than that, the blank line after the
  // last newline is kept as an empty "merge" and adds the token '' before the specials.
  const kept = lines.slice(1, CLIP_MERGE_COUNT + 1);
  const merges = parseMergeLines(kept, file, 2);
  const mergedTokens = kept.map((line) => line.trim().split(/\s+/).join(''));
  return { vocab: clipVocab(mergedTokens), merges, source: file };
}

/**
 * Loads open_clip / OpenAI's `bpe_simple_vocab_16e6.txt.gz` exactly as simple_tokenizer does: skip
 * the version header, keep the first 48,894 merges, build the vocabulary with {@link buildClipVocab}
 * (quirks included: in a shorter file a trailing blank line becomes the token '').
 */
export function loadBpeVocabGz(file: string, opts: TokenizerLoadOptions = {}): ClipTokenizer {
  return withOptions(bpeVocabGzSpec(file), opts);
}

/**
 * Writing a CLIP tokenizer in Hugging Face's tokenizer.json layout (for fixtures); the loaders read
 * it back.
 */
import { UsageError, invalidParameter } from '../../errors.js';
import { checkMerges } from './loaders.js';
import { DEFAULT_PAD_ID, EOT_TOKEN, SOT_TOKEN } from './tokenizer.js';

/** Options of {@link buildTokenizerJson}. */
export interface BuildTokenizerJsonOptions {
  /** written as `truncation.max_length` and `padding.strategy.Fixed` (omitted: both sections null) */
  contextLength?: number;
  /** written as `padding.pad_id` (needs contextLength; default 0) */
  padId?: number;
  /** `"a b"` strings (default, what tokenizers < 0.20 write) or `["a","b"]` pairs */
  mergesForm?: 'string' | 'pair';
}

/** The Hugging Face tokenizer.json layout, as far as this project writes and reads it. */
export interface TokenizerJson {
  version: '1.0';
  truncation: { direction: 'Right'; max_length: number; strategy: 'LongestFirst'; stride: 0 } | null;
  padding: { strategy: { Fixed: number }; direction: 'Right'; pad_to_multiple_of: null; pad_id: number; pad_type_id: 0; pad_token: string } | null;
  added_tokens: { id: number; content: string; single_word: false; lstrip: false; rstrip: false; normalized: boolean; special: true }[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: string;
    continuing_subword_prefix: '';
    end_of_word_suffix: '</w>';
    fuse_unk: false;
    byte_fallback: false;
    vocab: Record<string, number>;
    merges: string[] | [string, string][];
  };
}

const CLIP_SPLIT_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/**
 * A CLIP tokenizer in Hugging Face tokenizer.json form (the layout of openai/clip-* and Immich
 * exports), for writing fixtures: `JSON.stringify(buildTokenizerJson(vocab, merges))`.
 * `vocab` must contain `<|startoftext|>` and `<|endoftext|>`; {@link buildClipVocab} makes a
 * complete one from merges.
 */
export function buildTokenizerJson(
  vocab: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
  merges: readonly (readonly [string, string])[],
  opts: BuildTokenizerJsonOptions = {},
): TokenizerJson {
  const entries: [string, number][] = vocab instanceof Map ? [...vocab] : Object.entries(vocab);
  const map = new Map(entries);
  for (const special of [SOT_TOKEN, EOT_TOKEN]) {
    if (!map.has(special)) throw new UsageError(`vocab has no ${special}`, { fix: 'add <|startoftext|> and <|endoftext|> (buildClipVocab does)' });
  }
  checkMerges(map, merges, 'vocab given to buildTokenizerJson');
  const form = opts.mergesForm ?? 'string';
  if (form === 'string' && merges.some(([a, b]) => a.includes(' ') || b.includes(' '))) {
    throw new UsageError('a merge token contains a space, which the "a b" string form cannot express', { fix: 'use mergesForm: "pair"' });
  }
  const sot = map.get(SOT_TOKEN)!;
  const eot = map.get(EOT_TOKEN)!;
  const ctx = opts.contextLength;
  if (ctx !== undefined && (!Number.isInteger(ctx) || ctx < 2)) throw invalidParameter('contextLength', 'an integer of at least 2', ctx);
  const padId = opts.padId ?? DEFAULT_PAD_ID;
  const padToken = entries.find(([, id]) => id === padId)?.[0];
  if (ctx !== undefined && padToken === undefined) throw invalidParameter('padId', 'an id of the vocabulary', padId);
  return {
    version: '1.0',
    truncation: ctx === undefined ? null : { direction: 'Right', max_length: ctx, strategy: 'LongestFirst', stride: 0 },
    padding: ctx === undefined ? null : { strategy: { Fixed: ctx }, direction: 'Right', pad_to_multiple_of: null, pad_id: padId, pad_type_id: 0, pad_token: padToken! },
    added_tokens: [
      { id: sot, content: SOT_TOKEN, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: eot, content: EOT_TOKEN, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: [EOT_TOKEN, eot], cls: [SOT_TOKEN, sot], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOT_TOKEN,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(entries),
      merges: form === 'pair' ? merges.map(([a, b]) => [a, b] as [string, string]) : merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/**
 * `ClipTokenizer`: OpenAI CLIP's `SimpleTokenizer` + `clip.tokenize` over any CLIP-style BPE
 * vocabulary (byte-level symbols, `</w>` word ends, `<|startoftext|>` / `<|endoftext|>`).
 */
import { UsageError, invalidParameter } from '../../errors.js';
import { CHAR_TO_BYTE, toByteLevel } from './byte-level.js';
import { bpeSymbols, rankMerges, type Merge } from './bpe.js';
import { cleanText } from './clean.js';
import { preTokenize } from './pretokenize.js';

export const SOT_TOKEN = '<|startoftext|>';
export const EOT_TOKEN = '<|endoftext|>';
export const DEFAULT_CONTEXT_LENGTH = 77;
export const DEFAULT_PAD_ID = 0;
export const END_OF_WORD = '</w>';

/** Everything a tokenizer is made of; the loaders produce this from files. */
export interface ClipTokenizerSpec {
  /** token → id, specials included */
  vocab: ReadonlyMap<string, number>;
  /** merge rules, highest priority first */
  merges: readonly Merge[];
  /** tokens per row including `<|startoftext|>` and `<|endoftext|>` (default 77) */
  contextLength?: number;
  /** id written after `<|endoftext|>` in batches (default 0, as `clip.tokenize`) */
  padId?: number;
  /** suffix marking the last symbol of a word (default `</w>`) */
  endOfWordSuffix?: string;
  /** token used for BPE symbols missing from the vocabulary; without one they are an error */
  unkToken?: string | null;
  /** where the vocabulary came from, for error messages */
  source?: string;
}

export interface TokenizeOptions {
  /**
   * true (default, like `clip.tokenize(..., truncate=True)`): cut to `contextLength` and end with
   * `<|endoftext|>`; false: throw a `UsageError` for text that does not fit.
   */
  truncate?: boolean;
}

export type TokenDtype = 'int32' | 'int64';

export interface BatchOptions extends TokenizeOptions {
  /** element type of `data` (default int32); ONNX exports take int32 or int64 */
  dtype?: TokenDtype;
}

/** Token ids for `n` texts, row-major `[n, contextLength]`, each row padded with `padId`. */
export interface TokenBatch<T extends Int32Array | BigInt64Array = Int32Array | BigInt64Array> {
  data: T;
  dims: [number, number];
  /** per row: index of its `<|endoftext|>` (where CLIP pools the text features) */
  eotIndex: Int32Array;
}

// Pre-token → ids. Big enough for every ImageNet prompt word; cleared if odd input floods it.
const CACHE_LIMIT = 100_000;

export class ClipTokenizer {
  readonly contextLength: number;
  readonly padId: number;
  readonly sotId: number;
  readonly eotId: number;
  /** one more than the largest id (49408 for CLIP) */
  readonly vocabSize: number;
  readonly endOfWordSuffix: string;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly idToTokenMap: Map<number, string>;
  private readonly unkId: number | undefined;
  private readonly source: string;
  private readonly cache = new Map<string, readonly number[]>();

  constructor(spec: ClipTokenizerSpec) {
    this.source = spec.source ?? 'tokenizer';
    this.vocab = spec.vocab;
    this.endOfWordSuffix = spec.endOfWordSuffix ?? END_OF_WORD;
    this.ranks = rankMerges(spec.merges);
    this.idToTokenMap = new Map();
    let maxId = -1;
    for (const [token, id] of spec.vocab) {
      this.idToTokenMap.set(id, token);
      if (id > maxId) maxId = id;
    }
    this.vocabSize = maxId + 1;
    this.sotId = this.requireToken(SOT_TOKEN);
    this.eotId = this.requireToken(EOT_TOKEN);
    this.unkId = spec.unkToken ? spec.vocab.get(spec.unkToken) : undefined;

    const ctx = spec.contextLength ?? DEFAULT_CONTEXT_LENGTH;
    if (!Number.isInteger(ctx) || ctx < 2) throw invalidParameter('contextLength', 'an integer of at least 2', ctx);
    this.contextLength = ctx;
    const pad = spec.padId ?? DEFAULT_PAD_ID;
    if (!Number.isInteger(pad) || pad < 0 || pad >= this.vocabSize) {
      throw invalidParameter('padId', `an integer id between 0 and ${this.vocabSize - 1}`, pad);
    }
    this.padId = pad;
    // simple_tokenizer seeds its cache so the special tokens in text map to themselves.
    this.cache.set(SOT_TOKEN, [this.sotId]);
    this.cache.set(EOT_TOKEN, [this.eotId]);
  }

  private requireToken(token: string): number {
    const id = this.vocab.get(token);
    if (id === undefined) {
      throw new UsageError(`the vocabulary has no ${token} token`, { file: this.source, fix: 'use a CLIP tokenizer, whose vocabulary ends with <|startoftext|> and <|endoftext|>' });
    }
    return id;
  }

  /** Id of a vocabulary token, e.g. `tokenToId('red</w>')`. */
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** Vocabulary token of an id. */
  idToToken(id: number): string | undefined {
    return this.idToTokenMap.get(id);
  }

  /** BPE ids of `text` after CLIP's cleaning, without `<|startoftext|>` / `<|endoftext|>` (`SimpleTokenizer.encode`). */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of preTokenize(cleanText(text))) {
      for (const id of this.encodePiece(piece)) ids.push(id);
    }
    return ids;
  }

  private encodePiece(piece: string): readonly number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const ids = bpeSymbols(toByteLevel(piece), this.ranks, this.endOfWordSuffix).map((s) => this.symbolId(s));
    if (this.cache.size >= CACHE_LIMIT) {
      this.cache.clear();
      this.cache.set(SOT_TOKEN, [this.sotId]);
      this.cache.set(EOT_TOKEN, [this.eotId]);
    }
    this.cache.set(piece, ids);
    return ids;
  }

  private symbolId(symbol: string): number {
    const id = this.vocab.get(symbol) ?? this.unkId;
    if (id === undefined) {
      throw new UsageError(`BPE symbol ${JSON.stringify(symbol)} is not in the vocabulary and there is no unknown token`, {
        file: this.source,
        fix: 'the vocabulary must hold every single byte symbol, with and without </w>, and every merge result',
      });
    }
    return id;
  }

  /**
   * `clip.tokenize(text)` for one text: `[sot, ...encode(text), eot]`, at most `contextLength` long,
   * not padded. With `truncate` (default) longer rows are cut and end with `<|endoftext|>`.
   */
  tokenize(text: string, opts: TokenizeOptions = {}): number[] {
    const ids = [this.sotId, ...this.encode(text), this.eotId];
    if (ids.length <= this.contextLength) return ids;
    if (opts.truncate === false) {
      throw new UsageError(`text is ${ids.length} tokens long, more than the context length ${this.contextLength}: ${JSON.stringify(text.slice(0, 60))}${text.length > 60 ? '…' : ''}`, {
        fix: 'shorten the text, or tokenize with truncate: true (as clip.tokenize(..., truncate=True))',
      });
    }
    ids.length = this.contextLength;
    ids[this.contextLength - 1] = this.eotId;
    return ids;
  }

  /** `clip.tokenize(texts)`: a `[texts.length, contextLength]` batch padded with `padId`. */
  tokenizeBatch(texts: readonly string[], opts?: BatchOptions & { dtype?: 'int32' }): TokenBatch<Int32Array>;
  tokenizeBatch(texts: readonly string[], opts: BatchOptions & { dtype: 'int64' }): TokenBatch<BigInt64Array>;
  tokenizeBatch(texts: readonly string[], opts?: BatchOptions): TokenBatch;
  tokenizeBatch(texts: readonly string[], opts: BatchOptions = {}): TokenBatch {
    const dtype = opts.dtype ?? 'int32';
    if (dtype !== 'int32' && dtype !== 'int64') throw invalidParameter('dtype', '"int32" or "int64"', dtype);
    const n = texts.length;
    const L = this.contextLength;
    const rows = new Int32Array(n * L).fill(this.padId);
    const eotIndex = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const ids = this.tokenize(texts[r], opts);
      rows.set(ids, r * L);
      eotIndex[r] = ids.length - 1;
    }
    const data = dtype === 'int64' ? widenToInt64(rows) : rows;
    return { data, dims: [n, L], eotIndex };
  }

  /**
   * Text of `ids` (`SimpleTokenizer.decode`): bytes decoded as UTF-8 with U+FFFD for invalid
   * sequences, every `</w>` read as a space. Special tokens come out as their text.
   */
  decode(ids: Iterable<number>): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const token = this.idToTokenMap.get(id);
      if (token === undefined) throw invalidParameter('token id', `an id below ${this.vocabSize} that is in the vocabulary`, id);
      for (const ch of token) {
        const b = CHAR_TO_BYTE.get(ch);
        if (b !== undefined) bytes.push(b);
        else for (const x of Buffer.from(ch, 'utf8')) bytes.push(x); // not a byte symbol (odd vocab): keep the character
      }
    }
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes)).replaceAll(this.endOfWordSuffix, ' ');
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Int32 → BigInt64 for non-negative ids: writing the low words directly is ~20× faster than BigInt(). */
function widenToInt64(src: Int32Array): BigInt64Array {
  const out = new BigInt64Array(src.length);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < src.length; i++) out[i] = BigInt(src[i]);
    return out;
  }
  const words = new Int32Array(out.buffer);
  for (let i = 0; i < src.length; i++) words[2 * i] = src[i]; // high words stay 0
  return out;
}

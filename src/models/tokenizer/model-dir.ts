/**
 * Finding a model folder's tokenizer, and letting the checkpoint's own configs set the context
 * length and the pad id.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { bpeVocabGzSpec, checkOptions, loadBpeVocabGz, loadTokenizerJson, loadVocabMerges, tokenizerJsonSpec, vocabMergesSpec, withOptions, type TokenizerLoadOptions } from './loaders.js';
import { isRecord, readJson } from './read-files.js';
import type { ClipTokenizer, ClipTokenizerSpec } from './tokenizer.js';

/** Where a model folder's tokenizer can be, in order of preference. */
const TOKENIZER_CANDIDATES: readonly { files: string[]; spec: (files: string[]) => ClipTokenizerSpec }[] = [
  { files: ['tokenizer.json'], spec: ([f]) => tokenizerJsonSpec(readJson(f, 'tokenizer.json'), f) },
  { files: ['textual/tokenizer.json'], spec: ([f]) => tokenizerJsonSpec(readJson(f, 'tokenizer.json'), f) },
  { files: ['vocab.json', 'merges.txt'], spec: ([v, m]) => vocabMergesSpec(v, m) },
  { files: ['textual/vocab.json', 'textual/merges.txt'], spec: ([v, m]) => vocabMergesSpec(v, m) },
  { files: ['bpe_simple_vocab_16e6.txt.gz'], spec: ([f]) => bpeVocabGzSpec(f) },
];

/** The largest context length a config may state; HF writes 1e30 for "no limit". */
const MAX_SANE_CONTEXT = 1_000_000;

interface DirSettings {
  contextLength?: number;
  /** pad token name, looked up in the vocabulary */
  padToken?: string;
  padId?: number;
}

/** `tokenizer_config.json` (HF): `model_max_length`, `pad_token` (a string or `{content}`). */
function tokenizerConfigSettings(file: string): DirSettings {
  const cfg = readJson(file, 'tokenizer_config.json');
  if (!isRecord(cfg)) throw new UsageError('tokenizer_config.json is not a JSON object', { file });
  const out: DirSettings = {};
  const max = cfg.model_max_length;
  if (Number.isInteger(max) && (max as number) >= 2 && (max as number) <= MAX_SANE_CONTEXT) out.contextLength = max as number;
  const pad = isRecord(cfg.pad_token) ? cfg.pad_token.content : cfg.pad_token;
  if (typeof pad === 'string') out.padToken = pad;
  return out;
}

/**
 * `config.json` / `open_clip_config.json`: open_clip `text_cfg.context_length` (also under
 * `model_cfg`), HF `text_config.max_position_embeddings` and `text_config.pad_token_id`.
 */
function modelConfigSettings(file: string): DirSettings {
  const name = path.basename(file);
  const cfg = readJson(file, name);
  if (!isRecord(cfg)) throw new UsageError(`${name} is not a JSON object`, { file });
  const out: DirSettings = {};
  const textCfg = isRecord(cfg.text_cfg) ? cfg.text_cfg : isRecord(cfg.model_cfg) && isRecord(cfg.model_cfg.text_cfg) ? cfg.model_cfg.text_cfg : undefined;
  if (textCfg && Number.isInteger(textCfg.context_length)) out.contextLength = textCfg.context_length as number;
  const hf = isRecord(cfg.text_config) ? cfg.text_config : undefined;
  if (hf) {
    if (out.contextLength === undefined && Number.isInteger(hf.max_position_embeddings)) out.contextLength = hf.max_position_embeddings as number;
    if (Number.isInteger(hf.pad_token_id)) out.padId = hf.pad_token_id as number;
  }
  return out;
}

/**
 * Finds and loads the tokenizer of a model folder (synchronously): `tokenizer.json`,
 * `textual/tokenizer.json`, `vocab.json` + `merges.txt` (also under `textual/`), or
 * `bpe_simple_vocab_16e6.txt.gz`. Context length and pad id come from, first to last: `opts`;
 * `tokenizer_config.json` (beside the tokenizer, else at the top) `model_max_length` / `pad_token`;
 * tokenizer.json's own truncation/padding; `open_clip_config.json` / `config.json` (open_clip
 * `text_cfg.context_length`, HF `text_config.max_position_embeddings` / `pad_token_id`); else 77 and 0.
 */
export function loadTokenizerFromDir(dir: string, opts: TokenizerLoadOptions = {}): ClipTokenizer {
  checkOptions(opts);
  const { candidate: found, tokenizerConfig, modelConfigs } = locateTokenizer(dir);
  const spec = found.spec(found.files.map((f) => path.join(dir, f)));
  const tokCfgFile = tokenizerConfig === undefined ? undefined : path.join(dir, tokenizerConfig);
  const tokCfg = tokCfgFile ? tokenizerConfigSettings(tokCfgFile) : {};
  let modelCfg: DirSettings = {};
  for (const name of modelConfigs) modelCfg = { ...modelCfg, ...definedOnly(modelConfigSettings(path.join(dir, name))) };
  let tokCfgPad: number | undefined;
  if (tokCfg.padToken !== undefined) {
    tokCfgPad = spec.vocab.get(tokCfg.padToken);
    if (tokCfgPad === undefined) {
      throw new UsageError(`pad_token ${JSON.stringify(tokCfg.padToken)} is not in the vocabulary`, { file: tokCfgFile, fix: 'set pad_token to a token of the tokenizer, e.g. "<|endoftext|>" or "!"' });
    }
  }
  return withOptions({
    ...spec,
    contextLength: tokCfg.contextLength ?? spec.contextLength ?? modelCfg.contextLength,
    padId: tokCfgPad ?? spec.padId ?? modelCfg.padId,
  }, opts);
}

interface TokenizerLocation {
  candidate: (typeof TOKENIZER_CANDIDATES)[number];
  /** relative to the model folder */
  tokenizerConfig?: string;
  /** relative to the model folder, in the order they are read (later wins) */
  modelConfigs: string[];
}

/** Which files `loadTokenizerFromDir` reads in `dir`: the one place that decides it. */
function locateTokenizer(dir: string): TokenizerLocation {
  const found = TOKENIZER_CANDIDATES.find((c) => c.files.every((f) => existsSync(path.join(dir, f))));
  if (!found) {
    throw new UsageError('no tokenizer in the model folder', {
      file: dir,
      fix: 'expected tokenizer.json, textual/tokenizer.json, vocab.json + merges.txt or bpe_simple_vocab_16e6.txt.gz',
    });
  }
  const tokDir = path.posix.dirname(found.files[0]);
  const tokenizerConfig = [path.posix.join(tokDir, 'tokenizer_config.json'), 'tokenizer_config.json'].find((f) => existsSync(path.join(dir, f)));
  const modelConfigs = ['config.json', 'open_clip_config.json'].filter((f) => existsSync(path.join(dir, f)));
  return { candidate: found, tokenizerConfig, modelConfigs };
}

/**
 * Every file `loadTokenizerFromDir(dir)` reads, relative to `dir` (what a model fingerprint must cover).
 * @example tokenizerFilesIn(immichDir) // → ['textual/tokenizer.json', 'textual/tokenizer_config.json', 'config.json']
 */
export function tokenizerFilesIn(dir: string): string[] {
  const { candidate, tokenizerConfig, modelConfigs } = locateTokenizer(dir);
  return [...candidate.files, ...(tokenizerConfig ? [tokenizerConfig] : []), ...modelConfigs];
}

/**
 * Every file `loadTokenizerFile(file)` reads, relative to `root`: a folder's files, or the file
 * itself (with `merges.txt` beside a `vocab.json`).
 */
export function tokenizerFilesOf(root: string, rel: string): string[] {
  const file = path.join(root, rel);
  if (existsSync(file) && statSync(file).isDirectory()) return tokenizerFilesIn(file).map((f) => path.posix.join(rel.split(path.sep).join('/'), f));
  if (path.basename(rel) === 'vocab.json') return [rel, path.posix.join(path.posix.dirname(rel), 'merges.txt')];
  return [rel];
}

/** Drops unset keys, so that spreading does not overwrite a value with undefined. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Loads a tokenizer from one path of any form checkpoints ship: a model folder, `tokenizer.json`,
 * `vocab.json` (with `merges.txt` beside it) or `bpe_simple_vocab_16e6.txt.gz`.
 */
export function loadTokenizerFile(file: string, opts: TokenizerLoadOptions = {}): ClipTokenizer {
  if (!existsSync(file)) {
    throw new UsageError('tokenizer file not found', { file, fix: 'pass a tokenizer.json, vocab.json (with merges.txt beside it), bpe_simple_vocab_16e6.txt.gz or a model folder' });
  }
  if (statSync(file).isDirectory()) return loadTokenizerFromDir(file, opts);
  if (file.endsWith('.txt.gz')) return loadBpeVocabGz(file, opts);
  if (path.basename(file) === 'vocab.json') return loadVocabMerges(file, path.join(path.dirname(file), 'merges.txt'), opts);
  return loadTokenizerJson(file, opts);
}

/**
 * The token row exactly as a text model is fed, for every family: special tokens, cleaning,
 * truncation and padding to the context length, with the attention mask. CLIP-BPE files go
 * through the exact CLIP tokenizer; every other tokenizer.json through {@link HfTokenizer} with the
 * rules of its family ({@link TOKENIZER_FAMILIES}), read from the files beside it.
 *
 *   const tok = loadFedTokenizer('models/siglip/textual');
 *   tok.row('a photo of a dog.'); // { ids: [..., 1, 1, 1] (64), attention_mask: [1, ..., 0] (64) }
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { familyOfClass, padRow, TOKENIZER_FAMILIES, wrapRow, type FamilyId, type FedRow, type SpecialRole, type TokenizerFamily, type ClassClean } from './families.js';
import { HfTokenizer, type ExactSteps } from './hf-tokenizer.js';
import { floresCode } from './languages.js';
import { loadTokenizerFile, tokenizerFilesOf } from './model-dir.js';
import { cleanFunction, type CleanMode } from './open-clip-clean.js';
import { isRecord, readJson } from './read-files.js';

export interface FedTokenizer {
  family: FamilyId;
  /** tokenizer.json's model type, or "CLIP BPE" */
  modelType: string;
  contextLength: number;
  padId: number;
  /** open_clip's cleaning applied before tokenising ("none": the text goes in as it is; CLIP cleans in its own tokenizer) */
  clean: CleanMode;
  /** the tokenizer file */
  source: string;
  /** the largest token id the tokenizer can give (the text model's embedding table must hold it) */
  maxId: number;
  /** what a row holds before the padding, X standing for the text: `<s> X </s>`, `fra_Latn X </s>`, `X </s>` */
  template: string;
  /** the padding token's spelling */
  padToken: string;
  /** the row the text model is fed for `text` (`contextLength` long) */
  row(text: string): FedRow;
  /** `row` of each text, row-major `[texts.length, contextLength]` int32 ids and attention mask */
  batch(texts: readonly string[]): FedBatch;
  /** whether `text` is longer than the row has room for, so that `row` cuts it */
  truncated(text: string): boolean;
}

/** Rows as fed, row-major `[n, contextLength]`. */
export interface FedBatch {
  ids: Int32Array;
  mask: Int32Array;
}

export interface FedTokenizerOptions {
  /**
   * the language NLLB tokenizers put before the text, as its FLORES-200 code (`fra_Latn`) or an ISO 639
   * code (`fr`, mapped by configs/languages/flores200.json); required there, unused elsewhere
   */
  language?: string;
  /** the context length, overriding the configs' (a clip-bench.json manifest's `contextLength`) */
  contextLength?: number;
  /** clip-bench's own exactness steps (all on by default; for tests) */
  steps?: ExactSteps;
}

/** The largest context length a config may state; HF writes 1e30 for "no limit". */
const MAX_SANE_CONTEXT = 1_000_000;
const FAMILY_FIX = `set tokenizer_class in tokenizer_config.json beside tokenizer.json to one of ${Object.values(TOKENIZER_FAMILIES).flatMap((f) => f.tokenizerClasses).join(', ')}`;

/**
 * Loads the tokenizer of a model folder or a tokenizer file (tokenizer.json, vocab.json,
 * bpe_simple_vocab_16e6.txt.gz) with the rules of its family.
 */
export function loadFedTokenizer(target: string, opts: FedTokenizerOptions = {}): FedTokenizer {
  const found = locateFed(target);
  if (found.kind === 'clip') return clipFed(target, opts);
  return familyFed(found.json, found.jsonFile, found.configDirs, opts);
}

type FedLocation = { kind: 'clip' } | { kind: 'family'; json: unknown; jsonFile: string; configDirs: string[] };

/** Which loader reads `target`, and for a family tokenizer the folders its configs are looked up in (nearest first). */
function locateFed(target: string): FedLocation {
  if (!existsSync(target)) throw new UsageError('tokenizer file not found', { file: target, fix: 'pass a tokenizer.json, vocab.json, bpe_simple_vocab_16e6.txt.gz or a model folder' });
  const isDir = statSync(target).isDirectory();
  const jsonFile = isDir ? ['tokenizer.json', 'textual/tokenizer.json'].map((f) => path.join(target, f)).find((f) => existsSync(f)) : /\.json$/.test(target) && path.basename(target) !== 'vocab.json' ? target : undefined;
  const json = jsonFile === undefined ? undefined : readJson(jsonFile, 'tokenizer.json');
  if (json === undefined || isClipBpeJson(json)) return { kind: 'clip' };
  return { kind: 'family', json, jsonFile: jsonFile!, configDirs: [...new Set([path.dirname(jsonFile!), ...(isDir ? [target] : [])])] };
}

/** The files a family tokenizer reads besides tokenizer.json, each the first found in the config folders. */
const FAMILY_CONFIGS = [['tokenizer_config.json'], ['special_tokens_map.json'], ['open_clip_config.json', 'config.json']] as const;

/**
 * Every file `loadFedTokenizer(target)` reads (what a model fingerprint must cover): tokenizer.json,
 * tokenizer_config.json, special_tokens_map.json, open_clip_config.json / config.json, or CLIP's
 * vocab/merges and configs. Paths are `target` joined with the file's path below it.
 * @example fedTokenizerFiles('m/textual') // → ['m/textual/tokenizer.json', 'm/textual/tokenizer_config.json', 'm/textual/special_tokens_map.json']
 */
export function fedTokenizerFiles(target: string): string[] {
  const found = locateFed(target);
  if (found.kind === 'clip') return tokenizerFilesOf(path.dirname(target), path.basename(target)).map((f) => path.join(path.dirname(target), f));
  const configs = FAMILY_CONFIGS.flatMap((names) => firstFile(found.configDirs, names) ?? []);
  return [found.jsonFile, ...configs];
}

/** A CLIP BPE tokenizer.json: BPE with `</w>` word ends (GPT-2-style and byte-fallback BPE have none). */
export function isClipBpeJson(json: unknown): boolean {
  if (!isRecord(json) || !isRecord(json.model)) return true; // not a tokenizer.json: the CLIP loader says why
  const m = json.model;
  if (m.type !== undefined && m.type !== 'BPE') return false;
  if (m.end_of_word_suffix === '</w>') return true;
  return isRecord(m.vocab) && Object.keys(m.vocab).some((t) => t.endsWith('</w>'));
}

function clipFed(target: string, opts: FedTokenizerOptions): FedTokenizer {
  const tok = loadTokenizerFile(target, opts.contextLength === undefined ? {} : { contextLength: opts.contextLength });
  const spell = (id: number) => tok.idToToken(id) ?? `#${id}`;
  return {
    family: 'clip',
    modelType: 'CLIP BPE',
    contextLength: tok.contextLength,
    padId: tok.padId,
    clean: 'none',
    source: fedTokenizerFiles(target)[0], // the vocabulary file itself, also for a folder
    maxId: tok.vocabSize - 1,
    template: `${spell(tok.sotId)} X ${spell(tok.eotId)}`,
    padToken: spell(tok.padId),
    row: (text) => padRow(tok.tokenize(text), tok.padId, tok.contextLength),
    batch(texts) {
      // clip.tokenize's own batch: the same ids as `row`, the mask 1 up to and including <|endoftext|>
      const b = tok.tokenizeBatch(texts, { dtype: 'int32' });
      const L = tok.contextLength;
      const mask = new Int32Array(texts.length * L);
      for (let r = 0; r < texts.length; r++) mask.fill(1, r * L, r * L + b.eotIndex[r] + 1);
      return { ids: b.data, mask };
    },
    truncated: (text) => tok.encode(text).length + 2 > tok.contextLength,
  };
}

/** The first of `names` found in `dirs` (earlier dirs first). */
function firstFile(dirs: readonly string[], names: readonly string[]): string | undefined {
  for (const dir of dirs) for (const name of names) if (existsSync(path.join(dir, name))) return path.join(dir, name);
  return undefined;
}

/** The first of `names` found in `dirs` (earlier dirs first), parsed, with its path. */
function firstJson(dirs: readonly string[], names: readonly string[]): { file: string; json: Record<string, unknown> } | undefined {
  const file = firstFile(dirs, names);
  if (file === undefined) return undefined;
  const json = readJson(file, path.basename(file));
  if (!isRecord(json)) throw new UsageError(`${path.basename(file)} is not a JSON object`, { file });
  return { file, json };
}

/** Rows of `row(text)` for each text, row-major. */
function batchOf(texts: readonly string[], contextLength: number, row: (text: string) => FedRow): FedBatch {
  const ids = new Int32Array(texts.length * contextLength);
  const mask = new Int32Array(texts.length * contextLength);
  texts.forEach((t, r) => {
    const fed = row(t);
    ids.set(fed.ids, r * contextLength);
    mask.set(fed.attention_mask, r * contextLength);
  });
  return { ids, mask };
}

/** A token spelling: a string or `{content}` (how tokenizer_config.json writes AddedToken). */
const spelling = (v: unknown): string | undefined => (typeof v === 'string' ? v : isRecord(v) && typeof v.content === 'string' ? v.content : undefined);

/** open_clip's `text_cfg` (top level or under `model_cfg`) of open_clip_config.json / config.json. */
function modelConfigs(dirs: readonly string[]): { file?: string; textCfg?: Record<string, unknown> } {
  const found = firstJson(dirs, ['open_clip_config.json', 'config.json']);
  if (!found) return {};
  const cfg = found.json;
  const textCfg = isRecord(cfg.text_cfg) ? cfg.text_cfg : isRecord(cfg.model_cfg) && isRecord(cfg.model_cfg.text_cfg) ? cfg.model_cfg.text_cfg : undefined;
  return { file: found.file, textCfg };
}

function familyFed(json: unknown, jsonFile: string, dirs: readonly string[], opts: FedTokenizerOptions): FedTokenizer {
  const [tokCfg, specialMap] = FAMILY_CONFIGS.slice(0, 2).map((names) => firstJson(dirs, names));
  const hf = new HfTokenizer(json, tokCfg?.json ?? {}, jsonFile, opts.steps);
  const cls = tokCfg?.json.tokenizer_class;
  if (typeof cls !== 'string') {
    throw new UsageError(`cannot tell which family this ${hf.modelType} tokenizer is: no tokenizer_config.json with tokenizer_class beside it`, { file: tokCfg?.file ?? jsonFile, fix: FAMILY_FIX });
  }
  const familyId = familyOfClass(cls);
  if (!familyId) throw new UsageError(`tokenizer_class ${JSON.stringify(cls)} is not a family clip-bench knows how to feed`, { file: tokCfg!.file, fix: FAMILY_FIX });
  const family = TOKENIZER_FAMILIES[familyId];
  const cfgFile = tokCfg!.file;

  const special = (role: SpecialRole | 'pad_token'): { id: number; name: string } => {
    const name = spelling(tokCfg!.json[role]) ?? spelling(specialMap?.json[role]);
    if (name === undefined) throw new UsageError(`no ${role} in tokenizer_config.json or special_tokens_map.json; the ${familyId} rule needs it`, { file: cfgFile, fix: `set ${role} to the tokenizer's ${role.replace('_token', '')} token` });
    const id = hf.tokenToId(name);
    if (id === undefined) throw new UsageError(`${role} ${JSON.stringify(name)} is not a token of tokenizer.json`, { file: cfgFile, fix: `set ${role} to a token of the vocabulary` });
    return { id, name };
  };
  let prefix: { id: number; name: string } | null = null;
  if (family.prefix === 'language') {
    if (!opts.language) throw new UsageError('an NLLB tokenizer puts the language code before the text, and no language was given', { file: jsonFile, fix: 'pass --language with a FLORES-200 or ISO 639 code, e.g. --language eng_Latn or --language fr' });
    const code = floresCode(opts.language);
    const id = hf.tokenToId(code);
    if (id === undefined) throw new UsageError(`language ${JSON.stringify(code)}${code === opts.language ? '' : ` (--language ${opts.language})`} is not a language-code token of this tokenizer`, { file: jsonFile, fix: 'pass a FLORES-200 code the tokenizer has as an added token, e.g. eng_Latn, fra_Latn, zho_Hans' });
    prefix = { id, name: code };
  } else if (family.prefix !== null) {
    prefix = special(family.prefix);
  }
  const suffix = special(family.suffix);
  const pad = special('pad_token');

  const models = modelConfigs(dirs);
  const contextLength = opts.contextLength ?? contextLengthOf(family.modelMaxLengthIsContext ? tokCfg!.json.model_max_length : undefined, models.textCfg?.context_length, family.contextLength);
  const clean = cleanModeOf(models.textCfg, (family as TokenizerFamily).classClean?.[cls.replace(/Fast$/, '')], tokCfg!.json);
  const cleanFn = cleanFunction(clean, models.file);
  const content = (text: string) => hf.encode(cleanFn(text));
  const room = contextLength - 1 - (prefix === null ? 0 : 1);
  const row = (text: string) => wrapRow(content(text), prefix?.id ?? null, suffix.id, pad.id, contextLength);
  return {
    family: familyId,
    modelType: hf.modelType,
    contextLength,
    padId: pad.id,
    clean,
    source: jsonFile,
    maxId: hf.maxId,
    template: [...(prefix ? [prefix.name] : []), 'X', suffix.name].join(' '),
    padToken: pad.name,
    row,
    batch: (texts) => batchOf(texts, contextLength, row),
    truncated: (text) => content(text).length > room,
  };
}

/**
 * open_clip's HFTokenizer cleans with 'whitespace' unless `tokenizer_kwargs.clean` says otherwise;
 * without an open_clip config, what transformers' tokenizer class does itself; else nothing.
 */
function cleanModeOf(textCfg: Record<string, unknown> | undefined, classClean: ClassClean | undefined, tokCfg: Record<string, unknown>): CleanMode {
  const kwargs = isRecord(textCfg?.tokenizer_kwargs) ? textCfg.tokenizer_kwargs : {};
  if (typeof kwargs.clean === 'string') return kwargs.clean as CleanMode; // checked by cleanFunction
  if (textCfg) return 'whitespace';
  if (classClean) return tokCfg[classClean.lowercaseKey] === false ? classClean.cased : classClean.clean;
  return 'none';
}

/** open_clip `text_cfg.context_length`, else `model_max_length` where it is the context, else the family's. */
function contextLengthOf(modelMaxLength: unknown, openClip: unknown, familyDefault: number): number {
  const ok = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 2 && (v as number) <= MAX_SANE_CONTEXT;
  if (ok(openClip)) return openClip;
  if (ok(modelMaxLength)) return modelMaxLength;
  return familyDefault;
}

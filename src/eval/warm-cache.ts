/**
 * Warming the text-embedding cache: a run's prompts encoded once, ahead of the runs that need them. A fan-out
 * (configs/k8s/indexed-job.yaml) warms one DB, and every shard pod starts from a copy of it, so no shard
 * encodes the classifier again: their `eval --json` says `cache.textMisses: 0`.
 *
 * The texts are the ones `eval` encodes (`runPrompts`), in the same batches (`PROMPT_BATCH`), with the model
 * loaded as `eval` loads it, so each cached embedding is the one the run would have computed itself.
 */
import { UsageError } from '../errors.js';
import { loadCheckpoint, type LoadOptions } from '../models/checkpoint.js';
import { loadPromptSet, resolvePrompts, type ResolvedPrompts } from '../prompts/prompt-set.js';
import { EmbeddingCache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import { encodeTextsCached, type EvalProgress } from './engine.js';
import { PROMPT_BATCH, runPrompts } from './zero-shot.js';

export interface WarmOptions extends Pick<LoadOptions, 'variant' | 'tokenizer' | 'session' | 'language'> {
  modelDir: string;
  /** prompt set id or file; with `dataset`, as `eval --prompts` (default: the dataset's own) */
  prompts?: string;
  /** the dataset whose classes the prompts name, read from `root` as `eval` reads it */
  dataset?: string;
  root?: string;
  split?: string;
}

export interface WarmResult {
  model: string;
  modelFingerprint: string;
  variant: string;
  promptSet: string;
  promptHash: string;
  dataset: string | null;
  /** distinct prompt texts of the classifier */
  texts: number;
  /** encoded now and stored */
  encoded: number;
  /** found in the cache already (a second warm encodes nothing) */
  alreadyCached: number;
  seconds: number;
}

/** The prompts to warm: the run's (dataset given), else a prompt set that names its own classes. */
async function warmPrompts(opts: WarmOptions): Promise<{ prompts: ResolvedPrompts; dataset: string | null }> {
  if (opts.dataset !== undefined) {
    if (opts.root === undefined) throw new UsageError('cache warm --dataset needs --root', { fix: 'pass the --root the eval runs will use, so the prompts name the same classes' });
    const { adapter, prompts } = await runPrompts({ dataset: opts.dataset, root: opts.root, split: opts.split, prompts: opts.prompts, language: opts.language });
    return { prompts, dataset: adapter.id };
  }
  if (opts.prompts === undefined) throw new UsageError('cache warm needs --prompts or --dataset', { fix: 'pass the --prompts (and --dataset/--root) the eval runs will use' });
  if (opts.language !== undefined) throw new UsageError('cache warm --language needs --dataset', { fix: 'pass the --dataset and --root the eval runs will use: the language files are read per dataset' });
  const set = loadPromptSet(opts.prompts);
  if (!set.classes) {
    throw new UsageError(`prompt set "${set.id}" does not name its classes, so its prompts depend on the dataset`, {
      file: set.source,
      fix: 'add the --dataset and --root the eval runs will use',
    });
  }
  return { prompts: resolvePrompts(set, Object.keys(set.classes), set.id), dataset: null };
}

/**
 * Encodes every prompt of the classifier not yet cached into `db`'s text cache. The DB is opened only once the
 * prompts and the model are checked: bad input creates no file.
 */
export async function warmTextCache(open: () => Db, opts: WarmOptions, onProgress?: (p: EvalProgress) => void): Promise<WarmResult> {
  const t0 = performance.now();
  const { prompts, dataset } = await warmPrompts(opts);
  const ckpt = await loadCheckpoint(opts.modelDir, { variant: opts.variant, tokenizer: opts.tokenizer, session: opts.session, language: opts.language });
  try {
    const db = open();
    const cache = new EmbeddingCache(db, ckpt.fingerprint, ckpt.variant);
    const r = await encodeTextsCached(ckpt, prompts.texts, PROMPT_BATCH, cache, onProgress);
    return {
      model: ckpt.name,
      modelFingerprint: ckpt.fingerprint,
      variant: ckpt.variant,
      promptSet: prompts.promptSet,
      promptHash: prompts.hash,
      dataset,
      texts: r.hits + r.misses,
      encoded: r.misses,
      alreadyCached: r.hits,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await ckpt.release();
  }
}

import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import type { ExecutionProvider, SessionOptions } from '../models/onnx-session.js';
import { warmTextCache, type WarmResult } from '../eval/warm-cache.js';
import { normaliseLanguage } from '../prompts/language.js';
import { cacheStats, clearCache } from '../store/cache.js';
import { dbUsageError, openDb, type Db } from '../store/db.js';
import { OPTIONS, RUN_OPTIONS } from './options.js';
import { progressBar } from './progress.js';

type CacheAction = 'stats' | 'clear' | 'warm';

export interface CacheArgs {
  action: CacheAction;
  db: string;
  model?: string;
  prompts?: string;
  dataset?: string;
  root?: string;
  split?: string;
  variant?: string;
  provider: ExecutionProvider;
  threads: number;
  'graph-optimization': SessionOptions['graphOptimization'];
  tokenizer?: string;
  language?: string;
  quiet: boolean;
  json: boolean;
}

/** The flags `warm` alone reads, so that `stats` and `clear` refuse them rather than ignore them. */
const WARM_ONLY = ['prompts', 'dataset', 'root', 'split', 'variant', 'tokenizer', 'language'] as const;

/** Checks across flags, pure: the problem or null. */
export function checkCacheArgs(a: Partial<CacheArgs>): string | null {
  if (a.action === 'warm') {
    if (!a.model) return 'cache warm needs --model (the model folder the eval runs will use)';
    if (!a.prompts && !a.dataset) return 'cache warm needs --prompts, --dataset (with --root), or both, as the eval runs will pass them';
    if (a.dataset && !a.root) return 'cache warm --dataset needs --root (the eval runs\' --root: the prompts name its classes)';
    return null;
  }
  for (const flag of WARM_ONLY) if (a[flag] !== undefined) return `--${flag} is for \`cache warm\`, not \`cache ${a.action}\``;
  return null;
}

export function formatWarmResult(r: WarmResult, db: string): string {
  const what = r.dataset ? `prompts "${r.promptSet}" for ${r.dataset}` : `prompts "${r.promptSet}"`;
  return [
    `${r.model} (${r.variant}, fingerprint ${r.modelFingerprint.slice(0, 12)}…): ${what}, ${r.texts} distinct texts`,
    `  ${r.encoded} encoded and stored, ${r.alreadyCached} already cached, in ${r.seconds.toFixed(1)} s; text cache in ${db}`,
  ].join('\n');
}

async function warm(a: CacheArgs): Promise<void> {
  let db: Db | undefined;
  const bar = progressBar(process.stderr, a.quiet ? 'quiet' : 'auto');
  try {
    const r = await warmTextCache(
      () => (db = openDb(a.db)),
      {
        modelDir: a.model!,
        prompts: a.prompts,
        dataset: a.dataset,
        root: a.root,
        split: a.split,
        variant: a.variant,
        tokenizer: a.tokenizer,
        language: a.language === undefined ? undefined : normaliseLanguage(a.language),
        session: { intraOpThreads: a.threads, executionProvider: a.provider, graphOptimization: a['graph-optimization'] },
      },
      (p) => bar.update('prompts', p.done, p.total),
    );
    bar.done();
    process.stdout.write((a.json ? JSON.stringify({ ...r, db: a.db }) : formatWarmResult(r, a.db)) + '\n');
  } catch (err) {
    throw dbUsageError(err, a.db) ?? err;
  } finally {
    bar.done();
    db?.close();
  }
}

export const cacheCommand = {
  command: 'cache <action>',
  describe: 'Show, clear or warm the text and image embedding caches kept in the results DB.',
  builder: (y: Argv) =>
    y
      .positional('action', {
        choices: ['stats', 'clear', 'warm'] as const,
        describe: 'stats: counts and size per model; clear: delete cached embeddings; warm: encode a classifier\'s prompts into the text cache ahead of the eval runs (a fan-out warms once, each shard starts from a copy).',
      })
      .options({
        db: OPTIONS.db,
        model: { type: 'string', describe: 'With warm: the model folder, as `eval --model`. With clear: only this model fingerprint (as shown by stats).' },
        prompts: { type: 'string', describe: 'With warm: the prompt set the eval runs use, as `eval --prompts`. Without --dataset it must name its own classes (e.g. colours); a templates-only set (single, imagenet) needs --dataset.' },
        dataset: { type: 'string', describe: 'With warm: the dataset the eval runs score (with --root), so the prompts name exactly its classes; its own prompts when --prompts is left out.' },
        root: { type: 'string', describe: 'With warm and --dataset: the eval runs\' --root.' },
        split: { type: 'string', describe: 'With warm and --dataset: the eval runs\' --split (default: the adapter\'s first).' },
        variant: RUN_OPTIONS.variant,
        provider: RUN_OPTIONS.provider,
        threads: RUN_OPTIONS.threads,
        'graph-optimization': RUN_OPTIONS['graph-optimization'],
        tokenizer: RUN_OPTIONS.tokenizer,
        language: RUN_OPTIONS.language,
        quiet: OPTIONS.quiet,
        json: OPTIONS.json,
      })
      .check((a) => {
        const problem = checkCacheArgs(a as unknown as CacheArgs);
        if (problem) throw new UsageError(problem, { fix: '`clip-bench cache --help` describes each flag' });
        return true;
      })
      .example('$0 cache stats', 'How many embeddings are cached, per model.')
      .example('$0 cache clear --model 4c9be85b…', 'Forget one model\'s embeddings.')
      .example('$0 cache warm --model ~/models/ViT-B-32__openai --dataset imagenet --root ~/data/imagenet --db cache.sqlite', 'Encode ImageNet\'s 80,000 prompts once; shard runs started from a copy of cache.sqlite encode none.'),
  handler: async (a: CacheArgs) => {
    if (a.action === 'warm') return warm(a);
    const db = openDb(a.db);
    try {
      if (a.action === 'clear') {
        const n = clearCache(db, a.model);
        process.stdout.write(a.json ? JSON.stringify({ deleted: n }) + '\n' : `deleted ${n} cached embeddings\n`);
        return;
      }
      const s = cacheStats(db);
      if (a.json) {
        process.stdout.write(JSON.stringify(s) + '\n');
        return;
      }
      process.stdout.write(`${s.textEmbeddings} text and ${s.imageEmbeddings} image embeddings, ${(s.bytes / 2 ** 20).toFixed(1)} MiB\n`);
      for (const m of s.byModel) process.stdout.write(`  ${m.modelFingerprint} ${m.variant}: ${m.texts} texts, ${m.images} images\n`);
    } finally {
      db.close();
    }
  },
};

import type { Argv } from 'yargs';
import { cacheStats, clearCache } from '../store/cache.js';
import { openDb } from '../store/db.js';
import { OPTIONS } from './options.js';

export const cacheCommand = {
  command: 'cache <action>',
  describe: 'Show or clear the text and image embedding caches kept in the results DB.',
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['stats', 'clear'] as const, describe: 'stats: counts and size per model; clear: delete cached embeddings.' })
      .options({
        db: OPTIONS.db,
        model: { type: 'string', describe: 'With clear: only this model fingerprint (as shown by stats).' },
        json: OPTIONS.json,
      })
      .example('$0 cache stats', 'How many embeddings are cached, per model.')
      .example('$0 cache clear --model 4c9be85b…', 'Forget one model\'s embeddings.'),
  handler: (a: { action: 'stats' | 'clear'; db: string; model?: string; json: boolean }) => {
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

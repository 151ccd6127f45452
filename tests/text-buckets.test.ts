/**
 * Prompts are encoded in length buckets where the checkpoint cuts each batch after its longest row: the
 * order changes, the embeddings must not. Checked bit for bit against the same random-weight CLIP fed at the
 * full context length, in the prompts' own order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeTextsCached, inLengthBuckets, textBatches, TEXT_BATCH_TOKENS } from '../src/eval/engine.js';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { loadCheckpoint, type Checkpoint } from '../src/models/checkpoint.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { EmbeddingCache } from '../src/store/cache.js';
import { openDb } from '../src/store/db.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-buckets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A tokenizer whose fed row is as long as the text has words (context length 77). */
const byWords = (cut: boolean) =>
  ({
    cutsTextToLongest: cut,
    textTokenizer: { contextLength: 77, row: (t: string) => ({ ids: [], attention_mask: t.split(' ').map(() => 1) }) },
  }) as unknown as Pick<Checkpoint, 'cutsTextToLongest' | 'textTokenizer'>;

describe('textBatches', () => {
  const words = (n: number) => Array.from({ length: n }, () => 'w').join(' ');
  // lengths 1…100 words, shortest first as inLengthBuckets orders them, three texts of each
  const todo = Array.from({ length: 300 }, (_, i) => words(1 + Math.floor(i / 3)));
  it.each([true, false])('cut %s: every text once, in order; ≤ batchSize rows and ≤ the token budget each; no batch closed early', (cut) => {
    const fed = (t: string) => (cut ? t.split(' ').length : 77);
    for (const batchSize of [1, 7, 256]) {
      const batches = textBatches(byWords(cut), todo, batchSize);
      expect(batches.flat()).toEqual(todo);
      const cost = (b: string[]) => b.length * Math.max(...b.map(fed));
      for (const [i, b] of batches.entries()) {
        expect(b.length).toBeLessThanOrEqual(batchSize);
        expect(b.length === 1 || cost(b) <= TEXT_BATCH_TOKENS).toBe(true);
        // greedy: the next text would have broken a limit
        const next = batches[i + 1]?.[0];
        if (next !== undefined) expect(b.length === batchSize || cost([...b, next]) > TEXT_BATCH_TOKENS).toBe(true);
      }
    }
  });
  it('a row longer than the budget goes alone', () => {
    expect(textBatches(byWords(true), [words(5000), words(2)], 256)).toEqual([[words(5000)], [words(2)]]);
  });
});

describe('inLengthBuckets', () => {
  it('orders by fed length, shortest first, equal lengths in their own order', () => {
    expect(inLengthBuckets(byWords(true), ['a b c', 'x', 'd e', 'y', 'f g'])).toEqual(['x', 'y', 'd e', 'f g', 'a b c']);
  });
  it('keeps the order where every row is fed at the full context length', () => {
    expect(inLengthBuckets(byWords(false), ['a b c', 'x'])).toEqual(['a b c', 'x']);
  });
});

describe('bucketed text encoding on a dynamic sequence axis', () => {
  it('equals the full-length encoding bit for bit, and the batches grow in length', async () => {
    const imagenet = loadPromptSet('imagenet');
    const names = Object.values(imagenet.classes ?? {}).map((v) => (Array.isArray(v) ? v[0] : v));
    // long and short class names, so the templates' lengths mix within every unbucketed batch
    const texts = [names[0], names[100], names[500], names[999]].flatMap((n) => imagenet.templates.map((t) => t.replaceAll('{c}', n)));
    const dir = path.join(tmp, 'clip');
    await writeClipArch(dir, 'tiny', texts, { layout: 'hf-split' });
    const cut = await loadCheckpoint(dir, {});
    const full = await loadCheckpoint(dir, { fullLengthText: true });
    try {
      expect([cut.cutsTextToLongest, full.cutsTextToLongest]).toEqual([true, false]);
      const fedLength = (t: string) => cut.textTokenizer.row(t).attention_mask.reduce((a, b) => a + b, 0);
      const longestPerBatch: number[] = [];
      const encode = cut.encodeTexts.bind(cut);
      cut.encodeTexts = (chunk) => {
        longestPerBatch.push(Math.max(...chunk.map(fedLength)));
        return encode(chunk);
      };
      const batch = 32;
      const got = await encodeTextsCached(cut, texts, batch);
      const want = new Float32Array(texts.length * full.embedDim);
      for (let i = 0; i < texts.length; i += batch) want.set(await full.encodeTexts(texts.slice(i, i + batch)), i * full.embedDim);
      expect(Buffer.from(got.embeddings.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      // shortest first: the batches' longest rows never shrink, and the whole costs fewer token columns than
      // batches of the prompts in their own order would
      expect(longestPerBatch).toEqual([...longestPerBatch].sort((a, b) => a - b));
      const unique = [...new Set(texts)];
      let unbucketed = 0;
      for (let i = 0; i < unique.length; i += batch) unbucketed += Math.max(...unique.slice(i, i + batch).map(fedLength));
      expect(longestPerBatch.reduce((a, b) => a + b, 0)).toBeLessThan(unbucketed);

      // from the cache: the same rows, bit for bit, repeats included, nothing encoded
      const db = openDb(path.join(tmp, 'cache.sqlite'));
      try {
        const cache = new EmbeddingCache(db, cut.fingerprint, cut.variant);
        const withRepeats = [...texts, texts[3], texts[0]];
        const first = await encodeTextsCached(cut, withRepeats, batch, cache);
        const again = await encodeTextsCached(cut, withRepeats, batch, cache);
        expect([first.misses, again.hits, again.misses]).toEqual([unique.length, unique.length, 0]);
        const wantRepeats = Buffer.concat([Buffer.from(want.buffer), Buffer.from(want.buffer, 3 * full.embedDim * 4, full.embedDim * 4), Buffer.from(want.buffer, 0, full.embedDim * 4)]);
        for (const r of [first, again]) expect(Buffer.from(r.embeddings.buffer).equals(wantRepeats)).toBe(true);
        // a row of the wrong size in the DB is refused, naming the DB and the fix
        cache.putTexts(['a corrupt row'], new Float32Array(3), 3);
        await expect(encodeTextsCached(cut, ['a corrupt row'], batch, cache)).rejects.toMatchObject({ name: 'UsageError', file: db.name, fix: expect.stringContaining('cache clear') });
      } finally {
        db.close();
      }
    } finally {
      await cut.release();
      await full.release();
    }
  }, 120_000);
});

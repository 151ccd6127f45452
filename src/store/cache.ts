/**
 * Embedding caches in the results DB, keyed by identity: text embeddings per (model fingerprint,
 * variant, exact prompt string); image embeddings per (model fingerprint, variant, preprocessing config,
 * image path) and checked against the file's size and mtime. Re-scoring with other prompts, metrics or
 * class subsets then touches no image and re-encodes no known prompt.
 */
import { UsageError } from '../errors.js';
import type { Db } from './db.js';

function toBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function fromBlob(b: Buffer): Float32Array {
  // Copy: better-sqlite3 may reuse the buffer, and Float32Array needs 4-byte alignment.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export class EmbeddingCache {
  constructor(
    private readonly db: Db,
    private readonly model: string,
    private readonly variant: string,
    readonly enabled = true,
  ) {}

  /**
   * Copies the cached embedding of each of `texts` into row `rowOf(i)` of `into` ([rows, dim]); returns
   * which texts were found. Straight into the caller's array: 80,000 prompts are 164 MB of ViT-B/32
   * embeddings, held once.
   */
  readTextsInto(texts: readonly string[], into: Float32Array, dim: number, rowOf: (i: number) => number): boolean[] {
    if (!this.enabled) return texts.map(() => false);
    const stmt = this.db.prepare(`SELECT embedding FROM text_embeddings WHERE model_fingerprint = ? AND variant = ? AND text = ?`).pluck();
    return texts.map((t, i) => {
      const b = stmt.get(this.model, this.variant, t) as Buffer | undefined;
      if (!b) return false;
      if (b.byteLength !== dim * 4) {
        throw new UsageError(`a cached text embedding has ${b.byteLength / 4} values where this model's have ${dim}`, { file: this.db.name, fix: 'run `clip-bench cache clear` on this DB, or eval with --no-cache' });
      }
      new Uint8Array(into.buffer, into.byteOffset + rowOf(i) * dim * 4, dim * 4).set(b);
      return true;
    });
  }

  /** Stores rows of `embeddings` ([texts.length, dim]) for `texts`. */
  putTexts(texts: readonly string[], embeddings: Float32Array, dim: number): void {
    if (!this.enabled) return;
    const stmt = this.db.prepare(`INSERT OR REPLACE INTO text_embeddings (model_fingerprint, variant, text, embedding) VALUES (?, ?, ?, ?)`);
    this.db.transaction(() => texts.forEach((t, i) => stmt.run(this.model, this.variant, t, toBlob(embeddings.subarray(i * dim, (i + 1) * dim)))))();
  }

  /** Cached image embeddings for (path, stamp) pairs; undefined where missing or stale. */
  getImages(preprocess: string, items: readonly { sample: string; stamp: string }[]): (Float32Array | undefined)[] {
    if (!this.enabled) return items.map(() => undefined);
    const stmt = this.db.prepare(`SELECT stamp, embedding FROM image_embeddings WHERE model_fingerprint = ? AND variant = ? AND preprocess = ? AND sample = ?`);
    return items.map((it) => {
      const row = stmt.get(this.model, this.variant, preprocess, it.sample) as { stamp: string; embedding: Buffer } | undefined;
      return row && row.stamp === it.stamp ? fromBlob(row.embedding) : undefined;
    });
  }

  putImages(preprocess: string, items: readonly { sample: string; stamp: string; embedding: Float32Array }[]): void {
    if (!this.enabled || items.length === 0) return;
    const stmt = this.db.prepare(
      `INSERT OR REPLACE INTO image_embeddings (model_fingerprint, variant, preprocess, sample, stamp, embedding) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => items.forEach((it) => stmt.run(this.model, this.variant, preprocess, it.sample, it.stamp, toBlob(it.embedding))))();
  }
}

export interface CacheStats {
  textEmbeddings: number;
  imageEmbeddings: number;
  bytes: number;
  byModel: { modelFingerprint: string; variant: string; texts: number; images: number }[];
}

export function cacheStats(db: Db): CacheStats {
  const count = (table: string) => (db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number) ?? 0;
  const bytes = (table: string) => (db.prepare(`SELECT coalesce(sum(length(embedding)), 0) FROM ${table}`).pluck().get() as number) ?? 0;
  const byModel = db
    .prepare(
      `SELECT model_fingerprint AS modelFingerprint, variant, sum(t) AS texts, sum(i) AS images FROM (
         SELECT model_fingerprint, variant, 1 AS t, 0 AS i FROM text_embeddings
         UNION ALL SELECT model_fingerprint, variant, 0, 1 FROM image_embeddings)
       GROUP BY model_fingerprint, variant ORDER BY model_fingerprint, variant`,
    )
    .all() as CacheStats['byModel'];
  return { textEmbeddings: count('text_embeddings'), imageEmbeddings: count('image_embeddings'), bytes: bytes('text_embeddings') + bytes('image_embeddings'), byModel };
}

/** Deletes cached embeddings (of one model fingerprint, or all); returns how many rows went. */
export function clearCache(db: Db, modelFingerprint?: string): number {
  return db.transaction(() => {
    let n = 0;
    for (const table of ['text_embeddings', 'image_embeddings']) {
      n += modelFingerprint ? db.prepare(`DELETE FROM ${table} WHERE model_fingerprint = ?`).run(modelFingerprint).changes : db.prepare(`DELETE FROM ${table}`).run().changes;
    }
    return n;
  })();
}

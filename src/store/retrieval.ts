/**
 * A retrieval run's rows (schema v5): its captions with their embeddings, each image's embedding or the
 * reason it has none, and — once ranked — every query's rank and top-10. Run-scoped, so a resumed run, a
 * `--no-cache` run and a merge of shard DBs rank exactly what the run itself embedded. Every write is a
 * transaction.
 */
import type { Db } from './db.js';

export interface StoredCaption {
  /** caption index in the run */
  idx: number;
  /** the run's image index it describes */
  image: number;
  /** as in the annotation file, without the caption prefix */
  text: string;
  embedding: Float32Array;
}

export interface StoredImage {
  idx: number;
  key: string;
  /** null when the image failed */
  embedding: Float32Array | null;
  error: string | null;
}

export type QueryKind = 'text' | 'image';
export type QueryStatus = 'scored' | 'failed' | 'excluded';

export interface QueryRow {
  query: QueryKind;
  /** caption index (text queries) or image index (image queries) */
  idx: number;
  /** the image's key (a text query: its own image's) */
  key: string;
  caption: string | null;
  /** 1-based rank of the first positive */
  rank: number;
  status: QueryStatus;
  /** gallery indices, best first (images for a text query, captions for an image query) */
  top10: number[];
}

const toBlob = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

function fromBlob(b: Buffer): Float32Array {
  // copy: better-sqlite3 may reuse the buffer, and Float32Array needs 4-byte alignment
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Captions stored for the run so far (0 before its text side was encoded). */
export function captionCount(db: Db, runId: number): number {
  return db.prepare(`SELECT count(*) FROM retrieval_captions WHERE run_id = ?`).pluck().get(runId) as number;
}

export function insertCaptions(db: Db, runId: number, rows: readonly StoredCaption[]): void {
  const stmt = db.prepare(`INSERT INTO retrieval_captions (run_id, idx, image, text, embedding) VALUES (?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (const r of rows) stmt.run(runId, r.idx, r.image, r.text, toBlob(r.embedding));
  })();
}

/** The run's captions in caption order. */
export function readCaptions(db: Db, runId: number): StoredCaption[] {
  const rows = db.prepare(`SELECT idx, image, text, embedding FROM retrieval_captions WHERE run_id = ? ORDER BY idx`).all(runId) as { idx: number; image: number; text: string; embedding: Buffer }[];
  return rows.map((r) => ({ idx: r.idx, image: r.image, text: r.text, embedding: fromBlob(r.embedding) }));
}

export function insertImages(db: Db, runId: number, rows: readonly StoredImage[]): void {
  const stmt = db.prepare(`INSERT INTO retrieval_images (run_id, idx, key, embedding, error) VALUES (?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (const r of rows) stmt.run(runId, r.idx, r.key, r.embedding && toBlob(r.embedding), r.error);
  })();
}

/** The run's images in index order. */
export function readImages(db: Db, runId: number): StoredImage[] {
  const rows = db.prepare(`SELECT idx, key, embedding, error FROM retrieval_images WHERE run_id = ? ORDER BY idx`).all(runId) as { idx: number; key: string; embedding: Buffer | null; error: string | null }[];
  return rows.map((r) => ({ idx: r.idx, key: r.key, embedding: r.embedding && fromBlob(r.embedding), error: r.error }));
}

/** Image indices already embedded (or failed) in the run: skipped when it is continued. */
export function embeddedImages(db: Db, runId: number): Set<number> {
  return new Set(db.prepare(`SELECT idx FROM retrieval_images WHERE run_id = ?`).pluck().all(runId) as number[]);
}

/** Replaces the run's query rows (a run ranked again, after a crash between ranking and finishing, keeps one set). */
export function replaceQueries(db: Db, runId: number, rows: readonly QueryRow[]): void {
  const stmt = db.prepare(`INSERT INTO retrieval_queries (run_id, query, idx, key, caption, rank, status, top10) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    db.prepare(`DELETE FROM retrieval_queries WHERE run_id = ?`).run(runId);
    for (const r of rows) stmt.run(runId, r.query, r.idx, r.key, r.caption, r.rank, r.status, JSON.stringify(r.top10));
  })();
}

/** The run's queries, text queries first, each kind in index order, streamed. */
export function* iterateQueries(db: Db, runId: number): Generator<QueryRow> {
  const stmt = db.prepare(`SELECT query, idx, key, caption, rank, status, top10 FROM retrieval_queries WHERE run_id = ? ORDER BY query = 'image', idx`);
  type Row = Omit<QueryRow, 'top10'> & { top10: string };
  for (const r of stmt.iterate(runId) as Iterable<Row>) yield { ...r, top10: JSON.parse(r.top10) as number[] };
}

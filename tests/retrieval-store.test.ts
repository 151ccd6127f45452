/** Schema v5: a DB from v4 migrates with its runs as classification runs; a retrieval run's rows round-trip. */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDb } from '../src/store/db.js';
import { captionCount, embeddedImages, insertCaptions, insertImages, iterateQueries, readCaptions, readImages, replaceQueries } from '../src/store/retrieval.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { createRun, getRun, insertPredictions, listRuns, predictionCounts } from '../src/store/runs.js';
import { runIdentity } from './support/run-identity.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

/** A DB file at schema v4 with one classification run of two predictions, written as clip-bench 4 wrote it. */
function v4Db(): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'clip-bench-v4-')), 'old.sqlite');
  const db = new Database(file);
  for (let v = 0; v < 4; v++) db.exec(MIGRATIONS[v]);
  db.pragma('user_version = 4');
  db.prepare(
    `INSERT INTO runs (status, created_at, model_name, model_dir, model_fingerprint, model_layout, model_variant, execution_provider, dataset, dataset_root, split, n_classes, prompt_set, prompt_hash, params, environment, identity)
     VALUES ('finished', '2026-01-01T00:00:00Z', 'toy', '/m', 'f', 'immich', 'fp32', 'cpu', 'imagefolder', '/d', 'all', 3, 'single', 'h', '{}', '{}', 'i')`,
  ).run();
  db.prepare(`INSERT INTO predictions (run_id, idx, key, label, top5, top5_logits, error) VALUES (1, 0, 'a', 0, '[0]', '[1]', NULL), (1, 1, 'b', 1, '[1]', '[1]', NULL)`).run();
  db.close();
  return file;
}

describe('schema v5', () => {
  it('a v4 DB read-only still lists its runs and counts (no retrieval tables yet)', () => {
    const db = openDb(v4Db(), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(4);
    expect(listRuns(db).map((r) => r.task)).toEqual(['classification']);
    expect(predictionCounts(db).get(1)).toBe(2);
    db.close();
  });

  it('a v4 DB migrates: its run becomes a classification run, retrieval rows can be stored beside it', () => {
    const db = openDb(v4Db());
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(getRun(db, 1).task).toBe('classification');
    const id = createRun(db, runIdentity({ task: 'retrieval', identity: 'r' }));
    expect(getRun(db, id).task).toBe('retrieval');
    insertImages(db, id, [{ idx: 0, key: 'x.jpg', embedding: Float32Array.of(0.6, 0.8), error: null }, { idx: 2, key: 'y.jpg', embedding: null, error: 'missing' }]);
    expect(predictionCounts(db).get(id)).toBe(2);
    expect(predictionCounts(db).get(1)).toBe(2);
    db.close();
  });

  it('a task outside the two is refused by the schema', () => {
    const db = openDb(':memory:');
    expect(() => createRun(db, runIdentity({ task: 'captioning' as 'retrieval' }))).toThrow(/CHECK/);
  });
});

describe('retrieval rows', () => {
  it('captions, images and queries round-trip exactly, in index order', () => {
    const db = openDb(':memory:');
    const id = createRun(db, runIdentity({ task: 'retrieval' }));
    const caps = [
      { idx: 1, image: 0, text: 'b, with a comma', embedding: Float32Array.of(0, 1) },
      { idx: 0, image: 0, text: 'a', embedding: Float32Array.of(1, 0) },
    ];
    expect(captionCount(db, id)).toBe(0);
    insertCaptions(db, id, caps);
    expect(captionCount(db, id)).toBe(2);
    expect(readCaptions(db, id)).toEqual([caps[1], caps[0]]);
    const imgs = [
      { idx: 3, key: 'k3', embedding: null, error: 'cannot decode' },
      { idx: 1, key: 'k1', embedding: Float32Array.of(0.25, -0.5), error: null },
    ];
    insertImages(db, id, imgs);
    expect(readImages(db, id)).toEqual([imgs[1], imgs[0]]);
    expect(embeddedImages(db, id)).toEqual(new Set([1, 3]));
    const q = [
      { query: 'image' as const, idx: 1, key: 'k1', caption: null, rank: 2, status: 'scored' as const, top10: [1, 0] },
      { query: 'text' as const, idx: 0, key: 'k1', caption: 'a', rank: 1, status: 'scored' as const, top10: [1, 3] },
    ];
    replaceQueries(db, id, q);
    replaceQueries(db, id, q); // ranked again: one set, not two
    expect([...iterateQueries(db, id)]).toEqual([q[1], q[0]]);
  });

  it('a batch of image rows is all-or-nothing', () => {
    const db = openDb(':memory:');
    const id = createRun(db, runIdentity({ task: 'retrieval' }));
    const row = { idx: 0, key: 'k', embedding: null, error: 'x' };
    expect(() => insertImages(db, id, [row, { ...row, idx: 1 }, row])).toThrow(/UNIQUE/);
    expect(readImages(db, id)).toEqual([]);
  });
});

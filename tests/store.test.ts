import { runIdentity } from './support/run-identity.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { openDb } from '../src/store/db.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { createRun, finishRun, getRun, insertPredictions, iteratePredictions, listRuns, type RunIdentity } from '../src/store/runs.js';
import { accuracyTableCsv, accuracyTableMarkdown, buildAccuracyTable } from '../src/report/accuracy-table.js';

const identity = runIdentity;

describe('results store', () => {
  it('creates the schema at the latest version in WAL mode', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'clip-bench-db-')), 'r.sqlite');
    const db = openDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    // reopening runs no migration twice
    openDb(file).close();
  });

  it('round-trips a run and its predictions', () => {
    const db = openDb(':memory:');
    const id = createRun(db, identity());
    insertPredictions(db, id, [
      { idx: 0, key: 'a/1.jpg', label: 0, top5: [0, 2, 1], top5Logits: [31.25, 20.5, -3], error: null },
      { idx: 1, key: 'b/2.jpg', label: 1, top5: null, top5Logits: null, error: 'corrupt JPEG' },
    ]);
    finishRun(db, id, { n: 2, nFailed: 1, top1: 0.5, top5: 0.5, metrics: { top1: { value: 0.5 } }, timings: { totalSeconds: 1 } });
    const run = getRun(db, id);
    expect(run).toMatchObject({ status: 'finished', n: 2, nFailed: 1, top1: 0.5, params: { batchSize: 2 } });
    expect([...iteratePredictions(db, id)]).toEqual([
      { idx: 0, key: 'a/1.jpg', label: 0, top5: [0, 2, 1], top5Logits: [31.25, 20.5, -3], error: null },
      { idx: 1, key: 'b/2.jpg', label: 1, top5: null, top5Logits: null, error: 'corrupt JPEG' },
    ]);
    expect(() => getRun(db, 99)).toThrow(UsageError);
    try {
      getRun(db, 99);
    } catch (e) {
      expect((e as UsageError).oneLine()).toBe('no run 99 in the database — recent runs: 1');
    }
  });

  it('a batch of predictions is all-or-nothing', () => {
    const db = openDb(':memory:');
    const id = createRun(db, identity());
    const row = { idx: 0, key: 'k', label: 0, top5: [0], top5Logits: [1], error: null };
    expect(() => insertPredictions(db, id, [row, { ...row, key: 'k2', idx: 1 }, row])).toThrow(/UNIQUE/);
    expect([...iteratePredictions(db, id)]).toEqual([]);
  });

  it('report: of equally complete runs of a model and dataset the latest; running runs are left out', () => {
    const db = openDb(':memory:');
    const done = (over: Partial<RunIdentity>, top1: number) => {
      const id = createRun(db, identity(over));
      finishRun(db, id, { n: 10, nFailed: 0, top1, top5: 1, metrics: {}, timings: {} });
    };
    done({}, 0.1);
    done({}, 0.3); // later run of the same cell wins
    done({ modelName: 'big', modelFingerprint: 'a'.repeat(64) }, 0.9);
    createRun(db, identity({ dataset: 'other' })); // still running
    const table = buildAccuracyTable(listRuns(db));
    expect(table.columns).toEqual(['imagefolder:d']);
    expect(table.rows.map((r) => [r.model, r.cells[0]?.top1])).toEqual([
      ['big', 0.9],
      ['toy', 0.3],
    ]);
    const md = accuracyTableMarkdown(table);
    expect(md).toContain('| toy (ffffffff) | 30.00 / 100.00 (n=10) |');
    expect(accuracyTableCsv(table).split('\n')[2]).toBe(`toy,${'f'.repeat(64)},imagefolder:d,2,10,0,0.3,1`);
  });
});

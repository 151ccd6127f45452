/** Results imported from CLIP_benchmark's files (schema v7): written in one transaction, read for the report. */
import type { Db } from './db.js';
import type { ImportedRecord, ImportFormat } from '../interop/clip-benchmark-read.js';

export interface ImportFile {
  /** resolved path */
  source: string;
  sha256: string;
  format: ImportFormat;
  records: ImportedRecord[];
}

export interface ImportOutcome {
  source: string;
  sha256: string;
  /** imported: new; unchanged: this content was imported before (nothing added); replaced: the path's earlier content gave way to this */
  status: 'imported' | 'unchanged' | 'replaced';
  records: number;
  values: number;
}

export interface ImportedRow {
  sourceFile: string;
  sha256: string;
  importedAt: string;
  format: ImportFormat;
  row: number;
  dataset: string | null;
  theirDataset: string;
  note: string | null;
  model: string;
  pretrained: string;
  task: string;
  language: string | null;
  metric: string;
  value: number | null;
}

/**
 * Imports every file or none: one transaction. A file whose bytes were imported before adds nothing; a path
 * imported before with other bytes has its old rows replaced, so a re-run file is not counted twice.
 */
export function importResults(db: Db, files: readonly ImportFile[], now = new Date().toISOString()): ImportOutcome[] {
  const seen = db.prepare(`SELECT 1 FROM imported_results WHERE sha256 = ? LIMIT 1`);
  const samePath = db.prepare(`DELETE FROM imported_results WHERE source_file = ? AND sha256 != ?`);
  const insert = db.prepare(`INSERT INTO imported_results (source_file, sha256, imported_at, format, row, dataset, their_dataset, note, model, pretrained, task, language, metric, value)
    VALUES (@source, @sha256, @now, @format, @row, @dataset, @theirDataset, @note, @model, @pretrained, @task, @language, @metric, @value)`);
  return db.transaction(() =>
    files.map((f): ImportOutcome => {
      const values = f.records.reduce((s, r) => s + r.metrics.length, 0);
      const base = { source: f.source, sha256: f.sha256, records: f.records.length, values };
      if (seen.get(f.sha256)) return { ...base, status: 'unchanged' };
      const replaced = samePath.run(f.source, f.sha256).changes > 0;
      for (const r of f.records) {
        for (const m of r.metrics) insert.run({ source: f.source, sha256: f.sha256, now, format: f.format, row: r.row, dataset: r.dataset, theirDataset: r.theirDataset, note: r.note, model: r.model, pretrained: r.pretrained, task: r.task, language: r.language, metric: m.metric, value: m.value });
      }
      return { ...base, status: replaced ? 'replaced' : 'imported' };
    }),
  )();
}

/** Every imported value, by source, row and metric; none in a DB from before schema v7 opened read-only. */
export function listImported(db: Db): ImportedRow[] {
  if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'imported_results'`).get()) return [];
  const rows = db.prepare(`SELECT * FROM imported_results ORDER BY source_file, row, rowid`).all() as Record<string, unknown>[];
  return rows.map((r) => ({
    sourceFile: r.source_file as string,
    sha256: r.sha256 as string,
    importedAt: r.imported_at as string,
    format: r.format as ImportFormat,
    row: r.row as number,
    dataset: r.dataset as string | null,
    theirDataset: r.their_dataset as string,
    note: r.note as string | null,
    model: r.model as string,
    pretrained: r.pretrained as string,
    task: r.task as string,
    language: r.language as string | null,
    metric: r.metric as string,
    value: r.value as number | null,
  }));
}

/**
 * Schema migrations, applied in order; `PRAGMA user_version` counts how many have run.
 * Never edit a released migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // v1: runs and their per-sample predictions.
  `
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    created_at TEXT NOT NULL,
    finished_at TEXT,
    model_name TEXT NOT NULL,
    model_dir TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    model_layout TEXT NOT NULL,
    model_variant TEXT NOT NULL,
    execution_provider TEXT NOT NULL,
    dataset TEXT NOT NULL,
    dataset_root TEXT NOT NULL,
    split TEXT NOT NULL,
    n_classes INTEGER NOT NULL,
    prompt_set TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    params TEXT NOT NULL,      -- JSON: batch size, limit, preprocessing, session options
    environment TEXT NOT NULL, -- JSON: clip-bench version and git commit, node, onnxruntime, sharp, platform
    timings TEXT,              -- JSON: seconds per stage
    n INTEGER,
    n_failed INTEGER,
    top1 REAL,
    top5 REAL,
    metrics TEXT               -- JSON: every metric with higher_is_better and stderr
  );
  CREATE INDEX runs_identity ON runs (model_fingerprint, dataset, split, prompt_hash);

  CREATE TABLE predictions (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    key TEXT NOT NULL,
    label INTEGER NOT NULL,
    top5 TEXT,         -- JSON array of class indices, best first; NULL when the sample failed
    top5_logits TEXT,  -- JSON array of logits matching top5
    error TEXT,        -- why the sample could not be scored
    PRIMARY KEY (run_id, idx)
  ) WITHOUT ROWID;
  `,
];

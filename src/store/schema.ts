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
  // v2: run identity (for resume and merge), shards, and the embedding caches.
  `
  ALTER TABLE runs ADD COLUMN identity TEXT;  -- sha256 of everything that determines the predictions
  ALTER TABLE runs ADD COLUMN shard TEXT;     -- "i/n" for a shard of a split, NULL for the whole split
  CREATE INDEX runs_by_identity ON runs (identity, status);

  CREATE TABLE text_embeddings (
    model_fingerprint TEXT NOT NULL,
    variant TEXT NOT NULL,
    text TEXT NOT NULL,
    embedding BLOB NOT NULL,   -- float32 little-endian, L2-normalised
    PRIMARY KEY (model_fingerprint, variant, text)
  ) WITHOUT ROWID;

  CREATE TABLE image_embeddings (
    model_fingerprint TEXT NOT NULL,
    variant TEXT NOT NULL,
    preprocess TEXT NOT NULL,  -- sha256 of the preprocessing config
    sample TEXT NOT NULL,      -- absolute path of the image
    stamp TEXT NOT NULL,       -- size and mtime when it was encoded: a changed file is encoded again
    embedding BLOB NOT NULL,
    PRIMARY KEY (model_fingerprint, variant, preprocess, sample)
  ) WITHOUT ROWID;
  `,
  // v3: the top-1 softmax probability over all classes (reliability diagrams, ECE); multi-label datasets
  // (VOC2007) keep every class's logit and the sample's targets, for 11-point mAP.
  `
  ALTER TABLE predictions ADD COLUMN confidence REAL; -- softmax of the logits (scale 100) at the top-1 class; NULL when failed or older
  ALTER TABLE predictions ADD COLUMN scores BLOB;   -- float32 little-endian, one logit per class; NULL for single-label runs
  ALTER TABLE predictions ADD COLUMN targets BLOB;  -- uint8 per class: 1 present, 0 absent, 255 difficult
  `,
  // v4: which process has a run open, so the same eval started twice on one DB is refused rather than
  // written twice, while a run whose process died (killed, crashed) is still continued.
  `
  ALTER TABLE runs ADD COLUMN owner TEXT; -- JSON {host, pid, token, since} of the process that last started or resumed the run
  `,
];

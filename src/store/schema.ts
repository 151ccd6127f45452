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
  // v5: retrieval as a second task. A run says its task; a retrieval run keeps its captions (text, image,
  // embedding), each image's embedding or the reason it has none, run-scoped so that resume, --no-cache and
  // merge need neither the model nor the caches; and every query's rank and top-10 once the run is ranked.
  `
  ALTER TABLE runs ADD COLUMN task TEXT NOT NULL DEFAULT 'classification' CHECK (task IN ('classification', 'retrieval'));

  CREATE TABLE retrieval_captions (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,      -- caption index in the run (grouped by image, in image order)
    image INTEGER NOT NULL,    -- the run's image index (the global sample index) it describes
    text TEXT NOT NULL,        -- as in the annotation file, without the caption prefix
    embedding BLOB NOT NULL,   -- float32 little-endian, L2-normalised, of the prefixed caption
    PRIMARY KEY (run_id, idx)
  ) WITHOUT ROWID;

  CREATE TABLE retrieval_images (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,      -- global sample index
    key TEXT NOT NULL,
    embedding BLOB,            -- float32 little-endian, L2-normalised; NULL when the image failed
    error TEXT,                -- why the image could not be embedded
    PRIMARY KEY (run_id, idx)
  ) WITHOUT ROWID;

  CREATE TABLE retrieval_queries (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    query TEXT NOT NULL CHECK (query IN ('text', 'image')), -- text: a caption retrieving images; image: an image retrieving captions
    idx INTEGER NOT NULL,      -- caption index (text) or image index (image)
    key TEXT NOT NULL,         -- the image's key (for a text query, of its own image)
    caption TEXT,              -- text queries: the caption
    rank INTEGER NOT NULL,     -- 1-based rank of the first positive; the worst rank for a failed query, 0 for an excluded one
    status TEXT NOT NULL CHECK (status IN ('scored', 'failed', 'excluded')),
    top10 TEXT NOT NULL,       -- JSON array of gallery indices (images for text, captions for image), best first
    PRIMARY KEY (run_id, query, idx)
  ) WITHOUT ROWID;
  `,
  // v6: what a model costs on a machine (clip-bench cost), beside its accuracy in the report. One row per
  // model fingerprint × variant × execution provider × machine; measuring again replaces the row.
  `
  CREATE TABLE model_costs (
    model_fingerprint TEXT NOT NULL,
    variant TEXT NOT NULL,
    execution_provider TEXT NOT NULL,
    machine TEXT NOT NULL,          -- platform, CPU count and model, memory: where the times were taken
    model_name TEXT NOT NULL,
    measured_at TEXT NOT NULL,
    batch_size INTEGER NOT NULL,    -- the batch of images_per_second (the eval batch size)
    images_per_second REAL NOT NULL, -- image encoder alone at batch_size
    latency_ms REAL NOT NULL,       -- one image at batch 1, median
    prompts_per_second REAL NOT NULL, -- text encoder, as eval feeds it
    peak_rss_mib REAL NOT NULL,     -- peak resident memory of an eval of generated JPEGs
    size_bytes INTEGER NOT NULL,    -- the fingerprinted files on disk
    parameters INTEGER NOT NULL,    -- elements of the graphs' floating-point initializers
    image_flops REAL,               -- per image (MatMul/Gemm/Conv); NULL when the graph's shapes are dynamic
    text_flops REAL,                -- per prompt at the full context; NULL likewise
    flops_note TEXT,                -- why a FLOP count is NULL
    settings TEXT NOT NULL,         -- JSON: session options, preprocessing workers, images and prompts measured, environment
    PRIMARY KEY (model_fingerprint, variant, execution_provider, machine)
  ) WITHOUT ROWID;
  `,
  // v7: results imported from CLIP_benchmark's files (clip-bench import), not measured here: kept apart from
  // runs, each with the file it came from. Importing a file again (same sha256) adds nothing.
  `
  CREATE TABLE imported_results (
    source_file TEXT NOT NULL,      -- the path as given to import, resolved
    sha256 TEXT NOT NULL,           -- of the file's bytes
    imported_at TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('clip_benchmark_json', 'clip_benchmark_csv')),
    row INTEGER NOT NULL,           -- 0 for a JSON file; the CSV line
    dataset TEXT,                   -- clip-bench's id; NULL where we have none or theirs is not comparable
    their_dataset TEXT NOT NULL,    -- CLIP_benchmark's name, as in the file
    note TEXT,                      -- said beside the number (a split that differs; why not comparable)
    model TEXT NOT NULL,
    pretrained TEXT NOT NULL,
    task TEXT NOT NULL,
    language TEXT,                  -- NULL where the file does not say (benchmark.csv)
    metric TEXT NOT NULL,           -- CLIP_benchmark's name (acc1, image_retrieval_recall@5, …)
    value REAL,                     -- a fraction, as in the file; NULL for NaN
    PRIMARY KEY (sha256, row, metric)
  );
  CREATE INDEX imported_by_source ON imported_results (source_file);
  `,
];

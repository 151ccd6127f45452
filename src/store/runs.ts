/** Reading and writing runs and their predictions. Every write is a transaction. */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import os from 'node:os';
import type { Db } from './db.js';
import { UsageError } from '../errors.js';
import { parseModelName } from '../models/model-name.js';

/** What a run evaluates: zero-shot classification (predictions table) or retrieval (retrieval_* tables). */
export type RunTask = 'classification' | 'retrieval';

export interface RunIdentity {
  /** 'classification' where absent (and for every run made before schema v5) */
  task?: RunTask;
  modelName: string;
  modelDir: string;
  modelFingerprint: string;
  modelLayout: string;
  modelVariant: string;
  executionProvider: string;
  dataset: string;
  datasetRoot: string;
  split: string;
  nClasses: number;
  promptSet: string;
  promptHash: string;
  params: Record<string, unknown>;
  environment: Record<string, unknown>;
  /** sha256 of everything that determines the predictions of the whole split (shards share it) */
  identity: string;
  /** "i/n" for a shard of the split, null for all of it */
  shard: string | null;
}

export interface PredictionRow {
  idx: number;
  key: string;
  label: number;
  /** class indices, best first; null for a failed sample */
  top5: number[] | null;
  top5Logits: number[] | null;
  error: string | null;
  /** softmax probability of the top-1 class over all classes' logits; absent in runs made before schema v3 */
  confidence?: number | null;
  /** multi-label runs: every class's logit (null for a failed sample) */
  scores?: Float32Array | null;
  /** multi-label runs: per class 1 present, 0 absent, 255 difficult */
  targets?: Uint8Array | null;
}

const blob = (a: Float32Array | Uint8Array | null | undefined): Buffer | null => (a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : null);

export interface RunSummary {
  n: number;
  nFailed: number;
  /** null for retrieval runs, whose headline is in `metrics` */
  top1: number | null;
  /** null below five classes */
  top5: number | null;
  metrics: Record<string, unknown>;
  timings: Record<string, number>;
}

/** The process that has a run open: `host` and `pid`, and a `token` per evaluation within that process. */
export interface RunOwner {
  host: string;
  pid: number;
  /** the executable it runs (absent in a hand-made owner): a pid reused by another program is not the owner */
  exe?: string;
  token: string;
  /** ISO time it took the run */
  since: string;
}

export interface RunRecord extends RunIdentity {
  /** open_clip architecture and pretrained tag parsed from `modelName` (`ViT-B-32__openai`), null where it has none; computed, not stored */
  architecture?: string | null;
  pretrained?: string | null;
  /** who last started or resumed the run (schema v4; absent in older runs) */
  owner?: RunOwner | null;
  id: number;
  status: 'running' | 'finished' | 'failed' | 'interrupted';
  createdAt: string;
  finishedAt: string | null;
  n: number | null;
  nFailed: number | null;
  top1: number | null;
  top5: number | null;
  metrics: Record<string, unknown> | null;
  timings: Record<string, number> | null;
}

/** A retrieval run (its rows are in the retrieval_* tables, not in predictions). */
export function isRetrievalRun(r: Pick<RunIdentity, 'task'>): boolean {
  return r.task === 'retrieval';
}

export function createRun(db: Db, id: RunIdentity, owner: RunOwner | null = null): number {
  const info = db
    .prepare(
      `INSERT INTO runs (task, status, created_at, model_name, model_dir, model_fingerprint, model_layout, model_variant, execution_provider,
         dataset, dataset_root, split, n_classes, prompt_set, prompt_hash, params, environment, identity, shard, owner)
       VALUES (@task, 'running', @createdAt, @modelName, @modelDir, @modelFingerprint, @modelLayout, @modelVariant, @executionProvider,
         @dataset, @datasetRoot, @split, @nClasses, @promptSet, @promptHash, @params, @environment, @identity, @shard, @owner)`,
    )
    .run({ ...id, task: id.task ?? 'classification', createdAt: new Date().toISOString(), params: JSON.stringify(id.params), environment: JSON.stringify(id.environment), owner: owner && JSON.stringify(owner) });
  return Number(info.lastInsertRowid);
}

function realExecutable(): string {
  try {
    return realpathSync(process.execPath); // as /proc/<pid>/exe shows it
  } catch {
    return process.execPath;
  }
}

/** Evaluations of this process that are under way, by owner token (several can share a pid in one process). */
const liveTokens = new Set<string>();

/** A new owner for one evaluation of this process; `releaseOwner` when it ends, however it ends. */
export function newOwner(): RunOwner {
  const owner = { host: os.hostname(), pid: process.pid, exe: realExecutable(), token: randomUUID(), since: new Date().toISOString() };
  liveTokens.add(owner.token);
  return owner;
}

export function releaseOwner(owner: RunOwner): void {
  liveTokens.delete(owner.token);
}

/** Whether Linux says `pid` has exited but not been reaped (state Z or X in /proc/PID/stat); false where it cannot tell. */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3); // after "(comm) ", which may hold spaces
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

/**
 * Whether a run's owner is still at work: true or false on this host (this process's own evaluations by
 * token, others by asking the OS for the pid), undefined on another host, where it cannot be told.
 */
export function ownerAlive(owner: RunOwner | null | undefined): boolean | undefined {
  if (!owner) return false; // runs made before owners were stored
  if (owner.host !== os.hostname()) return undefined;
  if (owner.pid === process.pid) return liveTokens.has(owner.token);
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
  // A killed owner whose parent died with it stays a zombie where nothing reaps orphans (a container whose
  // first process is not an init): the pid answers, but the process is gone.
  if (isZombie(owner.pid)) return false;
  // A live pid may have been reused by another program since the owner died: where Linux says which
  // executable it runs, a different one is not the owner.
  if (owner.exe) {
    try {
      return readlinkSync(`/proc/${owner.pid}/exe`) === owner.exe;
    } catch {
      // no /proc, or not ours to read: trust the pid
    }
  }
  return true;
}

/** A run that a live process (or one on another host, which cannot be checked) is writing now. */
export function inProgress(run: Pick<RunRecord, 'status' | 'owner'>): boolean {
  return run.status === 'running' && ownerAlive(run.owner) !== false;
}

/** Samples stored so far for each run: prediction rows (classification) or embedded images (retrieval). */
export function predictionCounts(db: Db): Map<number, number> {
  // a DB opened read-only is not migrated: one from before schema v5 has no retrieval_images
  const retrieval = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'retrieval_images'`).get() ? ' UNION ALL SELECT run_id FROM retrieval_images' : '';
  const rows = db
    .prepare(`SELECT run_id, count(*) AS n FROM (SELECT run_id FROM predictions${retrieval}) GROUP BY run_id`)
    .all() as { run_id: number; n: number }[];
  return new Map(rows.map((r) => [r.run_id, r.n]));
}

/** Samples the run scores when complete (stored since clip-bench records it), or null. */
export function plannedSamples(run: Pick<RunRecord, 'params'>): number | null {
  return typeof run.params.nSamples === 'number' ? run.params.nSamples : null;
}

function runInProgressError(db: Db, run: RunRecord): UsageError {
  const o = run.owner!;
  const done = predictionCounts(db).get(run.id) ?? 0;
  const total = plannedSamples(run);
  const here = o.host === os.hostname();
  return new UsageError(
    `run ${run.id} (${run.modelName} on ${run.dataset}/${run.split}, ${isRetrievalRun(run) ? `retrieval with ${run.promptSet}` : `prompts "${run.promptSet}"`}, the same settings) is already in progress: pid ${o.pid}${here ? '' : ` on ${o.host}`}, started ${o.since.slice(0, 19).replace('T', ' ')} UTC, ${done}${total === null ? '' : ` of ${total}`} samples so far`,
    {
      file: db.memory ? undefined : db.name,
      fix: `wait for it to finish (\`clip-bench runs --db ${db.name}\` shows its progress) or stop it, then run this command again${here ? '' : `; if that process is gone, add --resume ${run.id}`}`,
    },
  );
}

/**
 * Takes the run this evaluation writes to, atomically (one IMMEDIATE transaction, so two processes starting
 * the same eval at once cannot both take it): with `resume`, that run; else the newest unfinished run of
 * this identity and shard; else a new one from `create()`. A run that another live process is writing is
 * refused with one line naming it; one whose process is gone (killed, crashed) is taken and continued. An
 * explicit `resume` also takes a run whose owner is on another host (which cannot be checked).
 */
export function claimRun(db: Db, opts: { identity: string; shard: string | null; owner: RunOwner; resume?: number; create: () => RunIdentity }): { runId: number; resumed: boolean } {
  return db
    .transaction(() => {
      const id = opts.resume ?? findResumable(db, opts.identity, opts.shard);
      if (id === undefined) return { runId: createRun(db, opts.create(), opts.owner), resumed: false };
      const run = getRun(db, id);
      if (run.status === 'running' && (opts.resume === undefined ? inProgress(run) : ownerAlive(run.owner) === true)) throw runInProgressError(db, run);
      db.prepare(`UPDATE runs SET status = 'running', finished_at = NULL, owner = ? WHERE id = ?`).run(JSON.stringify(opts.owner), id);
      return { runId: id, resumed: true };
    })
    .immediate();
}

/** Inserts one batch of predictions atomically. */
export function insertPredictions(db: Db, runId: number, rows: readonly PredictionRow[]): void {
  const stmt = db.prepare(
    `INSERT INTO predictions (run_id, idx, key, label, top5, top5_logits, error, confidence, scores, targets) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const r of rows) {
      stmt.run(runId, r.idx, r.key, r.label, r.top5 && JSON.stringify(r.top5), r.top5Logits && JSON.stringify(r.top5Logits.map(roundLogit)), r.error, r.confidence ?? null, blob(r.scores), blob(r.targets));
    }
  })();
}

// Logits are float32 on the way in: 7 significant digits keep every bit that matters and the JSON short.
function roundLogit(x: number): number {
  return Number(x.toPrecision(7));
}

export function finishRun(db: Db, runId: number, s: RunSummary): void {
  db.prepare(
    `UPDATE runs SET status = 'finished', finished_at = ?, n = ?, n_failed = ?, top1 = ?, top5 = ?, metrics = ?, timings = ? WHERE id = ?`,
  ).run(new Date().toISOString(), s.n, s.nFailed, s.top1, s.top5, JSON.stringify(s.metrics), JSON.stringify(s.timings), runId);
}

/** The newest unfinished run with this identity and shard, to continue where it stopped. */
export function findResumable(db: Db, identity: string, shard: string | null): number | undefined {
  return db.prepare(`SELECT id FROM runs WHERE identity = ? AND shard IS ? AND status != 'finished' ORDER BY id DESC LIMIT 1`).pluck().get(identity, shard) as
    | number
    | undefined;
}

/** The newest finished run with this identity and shard, whatever the model's name was then. */
export function findFinished(db: Db, identity: string, shard: string | null): number | undefined {
  return db.prepare(`SELECT id FROM runs WHERE identity = ? AND shard IS ? AND status = 'finished' ORDER BY id DESC LIMIT 1`).pluck().get(identity, shard) as
    | number
    | undefined;
}

/** Sample indices that already have a prediction in a run. */
export function finishedIndices(db: Db, runId: number): Set<number> {
  return new Set(db.prepare(`SELECT idx FROM predictions WHERE run_id = ?`).pluck().all(runId) as number[]);
}

export function markRun(db: Db, runId: number, status: 'failed' | 'interrupted'): void {
  db.prepare(`UPDATE runs SET status = ?, finished_at = ? WHERE id = ?`).run(status, new Date().toISOString(), runId);
}

interface RunRow {
  id: number;
  /** absent in a DB from before schema v5 opened read-only (not migrated) */
  task?: RunTask;
  status: RunRecord['status'];
  created_at: string;
  finished_at: string | null;
  model_name: string;
  model_dir: string;
  model_fingerprint: string;
  model_layout: string;
  model_variant: string;
  execution_provider: string;
  dataset: string;
  dataset_root: string;
  split: string;
  n_classes: number;
  prompt_set: string;
  prompt_hash: string;
  params: string;
  environment: string;
  identity: string | null;
  shard: string | null;
  timings: string | null;
  n: number | null;
  n_failed: number | null;
  top1: number | null;
  top5: number | null;
  metrics: string | null;
  owner?: string | null;
}

function toRecord(r: RunRow): RunRecord {
  return {
    owner: r.owner ? (JSON.parse(r.owner) as RunOwner) : null,
    id: r.id,
    task: r.task ?? 'classification',
    status: r.status,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    modelName: r.model_name,
    architecture: parseModelName(r.model_name).architecture,
    pretrained: parseModelName(r.model_name).pretrained,
    modelDir: r.model_dir,
    modelFingerprint: r.model_fingerprint,
    modelLayout: r.model_layout,
    modelVariant: r.model_variant,
    executionProvider: r.execution_provider,
    dataset: r.dataset,
    datasetRoot: r.dataset_root,
    split: r.split,
    nClasses: r.n_classes,
    promptSet: r.prompt_set,
    promptHash: r.prompt_hash,
    params: JSON.parse(r.params),
    environment: JSON.parse(r.environment),
    identity: r.identity ?? '',
    shard: r.shard,
    timings: r.timings ? JSON.parse(r.timings) : null,
    n: r.n,
    nFailed: r.n_failed,
    top1: r.top1,
    top5: r.top5,
    metrics: r.metrics ? JSON.parse(r.metrics) : null,
  };
}

export function getRun(db: Db, runId: number, dbFile = 'the database'): RunRecord {
  const row = db.prepare(`SELECT * FROM runs WHERE id = ?`).get(runId) as RunRow | undefined;
  if (!row) {
    const ids = (db.prepare(`SELECT id FROM runs ORDER BY id DESC LIMIT 10`).all() as { id: number }[]).map((r) => r.id);
    throw new UsageError(`no run ${runId} in ${dbFile}`, { fix: ids.length ? `recent runs: ${ids.join(', ')}` : 'the database has no runs yet: run `clip-bench eval` first' });
  }
  return toRecord(row);
}

export function listRuns(db: Db, opts: { status?: RunRecord['status'] } = {}): RunRecord[] {
  const rows = (opts.status
    ? db.prepare(`SELECT * FROM runs WHERE status = ? ORDER BY id`).all(opts.status)
    : db.prepare(`SELECT * FROM runs ORDER BY id`).all()) as RunRow[];
  return rows.map(toRecord);
}

/** Predictions of a run in sample order, streamed. */
export function* iteratePredictions(db: Db, runId: number): Generator<PredictionRow> {
  const stmt = db.prepare(`SELECT idx, key, label, top5, top5_logits, error, confidence, scores, targets FROM predictions WHERE run_id = ? ORDER BY idx`);
  type Row = { idx: number; key: string; label: number; top5: string | null; top5_logits: string | null; error: string | null; confidence: number | null; scores: Buffer | null; targets: Buffer | null };
  for (const r of stmt.iterate(runId) as Iterable<Row>) {
    const multi = r.targets ? { targets: new Uint8Array(r.targets), scores: r.scores ? new Float32Array(new Uint8Array(r.scores).buffer) : null } : {};
    yield {
      ...multi,
      idx: r.idx,
      key: r.key,
      label: r.label,
      top5: r.top5 ? JSON.parse(r.top5) : null,
      top5Logits: r.top5_logits ? JSON.parse(r.top5_logits) : null,
      error: r.error,
      ...(r.confidence === null ? {} : { confidence: r.confidence }),
    };
  }
}

/**
 * The Kubernetes fan-out's steps, run locally as its pods run them (scripts/k8s/pod.sh, with a folder per
 * pod's emptyDir and one for the shared volume): the warm step encodes the prompts once and no shard encodes
 * one again; shard pods SIGKILLed (the whole process group, as the kubelet does) at several points and retried,
 * as a restarted container (same scratch) or as a new pod (fresh scratch); a merge started before the shards
 * waits for all of them. The merged run must be exactly the unsharded run, sample for sample.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { runZeroShot, type EvalOptions } from '../../src/eval/zero-shot.js';
import { writeDemo, type DemoPaths } from '../../src/fixtures/demo.js';
import { fixtureTexts, writeClipArch } from '../../src/fixtures/fixture-models.js';
import { packageRoot } from '../../src/paths.js';
import { loadPromptSet } from '../../src/prompts/prompt-set.js';
import { openDb } from '../../src/store/db.js';
import { getRun, iteratePredictions, listRuns, type PredictionRow, type RunRecord } from '../../src/store/runs.js';
import { BIN, countRows, faultCategory, peekDb, requireBuilt, tmpDir, waitFor } from './support/faults.js';

const c = faultCategory('fanout');

const PER_CLASS = 24; // 192 images, 64 per shard: 16 batches of 4, enough to kill a shard part-way
const TOTAL = 8 * PER_CLASS;
const SHARDS = 3;
const BATCH = 4;
const POD = path.join(packageRoot, 'scripts', 'k8s', 'pod.sh');

let tmp: string;
let results: string;
let demo: DemoPaths;
let arch: string;
let reference: { predictions: PredictionRow[]; run: RunRecord };
/** distinct prompt texts of the colours set: each class name in each template */
let nTexts: number;

beforeAll(async () => {
  requireBuilt();
  tmp = tmpDir('fanout');
  results = path.join(tmp, 'volume', 'results');
  demo = await writeDemo(path.join(tmp, 'demo'), PER_CLASS);
  arch = path.join(tmp, 'tiny');
  const set = loadPromptSet('colours');
  // random weights: logits without the toy model's wide margins, so any mix-up of samples shows
  await writeClipArch(arch, 'tiny', fixtureTexts(set.templates));
  const names = Object.values(set.classes!).flat();
  nTexts = new Set(names.flatMap((n) => set.templates.map((t) => t.replaceAll('{c}', n)))).size;
  const opts: EvalOptions = { modelDir: arch, dataset: 'imagefolder', root: demo.root, prompts: 'colours', batchSize: BATCH, workers: 2, cache: false, session: { intraOpThreads: 1 } };
  const db = openDb(':memory:');
  const r = await runZeroShot(db, opts);
  reference = { predictions: [...iteratePredictions(db, r.runId)], run: getRun(db, r.runId) };
  db.close();
  expect(reference.predictions).toHaveLength(TOTAL);
});

const dataFlags = () => ['--model', arch, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--threads', '1'];
const evalFlags = () => [...dataFlags(), '--batch-size', String(BATCH), '--workers', '2'];

interface PodResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** One pod's step: `sh pod.sh STEP ARGS` in its own process group, with its scratch folder and the shared one. */
function startPod(step: 'warm' | 'shard' | 'merge', args: string[], env: { scratch: string; index?: number; textCache?: string; volume?: string; waitSeconds?: number }) {
  mkdirSync(env.scratch, { recursive: true });
  const child: ChildProcess = spawn('sh', [POD, step, ...args], {
    detached: true, // its own group: a kill takes the shell and clip-bench, as a container's end does
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CLIP_BENCH: `${process.execPath} ${BIN}`,
      SCRATCH: env.scratch,
      RESULTS: env.volume ?? results,
      SHARDS: String(SHARDS),
      POLL_SECONDS: '1',
      ...(env.index === undefined ? {} : { JOB_COMPLETION_INDEX: String(env.index) }),
      ...(env.textCache === undefined ? {} : { TEXT_CACHE: env.textCache }),
      ...(env.waitSeconds === undefined ? {} : { WAIT_SECONDS: String(env.waitSeconds) }),
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let exited = false;
  const done = new Promise<PodResult>((resolve) => child.on('close', (code, signal) => ((exited = true), resolve({ code, signal, stdout, stderr }))));
  return { child, done, exited: () => exited, kill: () => {
      // the group may be gone already (the step ended): nothing to kill then
      if (!exited) process.kill(-child.pid!, 'SIGKILL');
    } };
}

const scratchOf = (name: string) => path.join(tmp, 'pods', name);
const shardDb = (scratch: string) => path.join(scratch, 'shard.sqlite');
const evalJson = (r: PodResult) => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { runId: number; resumed: boolean; shard: string; n: number; cache: { textHits: number; textMisses: number } };

/** Starts a shard pod and SIGKILLs its process group once `ready` holds; the point must come before it ends. */
async function killShardWhen(index: number, scratch: string, ready: () => boolean): Promise<number> {
  const pod = startPod('shard', evalFlags(), { scratch, index });
  const reached = await waitFor(() => pod.exited() || ready(), 90_000, 5);
  const finished = pod.exited();
  pod.kill();
  const r = await pod.done;
  expect(reached, 'the kill point was never reached').toBe(true);
  expect(finished, `shard ${index} finished before the kill point (make the dataset bigger); its stderr: ${r.stderr}`).toBe(false);
  expect(r.signal).toBe('SIGKILL');
  return countRows(shardDb(scratch), 'predictions');
}

async function finishShard(index: number, scratch: string): Promise<PodResult> {
  const r = await startPod('shard', evalFlags(), { scratch, index }).done;
  expect([r.code, r.stderr.split('\n').filter((l) => l && !l.startsWith('pod.sh shard: published '))]).toEqual([0, []]);
  return r;
}

describe('the fan-out, step by step as its pods run it', () => {
  let merge: ReturnType<typeof startPod>;
  afterAll(() => {
    if (merge && !merge.exited()) merge.kill(); // a failed case leaves no merge pod waiting behind it
  });

  c.fault('a merge pod started first waits (no merged DB) while there are no shard DBs; killed while waiting, its retry waits again', async () => {
    const first = startPod('merge', [], { scratch: scratchOf('merge') });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(first.exited()).toBe(false);
    first.kill();
    expect((await first.done).signal).toBe('SIGKILL');
    merge = startPod('merge', [], { scratch: scratchOf('merge') });
    await new Promise((r) => setTimeout(r, 2_500));
    expect(merge.exited()).toBe(false);
    expect(existsSync(path.join(results, 'clip-bench.sqlite'))).toBe(false);
  }, 30_000);

  c.fault('the warm pod encodes every prompt once and publishes the text cache', async () => {
    const r = await startPod('warm', dataFlags(), { scratch: scratchOf('warm') }).done;
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { texts: number; encoded: number; alreadyCached: number };
    expect(out).toMatchObject({ texts: nTexts, encoded: nTexts, alreadyCached: 0 });
    const h = peekDb(path.join(results, 'text-cache.sqlite'));
    try {
      expect(h.prepare('SELECT count(*) FROM text_embeddings').pluck().get()).toBe(nTexts);
      expect(h.prepare('SELECT count(*) FROM runs').pluck().get()).toBe(0);
    } finally {
      h.close();
    }
  }, 60_000);

  c.fault('shard 0 starts from the text cache and encodes no prompt (cache.textMisses 0); without the cache it encodes them all', async () => {
    const r = await finishShard(0, scratchOf('shard-0'));
    expect(evalJson(r)).toMatchObject({ shard: `0/${SHARDS}`, resumed: false, cache: { textHits: nTexts, textMisses: 0 } });
    // the control: the same pod with no warmed cache (elsewhere, so the fan-out's volume is untouched)
    const cold = await startPod('shard', evalFlags(), { scratch: scratchOf('cold'), index: 0, textCache: '', volume: path.join(tmp, 'cold-volume') }).done;
    expect(cold.code, cold.stderr).toBe(0);
    expect(evalJson(cold).cache).toMatchObject({ textHits: 0, textMisses: nTexts });
  }, 120_000);

  c.fault('shard 1 killed as soon as its run row exists, then after ≥ 16 rows; its container restarted each time continues the one run', async () => {
    const scratch = scratchOf('shard-1');
    await killShardWhen(1, scratch, () => countRows(shardDb(scratch), 'runs') >= 1);
    const rows = await killShardWhen(1, scratch, () => countRows(shardDb(scratch), 'predictions') >= 16);
    expect(rows).toBeGreaterThanOrEqual(16);
    expect(rows % BATCH, 'a batch was stored in part').toBe(0);
    expect(existsSync(path.join(results, 'shards', 'shard-1.sqlite')), 'a killed shard published its DB').toBe(false);
    expect(merge.exited()).toBe(false);
    const r = await finishShard(1, scratch);
    expect(evalJson(r)).toMatchObject({ runId: 1, resumed: true, shard: `1/${SHARDS}` });
    expect(countRows(shardDb(scratch), 'runs')).toBe(1);
  }, 240_000);

  c.fault('shard 2 killed after ≥ 8 rows; a new pod (fresh scratch) evaluates it again from the text cache', async () => {
    await killShardWhen(2, scratchOf('shard-2-first-pod'), () => countRows(shardDb(scratchOf('shard-2-first-pod')), 'predictions') >= 8);
    expect(merge.exited(), 'the merge ran before every shard had finished').toBe(false);
    const r = await finishShard(2, scratchOf('shard-2-second-pod'));
    expect(evalJson(r)).toMatchObject({ resumed: false, shard: `2/${SHARDS}`, cache: { textMisses: 0 } });
  }, 240_000);

  c.fault('the merge pod then merges the three shards into exactly the unsharded run, sample for sample', async () => {
    const m = await merge.done;
    expect(m.code, m.stderr).toBe(0);
    const [merged] = JSON.parse(m.stdout) as { runId: number; shards: number }[];
    expect(merged.shards).toBe(SHARDS);
    expect(readdirSync(path.join(results, 'shards')).sort()).toEqual(['shard-0.sqlite', 'shard-1.sqlite', 'shard-2.sqlite']); // no temporary copies left
    // published as rollback-journal DBs: the readers on the volume left no -wal or -shm files beside them
    expect(readdirSync(results).sort()).toEqual(['clip-bench.sqlite', 'shards', 'text-cache.sqlite']);
    const h = peekDb(path.join(results, 'clip-bench.sqlite'));
    try {
      expect(listRuns(h)).toHaveLength(1);
      const run = getRun(h, merged.runId);
      const predictions = [...iteratePredictions(h, merged.runId)];
      expect(run.status).toBe('finished');
      expect(predictions).toHaveLength(TOTAL);
      expect(predictions).toEqual(reference.predictions);
      expect({ n: run.n, nFailed: run.nFailed, top1: run.top1, top5: run.top5, metrics: run.metrics }).toEqual({
        n: reference.run.n,
        nFailed: reference.run.nFailed,
        top1: reference.run.top1,
        top5: reference.run.top5,
        metrics: reference.run.metrics,
      });
    } finally {
      h.close();
    }
  }, 120_000);
});

describe('a shard pod whose warm Job never publishes', () => {
  c.fault('gives up after WAIT_SECONDS with one line naming the missing cache and the warm Job, evaluating nothing', async () => {
    const scratch = scratchOf('orphan');
    const missing = path.join(tmp, 'nowhere', 'text-cache.sqlite');
    const r = await startPod('shard', evalFlags(), { scratch, index: 0, textCache: missing, waitSeconds: 2, volume: path.join(tmp, 'orphan-volume') }).done;
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`pod.sh shard: no ${missing} after 2 s: did the warm Job (step=warm) fail?`]);
    expect(r.stdout).toBe('');
    expect(existsSync(shardDb(scratch))).toBe(false);
  }, 30_000);
});

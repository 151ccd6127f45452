/**
 * Killing `clip-bench eval`: SIGKILL at several moments, then the same command again, must end in exactly
 * the predictions and metrics of an uninterrupted run, with no sample lost or doubled. SIGINT and SIGTERM
 * stop between batches, mark the run interrupted, print one line saying how to continue and exit 130.
 *
 * Kill points are chosen by watching the DB (read-only) until enough prediction rows are there.
 */
import path from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { runZeroShot, type EvalOptions } from '../../src/eval/zero-shot.js';
import { writeDemo, type DemoPaths } from '../../src/fixtures/demo.js';
import { fixtureTexts, writeClipArch } from '../../src/fixtures/fixture-models.js';
import { loadPromptSet } from '../../src/prompts/prompt-set.js';
import { openDb } from '../../src/store/db.js';
import { getRun, iteratePredictions, type PredictionRow, type RunRecord } from '../../src/store/runs.js';
import { countRows, faultCategory, lines, peekDb, requireBuilt, startCli, tmpDir, waitFor, type CliResult } from './support/faults.js';

const c = faultCategory('kill');

const PER_CLASS = 15; // 120 images: a few seconds of work for the tiny random CLIP at batch size 4
const TOTAL = 8 * PER_CLASS;
const BATCH = 4;

let tmp: string;
let demo: DemoPaths;
let arch: string;
let reference: { predictions: PredictionRow[]; run: RunRecord };

beforeAll(async () => {
  requireBuilt();
  tmp = tmpDir('kill');
  demo = await writeDemo(path.join(tmp, 'demo'), PER_CLASS);
  arch = path.join(tmp, 'tiny');
  // random weights: logits without the toy model's wide margins, so any mix-up of samples shows
  await writeClipArch(arch, 'tiny', fixtureTexts(loadPromptSet('colours').templates));
  const opts: EvalOptions = { modelDir: arch, dataset: 'imagefolder', root: demo.root, prompts: 'colours', batchSize: BATCH, workers: 2, cache: false, session: { intraOpThreads: 1 } };
  const db = openDb(':memory:');
  const r = await runZeroShot(db, opts);
  reference = { predictions: [...iteratePredictions(db, r.runId)], run: getRun(db, r.runId) };
  db.close();
  expect(reference.predictions).toHaveLength(TOTAL);
});

const evalArgs = (db: string) => [
  'eval', '--model', arch, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--db', db,
  '--batch-size', String(BATCH), '--no-cache', '--threads', '1', '--workers', '2', '--quiet', '--json',
];

function readRun(db: string, runId: number): { run: RunRecord; predictions: PredictionRow[]; distinct: number } {
  const h = peekDb(db);
  try {
    return {
      run: getRun(h, runId),
      predictions: [...iteratePredictions(h, runId)],
      distinct: h.prepare('SELECT count(DISTINCT idx) FROM predictions WHERE run_id = ?').pluck().get(runId) as number,
    };
  } finally {
    h.close();
  }
}

/** Starts the eval, waits until `ready` holds (polling the DB read-only), sends `signal`, and returns how it ended. */
async function interruptWhen(db: string, ready: () => boolean, signal: NodeJS.Signals): Promise<{ result: CliResult; rowsAtSignal: number }> {
  const run = startCli(evalArgs(db));
  let exited = false;
  void run.done.then(() => (exited = true));
  const reached = await waitFor(() => exited || ready(), 60_000, 5);
  if (!reached) {
    run.child.kill('SIGKILL'); // leave nothing running behind a failed case
    await run.done;
  }
  expect(reached, 'the kill point was never reached').toBe(true);
  expect(exited, 'the eval finished before the kill point: make the dataset bigger').toBe(false);
  const rowsAtSignal = countRows(db, 'predictions');
  run.child.kill(signal);
  return { result: await run.done, rowsAtSignal };
}

/** The final state must be exactly the uninterrupted run's: every row, and every metric. */
function expectSameAsUninterrupted(db: string, runId: number): void {
  const { run, predictions, distinct } = readRun(db, runId);
  expect(run.status).toBe('finished');
  expect(distinct).toBe(TOTAL);
  expect(predictions).toHaveLength(TOTAL);
  expect(predictions).toEqual(reference.predictions);
  expect({ n: run.n, nFailed: run.nFailed, top1: run.top1, top5: run.top5, metrics: run.metrics }).toEqual({
    n: reference.run.n,
    nFailed: reference.run.nFailed,
    top1: reference.run.top1,
    top5: reference.run.top5,
    metrics: reference.run.metrics,
  });
}

describe('kill -9, then the same command again', () => {
  const db = () => path.join(tmp, 'killed.sqlite');
  // cumulative: each restart resumes, so each later point lies further into the same run
  const points: [string, () => boolean][] = [
    ['as soon as the run row exists (prompts being encoded, first batch in flight)', () => countRows(db(), 'runs') >= 1],
    ['after ≥ 32 prediction rows', () => countRows(db(), 'predictions') >= 32],
    ['after ≥ 76 prediction rows', () => countRows(db(), 'predictions') >= 76],
  ];
  let before = 0;
  for (const [when, ready] of points) {
    c.fault(`SIGKILL ${when}: whole batches kept, one run, still unfinished`, async () => {
      const { result, rowsAtSignal } = await interruptWhen(db(), ready, 'SIGKILL');
      expect(result.signal).toBe('SIGKILL');
      const rows = countRows(db(), 'predictions');
      expect(rows).toBeGreaterThanOrEqual(Math.max(before, rowsAtSignal));
      expect(rows).toBeLessThan(TOTAL);
      expect(rows % BATCH, 'a batch was stored in part').toBe(0);
      expect(countRows(db(), 'runs')).toBe(1);
      const { run, distinct } = readRun(db(), 1);
      expect(distinct, 'an index stored twice').toBe(rows);
      expect(run.status).toBe('running'); // nobody could mark it
      before = rows;
    }, 90_000);
  }

  c.fault('the same command again resumes run 1 automatically and ends exactly as an uninterrupted run', async () => {
    const r = await startCli(evalArgs(db())).done;
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toMatchObject({ runId: 1, resumed: true, n: TOTAL, top1: reference.run.top1, top5: reference.run.top5 });
    expect(countRows(db(), 'runs')).toBe(1);
    expectSameAsUninterrupted(db(), 1);
  }, 90_000);
});

describe('SIGINT and SIGTERM', () => {
  const db = () => path.join(tmp, 'signalled.sqlite');
  const expectInterrupted = (result: CliResult, rowsAtSignal: number) => {
    expect(result.signal).toBeNull();
    expect(result.code).toBe(130); // as implemented: a UsageError with exitCode 130, for SIGTERM too
    expect(result.stdout).toBe('');
    const [line, ...more] = lines(result.stderr);
    expect(more).toEqual([]);
    const m = new RegExp(`^clip-bench: run 1 interrupted after (\\d+) of ${TOTAL} samples; finished samples are saved — run the same command again to continue \\(or add --resume 1\\)$`).exec(line);
    expect(m, line).not.toBeNull();
    const rows = countRows(db(), 'predictions');
    expect(Number(m![1])).toBe(rows); // the line tells the truth about what is saved
    expect(rows).toBeGreaterThanOrEqual(rowsAtSignal);
    expect(rows).toBeLessThan(TOTAL);
    expect(rows % BATCH).toBe(0);
    expect(readRun(db(), 1).run.status).toBe('interrupted');
  };

  c.fault('SIGINT (Ctrl-C) after ≥ 16 rows: stops between batches, run interrupted, one line with how to resume, exit 130', async () => {
    const { result, rowsAtSignal } = await interruptWhen(db(), () => countRows(db(), 'predictions') >= 16, 'SIGINT');
    expectInterrupted(result, rowsAtSignal);
  }, 90_000);

  c.fault('SIGTERM on the resumed run after ≥ 64 rows: the same', async () => {
    const { result, rowsAtSignal } = await interruptWhen(db(), () => countRows(db(), 'predictions') >= 64, 'SIGTERM');
    expectInterrupted(result, rowsAtSignal);
    expect(countRows(db(), 'runs')).toBe(1);
  }, 90_000);

  c.fault('a rerun finishes the interrupted run exactly as an uninterrupted run', async () => {
    const r = await startCli(evalArgs(db())).done;
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toMatchObject({ runId: 1, resumed: true, n: TOTAL });
    expectSameAsUninterrupted(db(), 1);
  }, 90_000);
});

import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { moreComplete, settingKey } from '../report/accuracy-table.js';
import { compareRuns, formatComparison, settingDifferences, type RunComparison } from '../report/compare.js';
import { comparisonHtml, retrievalComparisonHtml } from '../report/html.js';
import { compareStoredRetrievalRuns, formatStoredRetrievalComparison, isRankedRetrievalRun } from '../report/retrieval-runs.js';
import { isRetrievalDataset } from '../datasets/retrieval/index.js';
import { classNamesFor } from '../report/report-data.js';
import { openDb, type Db } from '../store/db.js';
import { getRun, isRetrievalRun, iteratePredictions, listRuns, type RunRecord } from '../store/runs.js';
import { OPTIONS } from './options.js';
import { emit } from './output.js';

export type CompareFormat = 'text' | 'json' | 'html';

export function renderComparison(c: RunComparison, format: CompareFormat): string {
  return format === 'json' ? JSON.stringify(c, null, 2) + '\n' : format === 'html' ? comparisonHtml(c) : formatComparison(c) + '\n';
}

export interface CompareArgs {
  runs?: string;
  models?: string;
  dataset?: string;
  db: string;
  seed: number;
  format: CompareFormat;
  out?: string;
}

/** Checks across flags, pure so it can be tested without a DB. Returns the problem or null. */
export function checkCompareArgs(a: Partial<CompareArgs>): string | null {
  if (!a.runs && !a.models) return 'pass --runs A,B or --models X,Y --dataset D';
  if (a.runs && a.models) return 'pass either --runs or --models, not both';
  if (a.models && !a.dataset) return '--models needs --dataset';
  if (a.format === 'html' && !a.out) return '--format html needs --out FILE (a page, not terminal output)';
  return null;
}

/** The finished runs of a model (NAME alone means its fp32 variant; NAME:VARIANT and fingerprint prefixes are exact) on a dataset. */
function modelRuns(db: Db, model: string, dataset: string): RunRecord[] {
  const [name, variant = 'fp32'] = model.split(':');
  const retrieval = isRetrievalDataset(dataset);
  const runs = listRuns(db, { status: 'finished' }).filter(
    (r) => isRetrievalRun(r) === retrieval && (!retrieval || isRankedRetrievalRun(r)) && r.dataset === dataset && ((r.modelName === name && r.modelVariant === variant) || r.modelFingerprint.startsWith(model)),
  );
  if (runs.length === 0) throw new UsageError(`no finished run of model "${model}" on ${dataset}`, { fix: 'name models as NAME, NAME:VARIANT or a fingerprint prefix (see `clip-bench runs`)' });
  return runs;
}

/**
 * The runs of two models to compare on a dataset: only runs of one setting (dataset root, split, prompt set,
 * preprocessing, failure rule) are paired — of several shared settings the one whose runs are most complete,
 * then latest; of each model's runs in it the most complete. No shared setting is an error that says what
 * differs between the two models' latest runs.
 */
export function pairModelRuns(db: Db, models: readonly [string, string], dataset: string): [RunRecord, RunRecord] {
  const [runsA, runsB] = models.map((m) => modelRuns(db, m, dataset));
  const best = (runs: RunRecord[], key: string) => runs.filter((r) => settingKey(r) === key).reduce((x, y) => (moreComplete(y, x) ? y : x));
  const shared = [...new Set(runsA.map(settingKey))].filter((k) => runsB.some((r) => settingKey(r) === k)).map((k) => [best(runsA, k), best(runsB, k)] as [RunRecord, RunRecord]);
  if (shared.length === 0) {
    const [a, b] = [runsA[runsA.length - 1], runsB[runsB.length - 1]];
    const what = settingDifferences(a, b).map((d) => `${d.setting} ${d.a} (run ${a.id}) vs ${d.b} (run ${b.id})`);
    if (a.split !== b.split) what.unshift(`split ${a.split} (run ${a.id}) vs ${b.split} (run ${b.id})`);
    throw new UsageError(`no runs of "${models[0]}" and "${models[1]}" on ${dataset} share a setting: ${what.join('; ')}`, {
      fix: 'evaluate both with the same --root, --split, --prompts and preprocessing, or pass --runs A,B to compare two runs anyway (the output says what differs)',
    });
  }
  // the pair whose weaker run is most complete
  const weaker = ([x, y]: [RunRecord, RunRecord]) => (moreComplete(x, y) ? y : x);
  return shared.reduce((p, q) => (moreComplete(weaker(q), weaker(p)) ? q : p));
}

export const compareCommand = {
  command: 'compare',
  describe: 'Compare two runs on the same samples: top-1 difference with a bootstrap 95% interval, exact McNemar test, flips each way, agreement, per-class deltas; for two retrieval runs over the same queries, each R@k difference in both directions with its paired bootstrap interval, exact McNemar p and flips.',
  builder: (y: Argv) =>
    y
      .options({
        runs: { type: 'string', describe: 'Two run ids, A,B (A is the baseline).' },
        models: { type: 'string', describe: 'Two models, A,B (NAME, NAME:VARIANT or fingerprint prefix): their finished runs on --dataset in one setting (root, split, prompt set, preprocessing), the most complete; refused with what differs where they share none.' },
        dataset: { type: 'string', describe: 'Dataset id for --models.' },
        db: OPTIONS.db,
        seed: { type: 'number', default: 2021, describe: 'Seed of the bootstrap resampling.' },
        format: {
          choices: ['text', 'json', 'html'] as const,
          default: 'text' as const,
          describe: 'Text for the terminal, JSON for programs, HTML (one self-contained page with the per-class delta plot; needs --out).',
        },
        out: OPTIONS.out,
      })
      .check((a) => {
        const problem = checkCompareArgs(a as unknown as CompareArgs);
        if (problem) throw new UsageError(problem);
        return true;
      })
      .example('$0 compare --runs 6,7', 'Is run 7 better than run 6?')
      .example('$0 compare --models toy-hf-split:fp32,toy-hf-split:fp16 --dataset imagefolder', 'What did fp16 cost?')
      .example('$0 compare --models ViT-B-32:fp32,ViT-B-32:fp16 --dataset mscoco', 'What did fp16 cost on MSCOCO 5k retrieval, both directions?')
      .example('$0 compare --runs 6,7 --format html --out results/compare.html', 'The same as a page with the per-class deltas plotted.'),
  handler: (a: CompareArgs) => {
    const db = openDb(a.db, { readonly: true });
    try {
      let runs: RunRecord[];
      if (a.runs) {
        const ids = a.runs.split(',').map((x) => Number(x.trim()));
        if (ids.length !== 2 || ids.some((x) => !Number.isInteger(x))) throw new UsageError(`--runs takes two run ids, A,B; got "${a.runs}"`);
        runs = ids.map((id) => getRun(db, id, a.db));
      } else {
        const models = a.models!.split(',').map((x) => x.trim());
        if (models.length !== 2) throw new UsageError(`--models takes two models, A,B; got "${a.models}"`);
        runs = pairModelRuns(db, [models[0], models[1]], a.dataset!);
      }
      const [ra, rb] = runs;
      if (isRetrievalRun(ra) !== isRetrievalRun(rb)) {
        const [ret, cls] = isRetrievalRun(ra) ? [ra, rb] : [rb, ra];
        throw new UsageError(`run ${ret.id} is a retrieval run (${ret.dataset}) and run ${cls.id} a classification run (${cls.dataset}): they share no queries to compare`, { fix: 'compare two retrieval runs or two classification runs (`clip-bench runs` lists them)' });
      }
      if (isRetrievalRun(ra)) {
        const c = compareStoredRetrievalRuns(db, ra, rb, { seed: a.seed });
        emit(a.format === 'json' ? JSON.stringify(c, null, 2) + '\n' : a.format === 'html' ? retrievalComparisonHtml(c) : formatStoredRetrievalComparison(c) + '\n', a.out);
        return;
      }
      for (const r of runs) if (r.status !== 'finished') throw new UsageError(`run ${r.id} is ${r.status}, not finished`, { fix: 'finish it first (rerun its eval command)' });
      const [A, B] = runs.map((run) => ({ run, predictions: [...iteratePredictions(db, run.id)] }));
      const classIds = Array.isArray(A.run.params.classIds) ? (A.run.params.classIds as string[]) : [];
      const names = classIds.length ? classNamesFor(A.run.promptSet, A.run.promptHash, classIds, A.run.dataset).names : undefined;
      const c = compareRuns(A, B, { seed: a.seed, names });
      emit(renderComparison(c, a.format), a.out);
    } finally {
      db.close();
    }
  },
};

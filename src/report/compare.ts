/**
 * A paired comparison of two runs on the same samples: is checkpoint B better than A, really or by
 * noise? Top-1 difference with a paired bootstrap interval, an exact McNemar test, predictions flipped
 * each way, agreement of top-1 predictions, and per-class deltas.
 */
import { UsageError } from '../errors.js';
import type { PredictionRow, RunRecord } from '../store/runs.js';
import { changedFraction, describeComparison, discordantCounts, mcnemarExact, pairedBootstrap } from './stats.js';

export interface ComparedRun {
  run: RunRecord;
  predictions: PredictionRow[];
}

export interface ClassDelta {
  classIndex: number;
  classId: string;
  /** display name from the run's prompt set, where known */
  className?: string;
  n: number;
  accuracyA: number;
  accuracyB: number;
  delta: number;
}

export interface RunComparison {
  /** label: what the sentence calls the run; model: its model name and variant */
  a: { runId: number; label: string; model: string; accuracy: number };
  b: { runId: number; label: string; model: string; accuracy: number };
  dataset: string;
  paired: number;
  diff: number;
  low: number;
  high: number;
  p: number;
  /** A right, B wrong */
  rightToWrong: number;
  /** A wrong, B right */
  wrongToRight: number;
  agreement: number;
  sentence: string;
  perClass: ClassDelta[];
}

export function runLabel(r: RunRecord): string {
  return r.modelVariant && r.modelVariant !== 'fp32' ? `${r.modelName} ${r.modelVariant}` : r.modelName;
}

/**
 * What to call the two runs in a sentence: two precisions of one model are their variants ("fp16 loses
 * 0.42 points" against fp32), two prompt sets of one checkpoint their prompt sets, anything else the
 * model names with their variants.
 */
export function comparisonLabels(a: RunRecord, b: RunRecord): [string, string] {
  if (a.modelName === b.modelName && a.modelVariant !== b.modelVariant) return [a.modelVariant, b.modelVariant];
  if (a.modelName === b.modelName && a.modelVariant === b.modelVariant && a.promptHash !== b.promptHash && a.promptSet !== b.promptSet) return [`prompts "${a.promptSet}"`, `prompts "${b.promptSet}"`];
  const [la, lb] = [runLabel(a), runLabel(b)];
  return la === lb ? [`run ${a.id}`, `run ${b.id}`] : [la, lb];
}

/**
 * Pairs the samples two runs share (by key) and compares their top-1 correctness.
 * @param opts.names display names of the classes in label order (e.g. from the prompt set)
 */
export function compareRuns(A: ComparedRun, B: ComparedRun, opts: { seed?: number; iterations?: number; names?: readonly string[] } = {}): RunComparison {
  if (A.run.dataset !== B.run.dataset || A.run.split !== B.run.split) {
    throw new UsageError(`runs ${A.run.id} and ${B.run.id} are on different data (${A.run.dataset}/${A.run.split} and ${B.run.dataset}/${B.run.split})`, {
      fix: 'compare two runs of the same dataset and split',
    });
  }
  const byKey = new Map(B.predictions.map((p) => [p.key, p]));
  const pairs = A.predictions.flatMap((pa) => (byKey.has(pa.key) ? [[pa, byKey.get(pa.key)!] as const] : []));
  if (pairs.length === 0) throw new UsageError(`runs ${A.run.id} and ${B.run.id} share no samples`, { fix: 'compare runs over the same images (same --root, --limit and shard)' });
  const correct = (p: PredictionRow) => (p.top5 !== null && p.top5[0] === p.label ? 1 : 0);
  const correctA = Uint8Array.from(pairs, ([a]) => correct(a));
  const correctB = Uint8Array.from(pairs, ([, b]) => correct(b));
  const top1 = (p: PredictionRow) => (p.top5 ? p.top5[0] : -1);
  const { b: rightToWrong, c: wrongToRight } = discordantCounts(correctA, correctB);
  const interval = pairedBootstrap(correctA, correctB, { seed: opts.seed ?? 2021, iterations: opts.iterations });
  const p = mcnemarExact(rightToWrong, wrongToRight);
  const changed = changedFraction(pairs.map(([a]) => top1(a)), pairs.map(([, b]) => top1(b)));
  const mean = (xs: Uint8Array) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const classIds = (A.run.params.classIds as string[] | undefined) ?? [];
  const perClassMap = new Map<number, { n: number; a: number; b: number }>();
  pairs.forEach(([pa], i) => {
    const c = perClassMap.get(pa.label) ?? { n: 0, a: 0, b: 0 };
    c.n++;
    c.a += correctA[i];
    c.b += correctB[i];
    perClassMap.set(pa.label, c);
  });
  const perClass = [...perClassMap.entries()]
    .map(([classIndex, c]) => ({
      classIndex,
      classId: classIds[classIndex] ?? String(classIndex),
      ...(opts.names?.[classIndex] !== undefined ? { className: opts.names[classIndex] } : {}),
      n: c.n,
      accuracyA: c.a / c.n,
      accuracyB: c.b / c.n,
      delta: (c.b - c.a) / c.n,
    }))
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.classIndex - y.classIndex);
  const [labelA, labelB] = comparisonLabels(A.run, B.run);
  return {
    a: { runId: A.run.id, label: labelA, model: runLabel(A.run), accuracy: mean(correctA) },
    b: { runId: B.run.id, label: labelB, model: runLabel(B.run), accuracy: mean(correctB) },
    dataset: A.run.dataset,
    paired: pairs.length,
    ...interval,
    p,
    rightToWrong,
    wrongToRight,
    agreement: 1 - changed,
    sentence: describeComparison({ baseline: labelA, candidate: labelB, ...interval, p, changed }),
    perClass,
  };
}

export function formatComparison(c: RunComparison, topClasses = 10): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const changedClasses = c.perClass.filter((d) => d.delta !== 0).slice(0, topClasses);
  return [
    `${c.b.model} (run ${c.b.runId}) vs ${c.a.model} (run ${c.a.runId}) on ${c.dataset}, ${c.paired} paired samples`,
    `  top-1: ${pct(c.a.accuracy)} → ${pct(c.b.accuracy)}`,
    `  ${c.sentence}`,
    `  flips: ${c.rightToWrong} right → wrong, ${c.wrongToRight} wrong → right; top-1 predictions agree on ${pct(c.agreement)}`,
    ...(changedClasses.length
      ? ['  largest per-class changes:', ...changedClasses.map((d) => `    ${(d.className ?? d.classId).padEnd(24)} ${pct(d.accuracyA).padStart(8)} → ${pct(d.accuracyB).padStart(8)}  (${d.delta > 0 ? '+' : ''}${(100 * d.delta).toFixed(1)} points, n=${d.n})`)]
      : ['  no class changes accuracy']),
  ].join('\n');
}

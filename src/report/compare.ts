/**
 * A paired comparison of two runs on the same samples: is checkpoint B better than A, really or by
 * noise? Top-1 difference with a paired bootstrap interval, an exact McNemar test, predictions flipped
 * each way, agreement of top-1 predictions, and per-class deltas.
 */
import { UsageError } from '../errors.js';
import type { PredictionRow, RunRecord } from '../store/runs.js';
import { isPartial, RUN_SETTINGS, runLanguage, signed } from './accuracy-table.js';
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

/** One thing, besides the model, in which two runs of a dataset differ: the root, the prompt set, the preprocessing, … */
export interface SettingDifference {
  setting: 'root' | 'language' | 'prompts' | 'preprocessing' | 'failures' | 'samples';
  a: string;
  b: string;
}

export interface RunComparison {
  /** what, besides the model, the two runs differ in (empty: the same setting) */
  differences: SettingDifference[];
  /** the runs are of two models (names, variants or fingerprints differ) */
  modelsDiffer: boolean;
  /** label: what the sentence calls the run; model: its model name and variant */
  a: { runId: number; label: string; model: string; accuracy: number };
  b: { runId: number; label: string; model: string; accuracy: number };
  dataset: string;
  /** the language both runs' text side is in (`--language`), where they share one; a differing one is in `differences` */
  language?: string;
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

/** "the whole split", "--limit 50", "shard 0/4 of --limit 50": which samples a run scored. */
function samplesText(r: RunRecord): string {
  const limit = typeof r.params?.limit === 'number' ? `--limit ${r.params.limit}` : null;
  if (r.shard) return `shard ${r.shard}${limit ? ` of ${limit}` : ''}`;
  return limit && isPartial(r) ? limit : 'the whole split';
}

/**
 * Everything besides the model (and dataset and split, which `compareRuns` requires equal) in which two runs
 * differ: root, prompt set (by hash), preprocessing, failure rule, samples scored. Each as the two values a
 * reader can tell apart (a short hash where two different things share a name).
 * @example settingDifferences(runWithPrompts('imagenet-7'), runWithPrompts('imagenet')) // → [{ setting: 'prompts', a: '"imagenet-7"', b: '"imagenet"' }]
 */
export function settingDifferences(a: RunRecord, b: RunRecord): SettingDifference[] {
  const out: SettingDifference[] = [];
  if ((a.datasetRoot ?? null) !== (b.datasetRoot ?? null)) out.push({ setting: 'root', a: String(a.datasetRoot), b: String(b.datasetRoot) });
  for (const f of RUN_SETTINGS) {
    if (f.id === 'split' || f.key(a) === f.key(b)) continue;
    const same = f.name(a) === f.name(b);
    const show = (r: RunRecord) => {
      const name = f.id === 'prompts' ? `"${f.name(r)}"` : f.name(r);
      return same ? `${name} (${f.key(r).slice(0, 8)})` : name;
    };
    out.push({ setting: f.id as SettingDifference['setting'], a: show(a), b: show(b) });
  }
  if (samplesText(a) !== samplesText(b)) out.push({ setting: 'samples', a: samplesText(a), b: samplesText(b) });
  return out;
}

/** How the two models differ, as each one's name: names, else variants, else fingerprints; null for one model. */
function modelLabels(a: RunRecord, b: RunRecord): [string, string] | null {
  const [la, lb] = [runLabel(a), runLabel(b)];
  if (a.modelName === b.modelName && a.modelVariant !== b.modelVariant) return [a.modelVariant, b.modelVariant];
  if (la !== lb) return [la, lb];
  if (a.modelFingerprint !== b.modelFingerprint) return [`${la} (${a.modelFingerprint?.slice(0, 8)})`, `${lb} (${b.modelFingerprint?.slice(0, 8)})`];
  return null;
}

/** "prompts "a"", "preprocessing …": the setting's word before its value, where the value does not already say it ("language fr"). */
const settingText = (d: SettingDifference, v: string) => (d.setting === 'language' ? v : `${d.setting} ${v}`);

const settingLabel = (d: SettingDifference, v: string) => (d.setting === 'prompts' ? `prompts ${v}` : d.setting === 'root' ? `root ${v}` : v);

/**
 * What to call the two runs in a sentence: what tells them apart — two precisions of one model are their
 * variants ("fp16 loses 0.42 points" against fp32), two prompt sets of one checkpoint their prompt sets,
 * two models their names, with every other difference added ("hf, prompts "imagenet-7"") — or their run ids.
 */
export function comparisonLabels(a: RunRecord, b: RunRecord): [string, string] {
  const diffs = settingDifferences(a, b);
  const models = modelLabels(a, b);
  const label = (i: 0 | 1) => [...(models ? [models[i]] : []), ...diffs.map((d) => settingLabel(d, i === 0 ? d.a : d.b))].join(', ');
  return models || diffs.length ? [label(0), label(1)] : [`run ${a.id}`, `run ${b.id}`];
}

/**
 * A title that says what is compared: "prompts "imagenet" vs "imagenet-7" on imagenet", "fp16 vs fp32 on
 * cifar10", "ViT-B-16 vs ViT-B-32; prompts "a" vs "b" on …" — B first, as in the sentence.
 */
export function comparisonTitle(c: Pick<RunComparison, 'a' | 'b' | 'differences' | 'dataset' | 'modelsDiffer'>): string {
  const parts = [...(c.modelsDiffer ? [`${c.b.model} vs ${c.a.model}`] : []), ...c.differences.map((d) => `${settingText(d, d.b)} vs ${d.a}`)];
  return `${parts.length ? parts.join('; ') : `run ${c.b.runId} vs run ${c.a.runId}`} on ${c.dataset}`;
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
    differences: settingDifferences(A.run, B.run),
    modelsDiffer: modelLabels(A.run, B.run) !== null,
    a: { runId: A.run.id, label: labelA, model: runLabel(A.run), accuracy: mean(correctA) },
    b: { runId: B.run.id, label: labelB, model: runLabel(B.run), accuracy: mean(correctB) },
    dataset: A.run.dataset,
    ...(runLanguage(A.run) !== null && runLanguage(A.run) === runLanguage(B.run) ? { language: runLanguage(A.run)! } : {}),
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
    `${c.b.model} (run ${c.b.runId}) vs ${c.a.model} (run ${c.a.runId}) on ${c.dataset}${c.language ? ` in language ${c.language}` : ''}, ${c.paired} paired samples`,
    c.differences.length
      ? `  not the same setting: ${c.differences.map((d) => `${settingText(d, d.b)} (run ${c.b.runId}) vs ${d.a} (run ${c.a.runId})`).join('; ')}`
      : '  same setting: dataset root, split, prompt set, preprocessing, failure rule, samples and language',
    `  top-1: ${pct(c.a.accuracy)} → ${pct(c.b.accuracy)}`,
    `  ${c.sentence}`,
    `  flips: ${c.rightToWrong} right → wrong, ${c.wrongToRight} wrong → right; top-1 predictions agree on ${pct(c.agreement)}`,
    ...(changedClasses.length
      ? ['  largest per-class changes:', ...changedClasses.map((d) => `    ${(d.className ?? d.classId).padEnd(24)} ${pct(d.accuracyA).padStart(8)} → ${pct(d.accuracyB).padStart(8)}  (${signed(100 * d.delta, 1)} points, n=${d.n})`)]
      : ['  no class changes accuracy']),
  ].join('\n');
}

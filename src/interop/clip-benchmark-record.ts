/**
 * A stored run as CLIP_benchmark's per-run result JSON, the dict its `clip_benchmark/cli.py` `run()` dumps:
 * `{"dataset", "model", "pretrained", "task", "metrics", "language"}` in that order, written by Python's
 * `json.dump` (", " and ": " separators, ASCII only, floats as `repr`, NaN for a missing acc5), with metric
 * values as fractions. Pure: the CLI reads the run from the DB and writes the file (src/cli/clip-benchmark-output.ts).
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseModelName } from '../models/model-name.js';
import { isPartial } from '../report/accuracy-table.js';
import { isRetrievalRun, type RunRecord } from '../store/runs.js';
import { clipBenchmarkName } from './clip-benchmark-names.js';

export type ClipBenchmarkTask = 'zeroshot_classification' | 'zeroshot_retrieval';

export interface ClipBenchmarkRecord {
  /** CLIP_benchmark's dataset name (configs/datasets/clip-benchmark-datasets.json) */
  dataset: string;
  /** open_clip architecture from the run's `ARCH__tag` model name; the whole name where it has no tag */
  model: string;
  /** open_clip pretrained tag; the model folder where the name has no tag (CLIP_benchmark's `--pretrained` for a local checkpoint is its path) */
  pretrained: string;
  task: ClipBenchmarkTask;
  /** fractions; NaN where CLIP_benchmark writes NaN (acc5 below five classes) */
  metrics: Record<string, number>;
  /** the prompts' language (`--language`); "en", CLIP_benchmark's default, for the dataset's own prompts */
  language: string;
}

/** The template fields of `--output`, as cli.py formats its `--output` (dataset and pretrained as slugs). */
export const OUTPUT_FIELDS = ['dataset', 'model', 'pretrained', 'pretrained_full_path', 'task', 'language'] as const;

const metricValue = (run: RunRecord, key: string): number => {
  const v = (run.metrics?.[key] as { value?: number | null } | undefined)?.value;
  return typeof v === 'number' ? v : NaN;
};

/** Whether the model's name carries an `ARCH__tag`: without one, `model` is the whole name and `pretrained` the folder. */
export const hasPretrainedTag = (run: Pick<RunRecord, 'modelName'>): boolean => parseModelName(run.modelName).pretrained !== null;

/**
 * The record CLIP_benchmark would have written for this run. Refuses (UsageError) a run that is not a finished
 * whole split, or whose dataset CLIP_benchmark does not have: its JSON has no field to say either.
 */
export function clipBenchmarkRecord(run: RunRecord): ClipBenchmarkRecord {
  const fix = 'CLIP_benchmark JSON is written for finished runs over a whole split of a dataset CLIP_benchmark has';
  if (run.status !== 'finished') throw new UsageError(`run ${run.id} is ${run.status}, not finished`, { fix });
  if (isPartial(run)) throw new UsageError(`run ${run.id} scored part of its split (${run.shard ? `shard ${run.shard}` : `--limit ${run.params.limit}`}); CLIP_benchmark's JSON has no field to say so`, { fix: 'run without --limit/--shard (or merge the shards) to write it' });
  const their = clipBenchmarkName(run.dataset);
  if (their.name === null) throw new UsageError(`run ${run.id}: ${their.why}`, { fix });
  const { architecture, pretrained } = parseModelName(run.modelName);
  const language = typeof run.params.language === 'string' ? run.params.language : 'en';
  const base = { dataset: their.name, model: architecture ?? run.modelName, pretrained: pretrained ?? run.modelDir };
  if (isRetrievalRun(run)) {
    const ks = Array.isArray(run.params.recallK) ? (run.params.recallK as number[]) : [];
    const metrics: Record<string, number> = {};
    for (const k of ks) {
      metrics[`image_retrieval_recall@${k}`] = metricValue(run, `image_retrieval_recall@${k}`);
      metrics[`text_retrieval_recall@${k}`] = metricValue(run, `text_retrieval_recall@${k}`);
    }
    return { ...base, task: 'zeroshot_retrieval', metrics, language };
  }
  return {
    ...base,
    task: 'zeroshot_classification',
    metrics: { acc1: metricValue(run, 'top1'), acc5: metricValue(run, 'top5'), mean_per_class_recall: metricValue(run, 'mean-per-class-recall') },
    language,
  };
}

/**
 * Python's `repr(float)`: the shortest round-trip digits, `.0` on integers, scientific below 1e-4 and from
 * 1e16 with a two-digit signed exponent, NaN/Infinity as json.dump writes them.
 * @example pythonFloat(1) // → '1.0'
 * @example pythonFloat(0.00005) // → '5e-05'
 */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = x.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 16) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  const fixed = String(x);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/** A string as json.dump writes it (ensure_ascii): JSON escapes, every non-ASCII UTF-16 unit as \uxxxx. */
const pythonString = (s: string): string => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** The record as `json.dump(dump, f)` writes it: one line, no trailing newline. */
export function pythonJson(r: ClipBenchmarkRecord): string {
  const metrics = Object.entries(r.metrics).map(([k, v]) => `${pythonString(k)}: ${pythonFloat(v)}`).join(', ');
  const fields = [
    ['dataset', pythonString(r.dataset)],
    ['model', pythonString(r.model)],
    ['pretrained', pythonString(r.pretrained)],
    ['task', pythonString(r.task)],
    ['metrics', `{${metrics}}`],
    ['language', pythonString(r.language)],
  ];
  return `{${fields.map(([k, v]) => `"${k}": ${v}`).join(', ')}}`;
}

/** The first `{field}` of the template that cli.py would not fill, or null. */
export function unknownOutputField(template: string): string | null {
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) if (!(OUTPUT_FIELDS as readonly string[]).includes(m[1])) return m[1];
  return null;
}

/**
 * The output path for a record, as cli.py fills `--output`: `{dataset}` with a `wds/` prefix dropped and `/`
 * as `_`, `{pretrained}` the basename where it is a path, `{pretrained_full_path}` with `/` as `_`.
 * @example outputPath('{dataset}_{pretrained}_{model}_{language}_{task}.json', { dataset: 'vtab/resisc45', model: 'ViT-B-32', pretrained: 'openai', task: 'zeroshot_classification', language: 'en', metrics: {} }) // → 'vtab_resisc45_openai_ViT-B-32_en_zeroshot_classification.json'
 */
export function outputPath(template: string, r: ClipBenchmarkRecord): string {
  const isPath = path.isAbsolute(r.pretrained) || r.pretrained.includes('/');
  const fields: Record<(typeof OUTPUT_FIELDS)[number], string> = {
    dataset: (r.dataset.startsWith('wds/') ? r.dataset.slice(4) : r.dataset).replaceAll('/', '_'),
    model: r.model,
    pretrained: isPath ? path.basename(r.pretrained) : r.pretrained,
    pretrained_full_path: r.pretrained.replaceAll('/', '_'),
    task: r.task,
    language: r.language,
  };
  return template.replace(/\{([^{}]*)\}/g, (whole, f: string) => (Object.hasOwn(fields, f) ? fields[f as keyof typeof fields] : whole));
}

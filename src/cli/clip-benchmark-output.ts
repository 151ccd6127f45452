/**
 * `eval --output FILE` and `suite --output TEMPLATE`: after a run, its CLIP_benchmark result JSON, built from
 * the run as stored (src/interop/clip-benchmark-record.ts) and written atomically.
 */
import { UsageError } from '../errors.js';
import { clipBenchmarkRecord, hasPretrainedTag, outputPath, pythonJson, unknownOutputField, OUTPUT_FIELDS } from '../interop/clip-benchmark-record.js';
import { openDb } from '../store/db.js';
import { getRun } from '../store/runs.js';
import { writeAtomic } from './output.js';

export const OUTPUT_OPTION = {
  type: 'string',
  describe:
    "Also write each run's result as CLIP_benchmark's per-run JSON ({\"dataset\", \"model\", \"pretrained\", \"task\", \"metrics\": {acc1, acc5, mean_per_class_recall | image_retrieval_recall@k, text_retrieval_recall@k}, \"language\"}, metrics as fractions, as its cli.py writes it) to this file, written atomically. A template like CLIP_benchmark's --output: {dataset} (its name, / as _), {model} and {pretrained} (from an ARCH__tag model name; a name without a tag gives model = the whole name and pretrained = the model folder, as CLIP_benchmark records a local checkpoint), {pretrained_full_path}, {task}, {language} (en for the dataset's own prompts). Runs over part of a split (--limit, --shard) and datasets CLIP_benchmark lacks are not written, and said so.",
} as const;

/** The problem with an --output template (a field cli.py would not fill), or null. */
export function checkOutputTemplate(template: string | undefined): string | null {
  if (template === undefined) return null;
  if (!template) return '--output needs a file name or template';
  const bad = unknownOutputField(template);
  return bad === null ? null : `--output: unknown template field {${bad}}; the fields are ${OUTPUT_FIELDS.map((f) => `{${f}}`).join(' ')}`;
}

/** Writes run `runId` of `dbFile` as CLIP_benchmark JSON to the filled template; returns the path and any note for stderr. */
export function writeClipBenchmarkOutput(dbFile: string, runId: number, template: string): { file: string; note: string | null } {
  const db = openDb(dbFile, { readonly: true });
  try {
    const run = getRun(db, runId, dbFile);
    const record = clipBenchmarkRecord(run);
    const file = outputPath(template, record);
    writeAtomic(file, pythonJson(record));
    const note = hasPretrainedTag(run) ? null : `note: model name "${run.modelName}" has no ARCH__pretrained tag: wrote model "${record.model}" and pretrained "${record.pretrained}" (the model folder)`;
    return { file, note };
  } finally {
    db.close();
  }
}

/** The suite's step: write the run, or say on stderr why it was not written; the suite goes on either way. */
export function writeSuiteOutput(dbFile: string, runId: number, template: string | undefined, say: (line: string) => void): void {
  if (template === undefined) return;
  try {
    const { file, note } = writeClipBenchmarkOutput(dbFile, runId, template);
    say(`  wrote CLIP_benchmark JSON ${file}${note ? `; ${note}` : ''}`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    say(`  no CLIP_benchmark JSON: ${err.oneLine()}`);
  }
}

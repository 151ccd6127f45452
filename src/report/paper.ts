/** The paper's zero-shot numbers (configs/paper/zero-shot.json), to put beside ours. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { unknownName } from '../errors.js';
import type { MetricId } from '../eval/metric-ids.js';
import { packageRoot } from '../paths.js';

export interface PaperCell {
  /** percent */
  value: number;
  verified: boolean;
}

export interface PaperNumbers {
  models: string[];
  datasets: Record<string, { paperName: string; metric: MetricId; results: Record<string, PaperCell | null> }>;
}

let cached: PaperNumbers | undefined;

export function paperNumbers(): PaperNumbers {
  if (cached) return cached;
  const raw = JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'paper', 'zero-shot.json'), 'utf8')) as {
    models: string[];
    datasets: Record<string, { paper_name: string; metric: MetricId; results: Record<string, [number, boolean] | null> }>;
  };
  cached = {
    models: raw.models,
    datasets: Object.fromEntries(
      Object.entries(raw.datasets).map(([id, d]) => [
        id,
        { paperName: d.paper_name, metric: d.metric, results: Object.fromEntries(Object.entries(d.results).map(([m, c]) => [m, c ? { value: c[0], verified: c[1] } : null])) },
      ]),
    ),
  };
  return cached;
}

/** The paper's cell for a dataset and one of its models; throws with "did you mean" on an unknown model name. */
export function paperCell(dataset: string, model: string): PaperCell | null {
  const p = paperNumbers();
  if (!p.models.includes(model)) throw unknownName('paper model', model, p.models);
  return p.datasets[dataset]?.results[model] ?? null;
}

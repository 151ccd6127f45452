/**
 * The parts of a suite file beyond its datasets: `groups` (named sets of the suite's datasets, averaged in
 * src/report/group-averages.ts), `averaging` (how the suite's mean is taken, said in its output) and a
 * dataset's stated `chance` level where 1/classes does not give it. Checked here; loadSuite calls it.
 */
import { UsageError } from '../errors.js';

export interface SuiteGroup {
  id: string;
  name: string;
  /** entry names (entryName) of the suite */
  datasets: string[];
  /** where the grouping comes from */
  source?: string;
}

export interface SuiteAveraging {
  /** the value averaged: each dataset's headline metric, the paper's for it */
  metric: 'headline';
  /** every dataset weighs the same */
  weights: 'equal';
  description: string;
}

export interface StatedChance {
  /** fraction */
  value: number;
  source: string;
}

const GROUP_FIX = 'write "groups": [{"id": "vtab-natural", "name": "VTAB natural", "datasets": ["caltech101", …]}, …] naming the suite\'s datasets';

/** Checks `groups` against the suite's entry names. */
export function parseGroups(raw: unknown, names: ReadonlySet<string>, file: string): SuiteGroup[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new UsageError('"groups" must be a list', { file, fix: GROUP_FIX });
  const ids = new Set<string>();
  return raw.map((g: unknown, i: number): SuiteGroup => {
    const where = `groups[${i}]`;
    const o = g as Record<string, unknown>;
    if (typeof g !== 'object' || g === null || Array.isArray(g)) throw new UsageError(`${where} is not an object`, { file, fix: GROUP_FIX });
    const bad = Object.keys(o).find((k) => !['id', 'name', 'datasets', 'source'].includes(k));
    if (bad) throw new UsageError(`${where} has an unknown key "${bad}"`, { file, fix: 'the keys are id, name, datasets, source' });
    for (const k of ['id', 'name'] as const) if (typeof o[k] !== 'string' || !o[k]) throw new UsageError(`${where} needs "${k}": a non-empty string`, { file, fix: GROUP_FIX });
    if (o.source !== undefined && (typeof o.source !== 'string' || !o.source)) throw new UsageError(`${where}: "source" must be a non-empty string`, { file, fix: GROUP_FIX });
    if (ids.has(o.id as string)) throw new UsageError(`${where}: group id "${o.id}" is used twice`, { file, fix: 'give each group its own id' });
    ids.add(o.id as string);
    const ds = o.datasets;
    if (!Array.isArray(ds) || ds.length === 0 || !ds.every((d) => typeof d === 'string')) throw new UsageError(`${where} (${o.id}) needs "datasets": a non-empty list of the suite's dataset names`, { file, fix: GROUP_FIX });
    const unknown = ds.find((d) => !names.has(d));
    if (unknown !== undefined) throw new UsageError(`${where} (${o.id}) names "${unknown}", which is not a dataset of the suite`, { file, fix: `name the suite's datasets: ${[...names].join(', ')}` });
    if (new Set(ds).size !== ds.length) throw new UsageError(`${where} (${o.id}) lists a dataset twice`, { file, fix: 'list each dataset once' });
    return { id: o.id as string, name: o.name as string, datasets: ds as string[], ...(o.source ? { source: o.source as string } : {}) };
  });
}

export function parseAveraging(raw: unknown, file: string): SuiteAveraging | null {
  if (raw === undefined) return null;
  const o = raw as Record<string, unknown>;
  const fix = 'write "averaging": {"metric": "headline", "weights": "equal", "description": "…"}';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError('"averaging" must be an object', { file, fix });
  if (o.metric !== 'headline') throw new UsageError(`"averaging.metric" must be "headline" (each dataset's own metric), got ${JSON.stringify(o.metric)}`, { file, fix });
  if (o.weights !== 'equal') throw new UsageError(`"averaging.weights" must be "equal", got ${JSON.stringify(o.weights)}`, { file, fix });
  if (typeof o.description !== 'string' || !o.description) throw new UsageError('"averaging.description" must say how the mean is taken', { file, fix });
  return { metric: 'headline', weights: 'equal', description: o.description };
}

/** An entry's stated chance level: {"value": fraction, "source": "…"}. */
export function parseChance(raw: unknown, where: string, file: string): StatedChance | undefined {
  if (raw === undefined) return undefined;
  const o = raw as Record<string, unknown>;
  const ok = typeof raw === 'object' && raw !== null && typeof o.value === 'number' && o.value >= 0 && o.value <= 1 && typeof o.source === 'string' && o.source !== '';
  if (!ok) throw new UsageError(`${where}: "chance" must be {"value": a fraction in [0, 1], "source": "why that value"}`, { file, fix: 'state it only where 1/classes is not the chance level (retrieval, mAP)' });
  return { value: o.value as number, source: o.source as string };
}

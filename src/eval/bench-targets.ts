/**
 * The targets `bench-engine` can judge from one run (configs/bench/targets.json): each measured figure beside its
 * goal, and whether it holds. A target measured under other settings than it states (a smaller model, fewer
 * images) is shown but judged "not as stated", never as holding.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import type { BenchResult } from './bench.js';

export interface BenchTarget {
  id: string;
  what: string;
  field: 'endToEndOverRaw' | 'imagenetPromptMinutes' | 'secondStartupSpeedup';
  goal: number;
  holds: 'at-least' | 'at-most' | 'below' | 'above';
  unit: string;
  stated: { arch?: string; images?: number };
}

export interface TargetVerdict {
  target: BenchTarget;
  value: number | null;
  verdict: 'holds' | 'misses' | 'not measured' | 'not as stated';
}

export function benchTargets(): BenchTarget[] {
  return (JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'bench', 'targets.json'), 'utf8')) as { targets: BenchTarget[] }).targets;
}

const IMAGENET_PROMPTS = 80_000;

/** The figure a target reads from a run. */
export function targetValue(r: Pick<BenchResult, 'endToEndOverRaw' | 'textBucketedPerSecond' | 'startup'>, field: BenchTarget['field']): number | null {
  if (field === 'imagenetPromptMinutes') return r.textBucketedPerSecond ? IMAGENET_PROMPTS / r.textBucketedPerSecond / 60 : null;
  if (field === 'secondStartupSpeedup') return r.startup ? r.startup.first.startupSeconds / r.startup.second.startupSeconds : null;
  return r[field];
}

/** Each target's verdict for a run made with `settings`. */
export function judgeTargets(r: Pick<BenchResult, 'endToEndOverRaw' | 'textBucketedPerSecond' | 'startup'>, settings: { arch: string; images: number }, targets = benchTargets()): TargetVerdict[] {
  return targets.map((target) => {
    const value = targetValue(r, target.field);
    if (value === null) return { target, value, verdict: 'not measured' };
    const met = { 'at-least': value >= target.goal, 'at-most': value <= target.goal, below: value < target.goal, above: value > target.goal }[target.holds];
    const asStated = (target.stated.arch === undefined || target.stated.arch === settings.arch) && (target.stated.images === undefined || settings.images >= target.stated.images);
    return { target, value, verdict: !asStated ? 'not as stated' : met ? 'holds' : 'misses' };
  });
}

const goalText = (t: BenchTarget) => `${{ 'at-least': '≥', 'at-most': '≤', below: '<', above: '>' }[t.holds]} ${t.goal} ${t.unit}`;

/** The verdicts as a Markdown table, as the README keeps them. */
export function targetsTable(vs: readonly TargetVerdict[]): string {
  return [
    '| target | measured | goal | verdict |',
    '|---|---:|---:|---|',
    ...vs.map((v) => `| ${v.target.what} | ${v.value === null ? '–' : `${v.value.toFixed(2)} ${v.target.unit}`} | ${goalText(v.target)} | ${v.verdict} |`),
  ].join('\n');
}

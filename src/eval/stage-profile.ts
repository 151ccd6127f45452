/**
 * The arithmetic of the per-stage profile (`npm run bench:profile`, issue 18): each stage of the image
 * pipeline measured alone gives wall time and CPU time (all threads) for a number of images; from those,
 * rates per core, each stage's share of the CPU an image costs, the ceiling that cost sets on this
 * machine's cores, and which stage bounds end to end. Pure: the script measures, this only divides.
 */

/** The pipeline's stages, in the order an image passes through them. */
export const PROFILE_STAGES = ['decode', 'resample', 'transfer', 'session', 'store'] as const;
export type ProfileStage = (typeof PROFILE_STAGES)[number];

/** One measurement: `images` processed in `wallSeconds`, costing `cpuMs` over all threads of the process. */
export interface StageMeasure {
  images: number;
  wallSeconds: number;
  cpuMs: number;
}

export interface StageRates {
  imagesPerSecond: number;
  cpuMsPerImage: number;
  /** CPU seconds per wall second: how many cores the stage kept busy */
  coresBusy: number;
  /** images/s ÷ cores busy (= images per CPU second) */
  imagesPerSecondPerCore: number;
}

export interface StageRow extends StageRates {
  stage: ProfileStage;
  /** this stage's part of the sum of all stages' CPU ms per image */
  cpuShare: number;
  /** the stage alone runs slower (wall) than the whole pipeline did */
  slowerThanEndToEnd: boolean;
}

export interface ProfileSummary {
  stages: StageRow[];
  endToEnd: StageRates;
  sumCpuMsPerImage: number;
  cores: number;
  /** images/s if every core did nothing but the stages' work: cores × 1000 ÷ sum of CPU ms per image */
  ceilingImagesPerSecond: number;
  /** end-to-end images/s ÷ the ceiling */
  endToEndOfCeiling: number;
  /** the stage with the largest CPU share */
  bound: ProfileStage;
}

function check(name: string, v: number, positive: boolean): void {
  if (!Number.isFinite(v) || v < 0 || (positive && v === 0)) throw new RangeError(`${name} must be a ${positive ? 'positive' : 'non-negative'} finite number, got ${v}`);
}

/**
 * Rates of one measurement.
 * @example stageRates({ images: 100, wallSeconds: 2, cpuMs: 3000 })
 * // { imagesPerSecond: 50, cpuMsPerImage: 30, coresBusy: 1.5, imagesPerSecondPerCore: 33.33… }
 */
export function stageRates(m: StageMeasure): StageRates {
  check('images', m.images, true);
  check('wallSeconds', m.wallSeconds, true);
  check('cpuMs', m.cpuMs, false);
  const imagesPerSecond = m.images / m.wallSeconds;
  const coresBusy = m.cpuMs / 1000 / m.wallSeconds;
  return { imagesPerSecond, cpuMsPerImage: m.cpuMs / m.images, coresBusy, imagesPerSecondPerCore: coresBusy > 0 ? imagesPerSecond / coresBusy : Infinity };
}

/** Shares, ceiling and bound from every stage's measurement and the end-to-end one, on `cores` cores. */
export function profileSummary(stages: Record<ProfileStage, StageMeasure>, endToEnd: StageMeasure, cores: number): ProfileSummary {
  check('cores', cores, true);
  const e2e = stageRates(endToEnd);
  const rates = PROFILE_STAGES.map((stage) => ({ stage, ...stageRates(stages[stage]) }));
  const sum = rates.reduce((s, r) => s + r.cpuMsPerImage, 0);
  if (sum === 0) throw new RangeError('the stages cost no CPU at all: nothing to divide');
  const rows: StageRow[] = rates.map((r) => ({ ...r, cpuShare: r.cpuMsPerImage / sum, slowerThanEndToEnd: r.imagesPerSecond < e2e.imagesPerSecond }));
  const bound = rows.reduce((a, b) => (b.cpuShare > a.cpuShare ? b : a)).stage;
  const ceiling = (cores * 1000) / sum;
  return { stages: rows, endToEnd: e2e, sumCpuMsPerImage: sum, cores, ceilingImagesPerSecond: ceiling, endToEndOfCeiling: e2e.imagesPerSecond / ceiling, bound };
}

const fixed = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '∞');

/** The profile as a fixed-width table and a few summary lines (the script prints it; the README quotes it). */
export function profileTable(p: ProfileSummary): string {
  const head = ['stage', 'images/s', 'CPU ms/image', 'cores busy', 'images/s/core', 'CPU share'];
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(11) : c.padStart(i === 1 ? 9 : 14))).join('');
  const row = (name: string, r: StageRates, share: string) => line([name, fixed(r.imagesPerSecond, 1), fixed(r.cpuMsPerImage, 2), fixed(r.coresBusy, 2), fixed(r.imagesPerSecondPerCore, 1), share]);
  const slower = p.stages.filter((s) => s.slowerThanEndToEnd).map((s) => s.stage);
  return [
    line(head),
    ...p.stages.map((s) => row(s.stage, s, `${(100 * s.cpuShare).toFixed(0)}%`)),
    row('end to end', p.endToEnd, ''),
    `sum of stages ${p.sumCpuMsPerImage.toFixed(2)} CPU ms/image → ceiling ${p.ceilingImagesPerSecond.toFixed(1)} images/s on ${p.cores} cores; end to end ${(100 * p.endToEndOfCeiling).toFixed(0)}% of it, ${fixed(p.endToEnd.imagesPerSecondPerCore, 1)} images/s per core`,
    `bound by ${p.bound} (${(100 * p.stages.find((s) => s.stage === p.bound)!.cpuShare).toFixed(0)}% of the CPU per image)` +
      (slower.length ? `; alone slower than end to end (wall): ${slower.join(', ')}` : '; every stage alone is faster than end to end (wall)'),
  ].join('\n');
}

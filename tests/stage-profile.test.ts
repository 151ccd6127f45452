/** The per-stage profile's arithmetic (src/eval/stage-profile.ts) on hand-worked numbers; no timing is measured here. */
import { describe, expect, it } from 'vitest';
import { profileSummary, profileTable, stageRates, type ProfileStage, type StageMeasure } from '../src/eval/stage-profile.js';

// 100 images per stage. CPU ms/image: decode 20, resample 10, transfer 1, session 36, store 3 → sum 70.
const stages: Record<ProfileStage, StageMeasure> = {
  decode: { images: 100, wallSeconds: 1, cpuMs: 2000 },
  resample: { images: 100, wallSeconds: 0.5, cpuMs: 1000 },
  transfer: { images: 100, wallSeconds: 0.1, cpuMs: 100 },
  session: { images: 100, wallSeconds: 5, cpuMs: 3600 },
  store: { images: 100, wallSeconds: 0.1, cpuMs: 300 },
};
const endToEnd: StageMeasure = { images: 100, wallSeconds: 4, cpuMs: 7600 };

describe('stage profile', () => {
  it('rates of one measurement: images/s, CPU ms/image, cores busy, images/s per core', () => {
    const r = stageRates({ images: 100, wallSeconds: 2, cpuMs: 3000 });
    expect(r.imagesPerSecond).toBe(50);
    expect(r.cpuMsPerImage).toBe(30);
    expect(r.coresBusy).toBe(1.5);
    expect(r.imagesPerSecondPerCore).toBeCloseTo(50 / 1.5, 12); // = 1000 / 30 ms
  });

  it('sum, ceiling on 2 cores, fraction of it, shares and the bound', () => {
    const p = profileSummary(stages, endToEnd, 2);
    expect(p.sumCpuMsPerImage).toBeCloseTo(70, 12);
    expect(p.ceilingImagesPerSecond).toBeCloseTo(2000 / 70, 12); // 28.57 images/s
    expect(p.endToEnd.imagesPerSecond).toBe(25);
    expect(p.endToEndOfCeiling).toBeCloseTo(25 / (2000 / 70), 12); // 0.875
    expect(p.endToEnd.imagesPerSecondPerCore).toBeCloseTo(25 / 1.9, 12);
    expect(p.stages.map((s) => [s.stage, Number(s.cpuShare.toFixed(4))])).toEqual([
      ['decode', 0.2857],
      ['resample', 0.1429],
      ['transfer', 0.0143],
      ['session', 0.5143],
      ['store', 0.0429],
    ]);
    expect(p.bound).toBe('session');
    // session alone does 20 images/s, below end to end's 25; the others are faster
    expect(p.stages.filter((s) => s.slowerThanEndToEnd).map((s) => s.stage)).toEqual(['session']);
  });

  it('the table names the bound and the stages slower than end to end', () => {
    const t = profileTable(profileSummary(stages, endToEnd, 2));
    expect(t).toContain('ceiling 28.6 images/s on 2 cores; end to end 88% of it');
    expect(t).toContain('bound by session (51% of the CPU per image); alone slower than end to end (wall): session');
    expect(t.split('\n')).toHaveLength(9); // header, 5 stages, end to end, 2 summary lines
  });

  it.each([
    ['images', { images: 0, wallSeconds: 1, cpuMs: 1 }],
    ['wallSeconds', { images: 1, wallSeconds: 0, cpuMs: 1 }],
    ['cpuMs', { images: 1, wallSeconds: 1, cpuMs: -1 }],
  ])('a measurement with a bad %s is refused, naming it', (name, m) => {
    expect(() => stageRates(m)).toThrow(new RegExp(`^${name} must be`));
  });
});

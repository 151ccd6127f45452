import { existsSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';
import { admit, createDecodeBudget, fits, holdOn, processDecodeBudget, release, toKiB } from '../src/models/preprocess/decode-budget.js';
import { createPreprocessPool, preprocessImage } from '../src/models/preprocess/index.js';

const workerBuilt = existsSync(path.join(packageRoot, 'dist', 'src', 'models', 'preprocess', 'worker.js'));
if (!workerBuilt) console.warn('decode budget across pool workers SKIPPED: worker not compiled — run `npm run build` (npm test does)');

/** Whether `p` has settled after a few event-loop turns (no clocks: admission is event-driven). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

const inFlight = (b: ReturnType<typeof createDecodeBudget>) => b.state[0];

describe('decode budget: decoded bytes in flight, shared by every thread', () => {
  it.each([
    [0, 10, 100, true],
    [0, 1000, 100, true], // larger than the whole budget: runs alone
    [60, 40, 100, true],
    [60, 41, 100, false],
    [1, 1000, 100, false],
  ])('fits(in flight %i KiB, request %i KiB, limit %i KiB) = %s', (held, kib, limit, want) => {
    expect(fits(held, kib, limit)).toBe(want);
  });

  it('sizes round up to whole KiB, at least 1', () => {
    expect([toKiB(0), toKiB(1), toKiB(1024), toKiB(1025)]).toEqual([1, 1, 1, 2]);
  });

  it('admission is first come, first served: a request that does not fit holds back later ones that would', async () => {
    const b = createDecodeBudget(100 * 1024);
    await admit(b, 60);
    const big = admit(b, 50);
    const small = admit(b, 10);
    expect(await settled(big)).toBe(false);
    expect(await settled(small)).toBe(false); // 60 + 10 fits, but it queued behind 50
    release(b, 60);
    expect(await settled(big)).toBe(true);
    expect(await settled(small)).toBe(true);
    expect(inFlight(b)).toBe(60);
    release(b, 50);
    release(b, 10);
    expect(inFlight(b)).toBe(0);
  });

  it('an image larger than the budget runs alone: it waits for an empty budget, and everything waits for it', async () => {
    const b = createDecodeBudget(100 * 1024);
    await admit(b, 5);
    const huge = admit(b, 500);
    expect(await settled(huge)).toBe(false);
    release(b, 5);
    expect(await settled(huge)).toBe(true);
    const next = admit(b, 1);
    expect(await settled(next)).toBe(false);
    release(b, 500);
    expect(await settled(next)).toBe(true);
    release(b, 1);
  });

  it('a hold gives back exactly what it was admitted for, once', async () => {
    const b = createDecodeBudget(100 * 1024);
    const hold = holdOn(b);
    await hold.admit(3000);
    expect(inFlight(b)).toBe(3);
    await expect(hold.admit(1)).rejects.toThrow(/twice/);
    hold.release();
    hold.release();
    expect(inFlight(b)).toBe(0);
  });

  it('preprocessImage decodes within the process budget: with the budget full it waits, and gives its bytes back', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } }).png().toBuffer();
    const budget = processDecodeBudget();
    const full = budget.limitKiB;
    await admit(budget, full);
    const ticketsBefore = budget.state[1];
    const pending = preprocessImage(png);
    // Once the header is read it asks for its bytes (takes a ticket)...
    for (let i = 0; i < 10_000 && budget.state[1] === ticketsBefore; i++) await new Promise((r) => setImmediate(r));
    expect(budget.state[1]).toBe(ticketsBefore + 1);
    // ...and is not admitted while the budget is full.
    expect(await settled(pending)).toBe(false);
    expect(inFlight(budget)).toBe(full);
    release(budget, full);
    expect((await pending).length).toBe(3 * 224 * 224);
    expect(inFlight(budget)).toBe(0);
  });

  it.skipIf(!workerBuilt)('pool workers decode within the same budget as the thread that made the pool', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } }).png().toBuffer();
    const budget = processDecodeBudget();
    const pool = createPreprocessPool({ threads: 2 });
    try {
      await pool.run(png); // workers up
      const full = budget.limitKiB;
      await admit(budget, full);
      const ticketsBefore = budget.state[1];
      const pending = pool.run(png);
      for (let i = 0; i < 100_000 && budget.state[1] === ticketsBefore; i++) await new Promise((r) => setImmediate(r));
      expect(budget.state[1]).toBe(ticketsBefore + 1); // the worker asked the shared budget
      expect(await settled(pending)).toBe(false);
      release(budget, full);
      expect((await pending).length).toBe(3 * 224 * 224);
      expect(inFlight(budget)).toBe(0);
    } finally {
      await pool.close();
    }
  });
});

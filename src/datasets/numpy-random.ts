/**
 * The part of numpy's legacy `RandomState` that TFDS uses to split KITTI: MT19937 seeded with an integer
 * (`np.random.seed(n)` → `init_genrand`), `permutation(n)` (a Fisher–Yates shuffle drawing
 * `random_interval(i)` by masked rejection of 32-bit outputs) and `choice(a, k, replace=False)`
 * (= `a[permutation(len(a))[:k]]`). Bit-exact with numpy's legacy stream, which numpy keeps frozen.
 */

const N = 624;
const M = 397;

export class LegacyRandomState {
  private readonly mt = new Uint32Array(N);
  private pos = N;

  /** `np.random.seed(seed)` for an integer seed in [0, 2^32). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32 (split to stay exact in float64)
      this.mt[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.pos = 0;
  }

  /** genrand_int32 */
  nextUint32(): number {
    if (this.pos >= N) this.twist();
    let y = this.mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy's `random_interval(max)`: uniform in [0, max] by rejection under the smallest covering bit mask. */
  interval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new RangeError('interval: max above 2^32 - 1 is not needed here');
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    let v: number;
    while ((v = (this.nextUint32() & mask) >>> 0) > max);
    return v;
  }

  /** `np.random.permutation(n)` */
  permutation(n: number): number[] {
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i >= 1; i--) {
      const j = this.interval(i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  /** `np.random.choice(items, k, replace=False)` */
  choiceWithoutReplacement<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new RangeError(`cannot take ${k} of ${items.length} without replacement`);
    return this.permutation(items.length)
      .slice(0, k)
      .map((i) => items[i]);
  }
}

/**
 * A process-wide budget of decoded bytes in flight, shared by the main thread and every
 * preprocessing worker (a `SharedArrayBuffer`), so that peak memory stays bounded whatever the
 * image sizes and `--workers`: five 169-megapixel PNGs decoded at once would hold 2.5 GB.
 *
 * Before its pixels are allocated, each decode asks for its size (from the header) and is
 * admitted when it fits beside what is in flight, or when nothing is in flight (so an image
 * larger than the whole budget runs alone rather than never). Admission is first come, first
 * served (a ticket queue): a large image waiting for room is not overtaken by a stream of small
 * ones. The bytes are given back once the image has been transformed.
 *
 * Layout of the `Int32Array` (sizes in KiB, so that terabytes fit in 31 bits):
 * [0] = KiB in flight, [1] = next ticket, [2] = ticket being served.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { waitWhile } from './decode-lock.js';

const IN_FLIGHT = 0;
const NEXT = 1;
const SERVING = 2;

/** Default budget: images of a few tens of megapixels decode side by side; a 169-megapixel one runs alone. */
export const DEFAULT_DECODE_BUDGET_BYTES = 512 * 1024 * 1024;

export interface DecodeBudget {
  state: Int32Array;
  /** Budget in KiB. */
  limitKiB: number;
}

export function createDecodeBudget(limitBytes: number = DEFAULT_DECODE_BUDGET_BYTES): DecodeBudget {
  return { state: new Int32Array(new SharedArrayBuffer(12)), limitKiB: toKiB(limitBytes) };
}

export function toKiB(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** Whether a request of `kib` may start beside `inFlight`: it fits, or nothing else is running. */
export function fits(inFlightKiB: number, kib: number, limitKiB: number): boolean {
  return inFlightKiB === 0 || inFlightKiB + kib <= limitKiB;
}

/** Wait for `kib` to be admitted (in ticket order), then count it in flight. */
export async function admit(budget: DecodeBudget, kib: number): Promise<void> {
  const s = budget.state;
  const ticket = Atomics.add(s, NEXT, 1);
  for (;;) {
    const serving = Atomics.load(s, SERVING);
    if (serving === ticket) break;
    await waitWhile(s, SERVING, serving);
  }
  try {
    for (;;) {
      // Only the head of the queue adds; others only subtract, so a stale read can only be too high.
      const inFlight = Atomics.load(s, IN_FLIGHT);
      if (fits(inFlight, kib, budget.limitKiB)) {
        Atomics.add(s, IN_FLIGHT, kib);
        return;
      }
      await waitWhile(s, IN_FLIGHT, inFlight);
    }
  } finally {
    Atomics.add(s, SERVING, 1);
    Atomics.notify(s, SERVING);
  }
}

export function release(budget: DecodeBudget, kib: number): void {
  Atomics.sub(budget.state, IN_FLIGHT, kib);
  Atomics.notify(budget.state, IN_FLIGHT);
}

/** What one decode holds: `admit` it (once) with its size, `release` when its pixels are dropped. */
export interface BudgetHold {
  admit(bytes: number): Promise<void>;
  /** Give the bytes back; for a large image, after collecting garbage (see `collectGarbage`). */
  release(): void;
}

/** Decodes this large or larger are followed by a garbage collection before their bytes are given back. */
export const COLLECT_AFTER_BYTES = 64 * 1024 * 1024;

export function holdOn(budget: DecodeBudget): BudgetHold {
  let held = 0;
  return {
    async admit(bytes) {
      if (held) throw new Error('decode budget: admit called twice for one hold');
      const kib = toKiB(bytes);
      await admit(budget, kib);
      held = kib;
    },
    release() {
      if (!held) return;
      if (held * 1024 >= COLLECT_AFTER_BYTES) collectGarbage();
      release(budget, held);
      held = 0;
    },
  };
}

let gc: (() => void) | undefined;

/**
 * A full V8 garbage collection, now. Decoded pixels live in Buffers whose memory V8 frees only
 * when it collects them, which for a thread that allocated little else may be several images
 * later: five 169-megapixel decodes in a row then hold 1–2 GB of dead pixels. Collecting after
 * each large image makes the budget's "given back" true. (`gc` is reached through V8's
 * `--expose-gc` flag, set here rather than on the command line so that every entry point and
 * worker gets it; it costs a few milliseconds against the seconds such an image takes.)
 */
export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}

let processBudget: DecodeBudget | undefined;

/** This thread's handle on the process-wide budget (created by the first thread that asks). */
export function processDecodeBudget(): DecodeBudget {
  return (processBudget ??= createDecodeBudget());
}

/** Adopt the budget of the thread that started this one (workers call it with what the pool passed). */
export function adoptProcessDecodeBudget(budget: DecodeBudget): void {
  processBudget = budget;
}

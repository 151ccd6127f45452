/**
 * A process-wide readers–writer lock over a `SharedArrayBuffer`, shared by the main thread and
 * every preprocessing worker, so that a failed sharp decode can be repeated alone.
 *
 * Why: libvips keeps one error buffer for the whole process. When decodes fail at the same time
 * on several threads, each reads back whatever text is there — another file's, two files' run
 * together, or nothing ("Unknown error"). Ordinary decodes take the shared side and run in
 * parallel; a decode that failed is retried on the exclusive side, with no other libvips decode
 * in flight, so the message read back is that file's own.
 *
 * Waiting is asynchronous (`Atomics.waitAsync`): a thread may have other decodes in flight that
 * must be able to finish and release while it waits. Writers have priority: once one waits, new
 * readers queue behind it.
 *
 * Layout of the `Int32Array`: [0] = readers holding the lock, or −1 while a writer holds it;
 * [1] = writers waiting or holding.
 */

const HOLDERS = 0;
const WRITERS = 1;

export type DecodeLock = Int32Array;

/** A fresh, unlocked lock. */
export function createDecodeLock(): DecodeLock {
  return new Int32Array(new SharedArrayBuffer(8));
}

/** `Atomics.waitAsync` (ES2024, in Node since 16), typed here because the project's lib is ES2022. */
type WaitAsync = (a: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync: WaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Wait until `lock[index]` is no longer `value` (or a notify), without blocking the thread. */
export async function waitWhile(lock: Int32Array, index: number, value: number): Promise<void> {
  const w = waitAsync(lock, index, value);
  if (!w.async) return;
  // A pending waitAsync does not keep Node's event loop alive; this timer does, for the wait only.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    await w.value;
  } finally {
    clearInterval(keepAlive);
  }
}

export async function acquireShared(lock: DecodeLock): Promise<void> {
  for (;;) {
    const writers = Atomics.load(lock, WRITERS);
    if (writers > 0) {
      await waitWhile(lock, WRITERS, writers);
      continue;
    }
    const holders = Atomics.load(lock, HOLDERS);
    if (holders >= 0) {
      if (Atomics.compareExchange(lock, HOLDERS, holders, holders + 1) === holders) {
        // A writer may have arrived between the two loads: let it go first.
        if (Atomics.load(lock, WRITERS) === 0) return;
        releaseShared(lock);
      }
      continue;
    }
    await waitWhile(lock, HOLDERS, holders);
  }
}

export function releaseShared(lock: DecodeLock): void {
  if (Atomics.sub(lock, HOLDERS, 1) === 1) Atomics.notify(lock, HOLDERS);
}

export async function acquireExclusive(lock: DecodeLock): Promise<void> {
  Atomics.add(lock, WRITERS, 1);
  for (;;) {
    if (Atomics.compareExchange(lock, HOLDERS, 0, -1) === 0) return;
    const holders = Atomics.load(lock, HOLDERS);
    if (holders !== 0) await waitWhile(lock, HOLDERS, holders);
  }
}

export function releaseExclusive(lock: DecodeLock): void {
  Atomics.store(lock, HOLDERS, 0);
  Atomics.sub(lock, WRITERS, 1);
  Atomics.notify(lock, HOLDERS);
  Atomics.notify(lock, WRITERS);
}

/** Run `fn` holding the shared side. */
export async function withShared<T>(lock: DecodeLock, fn: () => Promise<T>): Promise<T> {
  await acquireShared(lock);
  try {
    return await fn();
  } finally {
    releaseShared(lock);
  }
}

/** Run `fn` holding the exclusive side. */
export async function withExclusive<T>(lock: DecodeLock, fn: () => Promise<T>): Promise<T> {
  await acquireExclusive(lock);
  try {
    return await fn();
  } finally {
    releaseExclusive(lock);
  }
}

let processLock: DecodeLock | undefined;

/** This thread's handle on the process-wide lock (created by the first thread that asks). */
export function processDecodeLock(): DecodeLock {
  return (processLock ??= createDecodeLock());
}

/** Adopt the lock of the thread that started this one (workers call it with what the pool passed). */
export function adoptProcessDecodeLock(lock: DecodeLock): void {
  processLock = lock;
}

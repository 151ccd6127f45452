import { expect } from 'vitest';

/**
 * The one line the CLI prints for a rejected input (`UsageError.oneLine()`), or 'did not fail'. Any other
 * error is rethrown: a crash is a bug, not a user mistake, and must not pass as a message.
 */
export async function usageFailure(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    const line = (err as { oneLine?: () => string }).oneLine?.();
    if (line === undefined) throw err;
    expect(line).not.toContain('\n');
    return line;
  }
  return 'did not fail';
}

/** `usageFailure` for a synchronous call. */
export function usageFailureSync(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    const line = (err as { oneLine?: () => string }).oneLine?.();
    if (line === undefined) throw err;
    expect(line).not.toContain('\n');
    return line;
  }
  return 'did not fail';
}

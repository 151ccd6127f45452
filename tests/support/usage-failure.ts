import { expect } from 'vitest';

/** A rejection's one line (`UsageError.oneLine()`); any other error is rethrown: a crash is a bug, not a user mistake. */
function oneLineOf(err: unknown): string {
  const line = (err as { oneLine?: () => string }).oneLine?.();
  if (line === undefined) throw err;
  expect(line).not.toContain('\n');
  return line;
}

/** The one line the CLI prints for a rejected input, or 'did not fail'. */
export async function usageFailure(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return oneLineOf(err);
  }
  return 'did not fail';
}

/** `usageFailure` for a synchronous call. */
export function usageFailureSync(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return oneLineOf(err);
  }
  return 'did not fail';
}

/**
 * One way to write an error. Library code throws these; only `src/cli` turns a `UsageError`
 * into a one-line message and exit code 2.
 */

/** A mistake the user can fix: bad flag, bad file, bad layout. `file` and `fix` make the message actionable. */
export class UsageError extends Error {
  readonly file?: string;
  readonly fix?: string;
  /** the CLI's exit code: 2 for a mistake in the input, 130 for an interrupted run */
  readonly exitCode: number;
  constructor(message: string, opts: { file?: string; fix?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UsageError';
    this.file = opts.file;
    this.fix = opts.fix;
    this.exitCode = opts.exitCode ?? 2;
  }

  /** The single line the CLI prints: `file: message (fix)`. */
  oneLine(): string {
    const where = this.file ? `${this.file}: ` : '';
    const fix = this.fix ? ` — ${this.fix}` : '';
    return `${where}${this.message}${fix}`.replace(/\s*\n\s*/g, ' ');
  }
}

/** sharp-style parameter validation error: which parameter, what was expected, what came. */
export function invalidParameter(name: string, expected: string, actual: unknown): UsageError {
  return new UsageError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `${value.constructor?.name ?? 'object'} ${JSON.stringify(value)?.slice(0, 80)}`;
  return `${typeof value} ${String(value)}`;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** `unknown dataset "imagnet". Did you mean "imagenet"? Known: a, b, c` */
export function unknownName(kind: string, name: string, known: readonly string[]): UsageError {
  const ranked = [...known].sort((x, y) => editDistance(name, x) - editDistance(name, y));
  const best = ranked[0];
  const hint = best !== undefined && editDistance(name, best) <= Math.max(2, Math.floor(best.length / 3)) ? ` Did you mean "${best}"?` : '';
  return new UsageError(`unknown ${kind} "${name}".${hint}`, { fix: `known ${kind}s: ${known.join(', ')}` });
}

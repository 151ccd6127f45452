/**
 * Reading an annotation JSON file with errors that name where: a syntax error as `file:line:column`, a wrong
 * field as its JSON path (`dataset_coco.json: images[12].sentences[3].raw is a number, expected a string`).
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../errors.js';

/** The parsed file; a syntax error names its line and column. */
export async function readJsonFile(file: string, fix: string): Promise<unknown> {
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // V8 names the offending offset, except when the text stops early (then: the end of the file).
    const at = /at position (\d+)/.exec(message)?.[1] ?? (/end of JSON input/.test(message) ? String(text.length) : undefined);
    if (at === undefined) throw new UsageError(`not valid JSON: ${message}`, { file, fix });
    const before = text.slice(0, Number(at));
    const line = before.split('\n').length;
    const column = Number(at) - before.lastIndexOf('\n');
    throw new UsageError(`not valid JSON: ${message.replace(/ in JSON at position \d+.*/, '')}`, { file: `${file}:${line}:${column}`, fix });
  }
}

function kind(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v} (${JSON.stringify(v).slice(0, 40)})`;
}

/** Typed access to a parsed JSON value that reports the path of a mismatch. */
export class JsonFields {
  constructor(readonly file: string, private readonly fix: string) {}

  wrong(where: string, what: string, value: unknown): UsageError {
    return new UsageError(`${where || 'the top level'} is ${kind(value)}, expected ${what}`, { file: this.file, fix: this.fix });
  }

  object(v: unknown, where: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.wrong(where, 'an object', v);
    return v as Record<string, unknown>;
  }

  array(v: unknown, where: string): unknown[] {
    if (!Array.isArray(v)) throw this.wrong(where, 'an array', v);
    return v;
  }

  string(v: unknown, where: string): string {
    if (typeof v !== 'string') throw this.wrong(where, 'a string', v);
    return v;
  }

  /** A caption: a string with something other than whitespace in it. */
  caption(v: unknown, where: string): string {
    const text = this.string(v, where);
    if (text.trim() === '') throw new UsageError(`${where} is an empty caption (${JSON.stringify(text)}), expected its text`, { file: this.file, fix: this.fix });
    return text;
  }

  integer(v: unknown, where: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw this.wrong(where, 'an integer', v);
    return v;
  }
}

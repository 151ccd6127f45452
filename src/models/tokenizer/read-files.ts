/**
 * Reading a checkpoint's small text and JSON files, turning every failure into a `UsageError` that
 * names the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';

/** The file as UTF-8 text; `what` names it in errors ("merges.txt"). */
export function readText(file: string, what: string): string {
  if (!existsSync(file)) throw new UsageError(`${what} not found`, { file });
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what}: ${(e as Error).message}`, { file, cause: e });
  }
}

/** The file parsed as JSON, or a `UsageError` saying it is not JSON. */
export function readJson(file: string, what: string): unknown {
  const text = readText(file, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON (${(e as Error).message})`, { file, fix: `expected ${what} as JSON`, cause: e });
  }
}

/** A JSON object (not null, not an array). */
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

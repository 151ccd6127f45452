/**
 * Helpers shared by the adapters of the paper's benchmark datasets, each read in its distribution's own
 * layout: finding the distribution's top folder under --root, reading its index files (CSV, JSON, JSONL,
 * plain lists) with errors that name the file, class ids taken from the shipped prompt set, checking
 * class folders against them, and "expected … found …" errors for a root that does not fit.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { loadPromptSet } from '../prompts/prompt-set.js';
import { IMAGE_EXTENSIONS } from './imagefolder.js';
import { describeListing, firstFitting, isDirectory, isFile, listDir } from './imagenet-fs.js';

export { firstFitting, isDirectory, isFile, listDir };

/** `expected <layout>, found <what is in root>`: the one error for a root that does not match a layout. */
export async function layoutMismatch(root: string, expected: string, fix: string, detail?: string): Promise<UsageError> {
  const found = describeListing(await listDir(root));
  return new UsageError(`${detail ? `${detail}; ` : ''}expected ${expected}, found ${found}`, { file: root, fix });
}

/** A text file of the distribution, or a UsageError naming it. */
export async function readTextFile(file: string, fix: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new UsageError('file not found or not readable', { file, fix });
  }
}

/** Non-empty lines, without trailing whitespace (the official lists have CRLF line ends). */
export function nonEmptyLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0);
}

/** The class ids of a shipped prompt set, in its key order (each benchmark's file keys them in label order). */
export function promptClassIds(promptId: string): string[] {
  const classes = loadPromptSet(promptId).classes;
  if (!classes) throw new Error(`prompt set ${promptId} has no "classes"`); // shipped data, checked by tests
  return Object.keys(classes);
}

export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** "a, b, c, … (7 more)" */
export function some(names: readonly string[], n = 4): string {
  return names.length <= n ? names.join(', ') : `${names.slice(0, n).join(', ')}, … (${names.length - n} more)`;
}

/**
 * Maps class ids to the sub-folders of `dir` that hold them: exactly `classIds`, or the same after
 * `folderToId` (e.g. Kinetics folders written with underscores). Unknown folders are an error; with
 * `all`, so is a missing class. Returns the folder of each class id (undefined where absent).
 */
export async function classFolderMap(
  dir: string,
  classIds: readonly string[],
  opts: { all: boolean; fix: string; what: string; folderToId?: (folder: string) => string; ignore?: readonly string[] },
): Promise<(string | undefined)[]> {
  const l = await listDir(dir);
  const index = new Map(classIds.map((id, i) => [id, i]));
  const folders: (string | undefined)[] = classIds.map(() => undefined);
  const unknown: string[] = [];
  for (const d of l.dirs) {
    if (opts.ignore?.includes(d)) continue;
    const i = index.get(d) ?? index.get(opts.folderToId?.(d) ?? d);
    if (i === undefined) unknown.push(d);
    else if (folders[i] !== undefined) throw new UsageError(`folders ${folders[i]} and ${d} are the same class`, { file: dir, fix: opts.fix });
    else folders[i] = d;
  }
  const present = folders.filter((f) => f !== undefined).length;
  if (present === 0) throw new UsageError(`expected the ${classIds.length} ${opts.what} class folders (e.g. ${classIds[0]}/), found ${describeListing(l)}`, { file: dir, fix: opts.fix });
  if (unknown.length) throw new UsageError(`${unknown.length} folder(s) are not ${opts.what} classes: ${some(unknown)}`, { file: dir, fix: opts.fix });
  if (opts.all && present !== classIds.length) {
    const missing = classIds.filter((_, i) => folders[i] === undefined);
    throw new UsageError(`found ${present} of the ${classIds.length} ${opts.what} class folders; missing ${some(missing)}`, { file: dir, fix: opts.fix });
  }
  return folders;
}

/** Parses one JSON document, or a UsageError naming the file. */
export function parseJson(text: string, file: string, fix: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`not valid JSON: ${(err as Error).message}`, { file, fix });
  }
}

/** Joins path segments with `/` for sample keys, whatever the platform. */
export const posixKey = (...parts: string[]) => path.posix.join(...parts);

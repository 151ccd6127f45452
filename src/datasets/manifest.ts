/**
 * A dataset listed in a manifest file: `--root` is a `.csv` (header with `path` and `label` columns, fields
 * quoted as RFC 4180 allows) or a `.jsonl` file (`{"path": …, "label": …}` per line). Relative paths
 * resolve against the manifest's folder; samples keep the manifest's order, keyed by the path as written.
 *
 * Class ids:
 * - with `classnames.txt` beside the manifest (one class per line, label order): its lines; numeric labels
 *   index them, name labels must be one of them;
 * - else, name labels: the distinct labels sorted by code point (Python's `sorted`, as ImageFolder sorts folders);
 * - else, numeric labels: "0" … the largest label.
 * Labels are numeric when every one is a JSON integer (JSONL) or, in a CSV, every one is all digits.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { byCodePoint } from './imagefolder.js';
import type { DatasetAdapter, Sample } from './types.js';

export const MANIFEST_CLASSNAMES = 'classnames.txt';
const TEMPLATE_FILES = ['zeroshot_classification_templates.txt', 'templates.txt'];

export const MANIFEST_LAYOUT =
  'ROOT is the manifest file itself: a .csv whose header names "path" and "label" columns (RFC 4180 quoting), or a .jsonl with {"path": …, "label": …} per line; ' +
  `paths relative to the manifest's folder; labels are class names, or class indices with an optional ${MANIFEST_CLASSNAMES} beside the manifest`;

/** One row as written: its line number (1-based, where the record starts), path and label. */
export interface ManifestRow {
  line: number;
  path: string;
  label: string | number;
}

/** An error at `file:line`. */
export function rowError(file: string, line: number, message: string, fix: string): UsageError {
  return new UsageError(message, { file: `${file}:${line}`, fix });
}

/** RFC 4180 records with the line each starts on; CRLF or LF line ends, quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string, file: string): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  /** the current field has begun: a character or an opening quote was read */
  let started = false;
  let line = 1;
  let recordLine = 1;
  const endField = () => {
    fields.push(field);
    field = '';
    started = false;
  };
  const endRecord = () => {
    const blank = fields.length === 0 && !started;
    endField();
    if (!blank) records.push({ line: recordLine, fields }); // a blank line carries no record
    fields = [];
  };
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const c = text[i];
    const lineEnd = c === '\n' ? 1 : c === '\r' && text[i + 1] === '\n' ? 2 : 0;
    if (c === '"' && !started) {
      const openedOn = line;
      started = true;
      for (i++; ; ) {
        if (i >= text.length) throw rowError(file, openedOn, 'a quoted field is never closed', 'close the quote, and double any quote inside a field ("")');
        if (text[i] === '"' && text[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else {
          if (text[i] === '\n') line++;
          field += text[i++];
        }
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && !(next === '\r' && text[i + 1] === '\n')) {
        throw rowError(file, line, `text after the closing quote of a field (${JSON.stringify(text.slice(i, i + 10))})`, 'quote the whole field and double any quote inside it ("")');
      }
    } else if (c === ',') {
      endField();
      i++;
    } else if (lineEnd) {
      endRecord();
      i += lineEnd;
      recordLine = ++line;
    } else if (c === '"') {
      throw rowError(file, line, 'a quote inside an unquoted field', 'quote the whole field and double the quotes inside it ("")');
    } else {
      field += c;
      started = true;
      i++;
    }
  }
  if (started || fields.length) endRecord();
  return records;
}

/**
 * The rows of a CSV manifest with a header naming `path` and one other column (`label`, `caption`), by name.
 * @param unit what one row stands for, in the fix for an empty file ("image", "caption")
 * @param quoteHint how to quote a field with a comma, in the fix for a short row
 */
export function csvPathRows<C extends string>(text: string, file: string, column: C, unit: string, quoteHint: string): ({ line: number; path: string } & Record<C, string>)[] {
  const [header, ...records] = parseCsv(text, file);
  if (!header) throw new UsageError('the manifest is empty', { file, fix: `write a header line "path,${column}" and one row per ${unit}` });
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const pathCol = names.indexOf('path');
  const otherCol = names.indexOf(column);
  if (pathCol < 0 || otherCol < 0) {
    throw rowError(file, header.line, `the header (${header.fields.join(',')}) lacks a ${pathCol < 0 ? '"path"' : `"${column}"`} column`, `start the file with a header line such as "path,${column}"`);
  }
  return records.map(({ line, fields }) => {
    if (fields.length !== header.fields.length) {
      throw rowError(file, line, `${fields.length} fields where the header has ${header.fields.length}`, `quote ${quoteHint} and give every row every column`);
    }
    return { line, path: fields[pathCol], [column]: fields[otherCol] } as { line: number; path: string } & Record<C, string>;
  });
}

function csvRows(text: string, file: string): ManifestRow[] {
  return csvPathRows(text, file, 'label', 'image', 'fields that contain commas ("a, b")');
}

/** The JSON object on each non-blank line of a JSONL file, with its line number; `fix` shows a good line. */
export function jsonlObjects(text: string, file: string, fix: string): { line: number; obj: Record<string, unknown> }[] {
  const out: { line: number; obj: Record<string, unknown> }[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      throw rowError(file, i + 1, `not valid JSON: ${(err as Error).message}`, fix);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw rowError(file, i + 1, 'not a JSON object', fix);
    out.push({ line: i + 1, obj: obj as Record<string, unknown> });
  });
  return out;
}

function jsonlRows(text: string, file: string): ManifestRow[] {
  const fix = 'write one JSON object per line: {"path": "images/0001.jpg", "label": "dog"}';
  return jsonlObjects(text, file, fix).map(({ line, obj }) => {
    const { path: p, label } = obj;
    if (typeof p !== 'string') throw rowError(file, line, `"path" is ${p === undefined ? 'missing' : `not a string (${JSON.stringify(p)})`}`, fix);
    if (typeof label !== 'string' && !(typeof label === 'number' && Number.isInteger(label) && label >= 0)) {
      throw rowError(file, line, `"label" is ${label === undefined ? 'missing' : `neither a class name nor a class index (${JSON.stringify(label)})`}`, fix);
    }
    return { line, path: p, label };
  });
}

/** A manifest's text and lower-cased extension; anything but a .csv or .jsonl file is refused, `folderFix` saying what to do instead. */
export async function readManifestText(file: string, folderFix: string): Promise<{ ext: '.csv' | '.jsonl'; text: string }> {
  const ext = path.extname(file).toLowerCase();
  let s;
  try {
    s = await stat(file);
  } catch {
    throw new UsageError('manifest file does not exist', { file, fix: 'pass --root with a .csv or .jsonl manifest' });
  }
  if (!s.isFile() || (ext !== '.csv' && ext !== '.jsonl')) {
    throw new UsageError(`--root must be a manifest file (.csv or .jsonl), found ${s.isDirectory() ? 'a folder' : `a ${ext || 'extension-less'} file`}`, { file, fix: folderFix });
  }
  return { ext, text: await readFile(file, 'utf8') };
}

/** The rows of a manifest, each checked: a non-empty path listed once, a non-empty label of the same kind as the others. */
export async function readManifestRows(file: string): Promise<ManifestRow[]> {
  const { ext, text } = await readManifestText(file, 'pass the .csv or .jsonl file itself (for a folder of class folders use --dataset imagefolder)');
  const rows = ext === '.csv' ? csvRows(text, file) : jsonlRows(text, file);
  if (rows.length === 0) throw new UsageError('the manifest lists no images', { file, fix: 'add one row per image' });
  const numericCsv = ext === '.csv' && rows.every((r) => /^\d+$/.test(r.label as string));
  const seen = new Map<string, number>();
  for (const r of rows) {
    if (r.path === '') throw rowError(file, r.line, 'the path is empty', 'give every row the image path');
    if (r.label === '') throw rowError(file, r.line, 'the label is empty', 'give every row a class name or class index');
    if (numericCsv) r.label = Number(r.label);
    if (typeof r.label !== typeof rows[0].label) {
      throw rowError(file, r.line, `label ${JSON.stringify(r.label)} is a ${typeof r.label === 'number' ? 'class index' : 'class name'} but line ${rows[0].line} gives a ${typeof rows[0].label === 'number' ? 'class index' : 'class name'}`, 'use class names throughout or class indices throughout');
    }
    const first = seen.get(r.path);
    if (first !== undefined) throw rowError(file, r.line, `${r.path} is already listed on line ${first}`, 'list each image once');
    seen.set(r.path, r.line);
  }
  return rows;
}

async function classNamesBeside(file: string): Promise<string[] | undefined> {
  const names = path.join(path.dirname(file), MANIFEST_CLASSNAMES);
  if (!existsSync(names)) return undefined;
  const lines = (await readFile(names, 'utf8')).replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim());
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0) throw rowError(names, blank + 1, 'blank line inside the class list', 'one class name per line, in label order, no blank lines');
  return lines;
}

/** Class ids in label order and each row's label index (rules in the module comment). */
export async function resolveManifest(file: string): Promise<{ classIds: string[]; rows: ManifestRow[]; labels: number[] }> {
  const rows = await readManifestRows(file);
  const listed = await classNamesBeside(file);
  const namesFile = path.join(path.dirname(file), MANIFEST_CLASSNAMES);
  if (typeof rows[0].label === 'number') {
    const labels = rows.map((r) => r.label as number);
    if (!listed) return { classIds: Array.from({ length: Math.max(...labels) + 1 }, (_, i) => String(i)), rows, labels };
    const bad = rows.find((r) => (r.label as number) >= listed.length);
    if (bad) throw rowError(file, bad.line, `class index ${bad.label} is past the ${listed.length} classes of ${namesFile}`, `labels index ${MANIFEST_CLASSNAMES} from 0`);
    return { classIds: listed, rows, labels };
  }
  if (listed) {
    const dup = listed.find((n, i) => listed.indexOf(n) !== i);
    if (dup !== undefined) throw rowError(namesFile, listed.lastIndexOf(dup) + 1, `class "${dup}" is listed twice`, 'name each class once');
    const index = new Map(listed.map((n, i) => [n, i]));
    const bad = rows.find((r) => !index.has(r.label as string));
    if (bad) throw rowError(file, bad.line, `label "${bad.label}" is not one of the ${listed.length} classes of ${namesFile}`, `use a class named in ${MANIFEST_CLASSNAMES}, or remove that file to take the labels as they are`);
    return { classIds: listed, rows, labels: rows.map((r) => index.get(r.label as string)!) };
  }
  const classIds = [...new Set(rows.map((r) => r.label as string))].sort(byCodePoint);
  const index = new Map(classIds.map((n, i) => [n, i]));
  return { classIds, rows, labels: rows.map((r) => index.get(r.label as string)!) };
}

export const manifest = {
  id: 'manifest',
  description:
    'Images listed in a CSV (path,label) or JSONL manifest, in the manifest\'s order; class ids = classnames.txt beside it if present, else the distinct label names sorted by code point, else the class indices 0…max. ' +
    'Prompts: the folder\'s classnames.txt × zeroshot_classification_templates.txt where both exist, else "a photo of a {c}." with the class ids as names (refused for label numbers 0…max, which name nothing).',
  splits: ['all'],
  layout: MANIFEST_LAYOUT,
  classIds: async (root: string) => (await resolveManifest(root)).classIds,
  defaultPromptsNote: "classnames.txt × zeroshot_classification_templates.txt beside the manifest; else single",
  defaultPrompts: (_classIds: readonly string[], root: string) => {
    const dir = path.dirname(root);
    return existsSync(path.join(dir, MANIFEST_CLASSNAMES)) && TEMPLATE_FILES.some((f) => existsSync(path.join(dir, f))) ? dir : 'single';
  },
  async *samples(root: string) {
    const { rows, labels } = await resolveManifest(root);
    const dir = path.dirname(root);
    for (let i = 0; i < rows.length; i++) yield { key: rows[i].path, path: path.resolve(dir, rows[i].path), label: labels[i] } satisfies Sample;
  },
} as const satisfies DatasetAdapter;

/**
 * Which model folders a many-model command runs: a list on the command line (`--models A,B`), a models file
 * (`--models-from FILE`: one folder per line, `#` comments and blank lines ignored, relative paths read from
 * the file's folder, as CLIP_benchmark's `--pretrained_model models.txt`), or every model folder under one
 * folder (`--models-dir DIR`, e.g. Immich's model cache `DIR/clip/ViT-B-32__openai/{visual,textual}/`).
 * Parsing is pure; the folder walk and existence checks are the thin I/O edge.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { matchLayout } from './layout.js';

/** How far below `--models-dir` model folders are looked for: Immich's cache puts them at `clip/<name>/`. */
export const MODELS_DIR_DEPTH = 2;

/** A models file's folders with their line numbers, resolved against `baseDir` (the file's folder). */
export function parseModelsFile(text: string, baseDir: string): { line: number; dir: string }[] {
  return text.split(/\r?\n/).flatMap((raw, i) => {
    const entry = raw.replace(/#.*$/, '').trim();
    return entry ? [{ line: i + 1, dir: path.resolve(baseDir, entry) }] : [];
  });
}

/** `--models A,B,C`: the folders, trimmed, empty items dropped (a trailing comma). */
export function splitModelsList(list: string): string[] {
  return list.split(',').map((d) => d.trim()).filter((d) => d !== '');
}

const isDirectory = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Reads a models file; a missing file, an empty list or a line naming no folder is a one-line UsageError. */
export function readModelsFile(file: string): string[] {
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new UsageError('models file not found', { file, fix: 'pass --models-from with a text file listing one model folder per line' });
  }
  const entries = parseModelsFile(readFileSync(file, 'utf8'), path.dirname(path.resolve(file)));
  if (entries.length === 0) throw new UsageError('the models file lists no model folder', { file, fix: 'write one model folder per line (# starts a comment)' });
  const missing = entries.find((e) => !isDirectory(e.dir));
  if (missing) {
    throw new UsageError(`line ${missing.line}: model folder not found: ${missing.dir}`, { file, fix: "fix or remove that line (relative paths are read from the models file's folder)" });
  }
  return entries.map((e) => e.dir);
}

/**
 * Whether a folder is a model export: some layout recognises it. A layout that recognises it but refuses
 * it (a bad clip-bench.json) still makes it a model, which then fails with its reason instead of vanishing.
 */
export function isModelFolder(dir: string): boolean {
  try {
    return matchLayout(dir) !== undefined;
  } catch {
    return true;
  }
}

/**
 * Every model folder within `maxDepth` levels below `root` (or `root` itself when it is one), in path
 * order; a model folder is not descended into. Hidden folders are passed over; folders that are not
 * models are listed in `skipped`.
 */
export function findModelFolders(root: string, maxDepth = MODELS_DIR_DEPTH): { models: string[]; skipped: string[] } {
  const models: string[] = [];
  const skipped: string[] = [];
  const visit = (dir: string, depth: number) => {
    if (isModelFolder(dir)) {
      models.push(dir);
      return;
    }
    const children = depth < maxDepth ? subfolders(dir) : [];
    if (children.length === 0) skipped.push(dir);
    for (const c of children) visit(c, depth + 1);
  };
  visit(path.resolve(root), 0);
  return { models, skipped: skipped.filter((s) => s !== path.resolve(root)) };
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && isDirectory(path.join(dir, e.name)))))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** `--models-dir DIR`: its model folders, or a one-line UsageError where there is none. */
export function modelsDirFolders(root: string): { models: string[]; skipped: string[] } {
  if (!isDirectory(root)) throw new UsageError('models folder not found', { file: root, fix: 'pass --models-dir with the folder that holds the model folders' });
  const found = findModelFolders(root);
  if (found.models.length === 0) {
    const shown = found.skipped.slice(0, 3).map((d) => path.relative(path.resolve(root), d));
    const seen = shown.length ? `; not models: ${shown.join(', ')}${found.skipped.length > 3 ? `, … (${found.skipped.length})` : ''}` : '; it has no subfolders';
    throw new UsageError(`no model folder within ${MODELS_DIR_DEPTH} levels${seen}`, {
      file: root,
      fix: 'pass the folder that holds the model folders, e.g. an Immich model cache (DIR/clip/ViT-B-32__openai/visual/model.onnx)',
    });
  }
  return found;
}

/** The same folder listed twice, or two models that would share a column name: a UsageError naming both. */
export function checkDistinctModels(models: readonly { dir: string; name: string }[], file?: string): void {
  const seen = new Map<string, string>();
  for (const m of models) {
    const dir = path.resolve(m.dir);
    const other = seen.get(m.name);
    if (other === dir) throw new UsageError(`model folder listed twice: ${dir}`, { file, fix: 'list each model folder once' });
    if (other !== undefined) throw new UsageError(`two model folders are named ${m.name}: ${other} and ${dir}`, { file, fix: 'rename one of the folders so that each model has its own name' });
    seen.set(m.name, dir);
  }
}

/**
 * Prompt sets are data: `configs/prompts/<id>.json` or a user's JSON file with
 * `{ id, description?, include?, classes?: {classId: name | [synonyms]}, templates: ["… {c} …"] }`.
 * `include` names one other prompt set (same folder or a path) whose fields this one overrides.
 * Also accepted, as CLIP_benchmark writes them: `{ "classnames": [...], "templates": [...] }` and a
 * folder (or its `classnames.txt`) with `classnames.txt` (one class per line, label order) beside
 * `zeroshot_classification_templates.txt` or `templates.txt` (one template with `{c}` per line).
 * Such positional lists must have exactly the dataset's class count, and are mapped through CLIP_benchmark's label order
 * for the dataset (configs/datasets/clip-benchmark-order.json) or refused where that order is not known.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError, unknownName } from '../errors.js';
import { packageRoot } from '../paths.js';
import { isImagenetWnid } from '../datasets/wnids.js';

export const PROMPTS_DIR = path.join(packageRoot, 'configs', 'prompts');

export interface PromptSet {
  id: string;
  description?: string;
  /** dataset class id → display name, or synonyms sharing one classifier row; absent: the ids are the names */
  classes?: Record<string, string | string[]>;
  /** names in the dataset's label order (CLIP_benchmark files), instead of `classes` */
  classnames?: string[][];
  templates: string[];
  /** where it was loaded from */
  source: string;
  /** the prompt set whose class names a templates-only set took from the dataset (`withDatasetNames`) */
  namesFrom?: string;
  /** the language of the names and templates, where the set says (src/prompts/language.ts) */
  language?: string;
  /** the only dataset classes the set covers (Babel-ImageNet): a run scores those and leaves out the others' samples */
  classSubset?: string[];
  /** the file's key whose templates were taken because the dataset's own has none (CLIP_benchmark's imagenet1k fallback) */
  templatesFrom?: string;
}

/** Prompt set ids shipped in configs/prompts. */
export function listPromptSets(): string[] {
  return readdirSync(PROMPTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/**
 * A reference is a path only when it looks like one (`./x`, `/x`, `dir/x`, `x.json`, `x.txt`); anything else
 * names a built-in set, even if a file or folder of that name sits in the working directory.
 */
export function looksLikePath(ref: string): boolean {
  return ref.endsWith('.json') || ref.endsWith('.txt') || ref.includes('/') || ref.includes(path.sep);
}

const TEMPLATE_FILES = ['zeroshot_classification_templates.txt', 'templates.txt'];

function textLines(file: string): string[] {
  return readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

/** CLIP_benchmark's text files: `classnames.txt` and a templates file in one folder. */
function loadTextPromptSet(dirOrFile: string): PromptSet {
  const dir = statSync(dirOrFile).isDirectory() ? dirOrFile : path.dirname(dirOrFile);
  const namesFile = statSync(dirOrFile).isDirectory() ? path.join(dir, 'classnames.txt') : dirOrFile;
  if (!existsSync(namesFile)) throw new UsageError('no classnames.txt in this folder', { file: dir, fix: 'add classnames.txt (one class name per line, in label order)' });
  const templatesFile = TEMPLATE_FILES.map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (!templatesFile) throw new UsageError(`no ${TEMPLATE_FILES.join(' or ')} beside the class names`, { file: dir, fix: 'add a templates file with one template containing {c} per line' });
  return validated({ id: path.basename(dir), classnames: textLines(namesFile).map((n) => [n]), templates: textLines(templatesFile), source: namesFile }, templatesFile);
}

/** Checks what every prompt set must satisfy; `file` is named in errors. */
function validated(set: PromptSet, file: string): PromptSet {
  if (!Array.isArray(set.templates) || set.templates.length === 0) {
    throw new UsageError('the template list is empty or missing', { file, fix: 'add "templates": ["a photo of a {c}.", …]' });
  }
  set.templates.forEach((t, i) => {
    if (typeof t !== 'string' || !t.includes('{c}')) {
      throw new UsageError(`template ${i} (${JSON.stringify(t)}) has no {c} placeholder`, { file, fix: "write the class name's place as {c}" });
    }
  });
  if (set.classnames && set.classnames.length === 0) throw new UsageError('the class name list is empty', { file, fix: 'list one class name per class, in label order' });
  return set;
}

/** Loads a prompt set by id (`configs/prompts/<id>.json`) or by file path. */
export function loadPromptSet(ref: string, depth = 0): PromptSet {
  const isPath = looksLikePath(ref);
  const file = isPath ? path.resolve(ref) : path.join(PROMPTS_DIR, `${ref}.json`);
  if (!existsSync(file)) {
    if (isPath) throw new UsageError('prompt file not found', { file: ref, fix: `pass an existing JSON file or one of: ${listPromptSets().join(', ')}` });
    const local = existsSync(ref) ? `; a file or folder "${ref}" is here: pass it as ./${ref} to use it` : '';
    const err = unknownName('prompt set', ref, listPromptSets());
    throw new UsageError(err.message + local, { fix: err.fix });
  }
  if (statSync(file).isDirectory() || file.endsWith('.txt')) return loadTextPromptSet(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`not valid JSON: ${(err as Error).message}`, { file, fix: 'fix the JSON syntax of the prompt file' });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UsageError('a prompt set must be a JSON object', { file, fix: 'write {"templates": ["a photo of a {c}."], "classes": {...}}' });
  }
  const obj = raw as Record<string, unknown>;
  let base: Partial<PromptSet> = {};
  if (obj.include !== undefined) {
    if (typeof obj.include !== 'string') throw new UsageError('"include" must be a prompt set id or path', { file });
    if (depth > 0) throw new UsageError('"include" may be used once, not nested', { file, fix: 'inline the inner prompt set' });
    const inc = looksLikePath(obj.include) ? path.resolve(path.dirname(file), obj.include) : obj.include;
    base = loadPromptSet(inc, depth + 1);
  }
  const templates = obj.templates ?? base.templates;
  let classnames: string[][] | undefined;
  if (obj.classnames !== undefined) {
    const ok = Array.isArray(obj.classnames) && obj.classnames.every((n) => (typeof n === 'string' && n) || (Array.isArray(n) && n.length && n.every((x) => typeof x === 'string' && x)));
    if (!ok) throw new UsageError('"classnames" must be a list of names (or of synonym lists), in label order', { file });
    classnames = (obj.classnames as (string | string[])[]).map((n) => (typeof n === 'string' ? [n] : n));
  }
  const classes = (obj.classes ?? base.classes) as PromptSet['classes'];
  if (classes !== undefined) {
    if (typeof classes !== 'object' || classes === null || Array.isArray(classes)) {
      throw new UsageError('"classes" must map class ids to names', { file, fix: 'write "classes": {"n01440764": "tench", …}' });
    }
    for (const [id, v] of Object.entries(classes)) {
      const ok = typeof v === 'string' ? v.length > 0 : Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s.length > 0);
      if (!ok) throw new UsageError(`class ${JSON.stringify(id)} needs a name or a non-empty list of synonyms`, { file });
    }
  }
  return validated(
    {
      id: typeof obj.id === 'string' ? obj.id : path.basename(file, '.json'),
      description: typeof obj.description === 'string' ? obj.description : base.description,
      classes,
      classnames: classnames ?? base.classnames,
      templates: templates as string[],
      source: file,
    },
    file,
  );
}

export const ORDER_FILE = path.join(packageRoot, 'configs', 'datasets', 'clip-benchmark-order.json');

/** How a positional list maps onto a dataset's classes: its line i is class i ("label"), the class `order[i]`, or refused. */
export type PositionalRule = { order: 'label' | string[]; why: string } | { refuse: string };

let orderTable: Record<string, PositionalRule> | undefined;

/**
 * The rule for positional class-name lists on `datasetId`, from configs/datasets/clip-benchmark-order.json
 * (CLIP_benchmark's label order per dataset where it differs from ours, or a refusal); undefined for a name
 * that is no dataset adapter (the list is then read in label order).
 */
export function positionalRule(datasetId: string): PositionalRule | undefined {
  orderTable ??= (JSON.parse(readFileSync(ORDER_FILE, 'utf8')) as { datasets: Record<string, PositionalRule> }).datasets;
  return Object.hasOwn(orderTable, datasetId) ? orderTable[datasetId] : undefined;
}

/** Whether a prompt set brings templates only (single, classname, a user's templates file): its names must come from the dataset. */
export function hasNoNames(set: PromptSet): boolean {
  return set.classes === undefined && set.classnames === undefined;
}

/**
 * A templates-only prompt set with the dataset's curated class names: those of `names`, the dataset's own
 * prompt set (ImageNet's 1000 notebook names, CIFAR's, each benchmark's paper set), so that `single` on
 * ImageNet says "a photo of a tench." and not "a photo of a n01440764.". A set that names its classes, or a
 * dataset whose own set names none, is returned unchanged (`resolvePrompts` then decides whether the class
 * ids can serve as names).
 */
export function withDatasetNames(set: PromptSet, names: PromptSet | undefined, classIds: readonly string[]): PromptSet {
  if (!hasNoNames(set) || !names || hasNoNames(names)) return set;
  const all = names.classes;
  // Only the dataset's own classes (an ImageNet subset takes its part of the 1000 names); a gap stays a gap for resolvePrompts to name.
  const classes = all && classIds.every((id) => Object.hasOwn(all, id)) ? Object.fromEntries(classIds.map((id) => [id, all[id]])) : all;
  return { ...set, classes, classnames: names.classnames, namesFrom: names.id };
}

/**
 * The prompt set that holds a dataset's curated class names: its own default set when that names classes,
 * else ImageNet's for classes that are all ImageNet WordNet ids, else none (the class ids must then do).
 */
export function datasetNames(ownSet: string | undefined, classIds: readonly string[]): PromptSet | undefined {
  const own = ownSet === undefined ? undefined : loadPromptSet(ownSet);
  if (own && !hasNoNames(own)) return own;
  return classIds.length && classIds.every(isImagenetWnid) ? loadPromptSet('imagenet') : own;
}

/** Why class ids cannot be a classifier's names (label numbers, WordNet ids), or undefined when they can. */
function idsNotNames(classIds: readonly string[]): string | undefined {
  if (classIds.length && classIds.every((id) => /^\d+$/.test(id))) return 'label numbers';
  if (classIds.length && classIds.every((id) => /^n\d{8}$/.test(id))) return 'WordNet ids';
  return undefined;
}

/** The prompts for one dataset, in the dataset's class order, ready to tokenize. */
export interface ResolvedPrompts {
  promptSet: string;
  /** per dataset class: its names (synonyms) */
  classNames: string[][];
  templates: string[];
  /** every prompt text, class-major: class 0's (names × templates), then class 1's, … */
  texts: string[];
  /** class index of each text */
  textClass: Int32Array;
  /** sha256 over the resolved names and templates: the identity of the classifier's inputs */
  hash: string;
  /** where the class names came from when the prompt set has templates only: a prompt set id, or "class ids" */
  namesFrom?: string;
  /** the file's key whose templates were taken for want of the dataset's own (CLIP_benchmark's imagenet1k fallback) */
  templatesFrom?: string;
}

/**
 * Matches a prompt set to a dataset's classes by id, never by position.
 * @param classIds the dataset's class ids in label order (e.g. folder names or WordNet ids)
 */
export function resolvePrompts(set: PromptSet, classIds: readonly string[], datasetName: string, opts: { subset?: boolean } = {}): ResolvedPrompts {
  let classNames: string[][];
  if (set.classnames) {
    // Positional (CLIP_benchmark): only where the counts agree exactly and CLIP_benchmark's label order is known.
    const idKeyed = 'key names by class id in a JSON "classes" object ({"<class id>": "<name>", …})';
    const rule = positionalRule(datasetName);
    if (rule && 'refuse' in rule) {
      throw new UsageError(`prompt set "${set.id}" lists class names by position, which dataset ${datasetName} cannot take: ${rule.refuse}`, { file: set.source, fix: idKeyed });
    }
    if (set.classnames.length !== classIds.length || opts.subset) {
      throw new UsageError(`prompt set "${set.id}" lists ${set.classnames.length} class names by position but dataset ${datasetName} has ${classIds.length} classes`, {
        file: set.source,
        fix: `give one name per dataset class in CLIP_benchmark's label order, or ${idKeyed}`,
      });
    }
    const order = rule && Array.isArray(rule.order) ? rule.order : classIds;
    const position = new Map(order.map((id, i) => [id, i]));
    if (position.size !== classIds.length || !classIds.every((id) => position.has(id))) {
      throw new Error(`${ORDER_FILE}: the order of ${datasetName} is not a permutation of its ${classIds.length} class ids`); // shipped data, checked by tests
    }
    const names = set.classnames;
    classNames = classIds.map((id) => [...names[position.get(id)!]]);
  } else if (!set.classes) {
    // Only names a person would write ("cat", a folder "golden retriever") may stand in for the dataset's names.
    const not = idsNotNames(classIds);
    if (not) {
      throw new UsageError(`dataset ${datasetName} has no known class names: its class ids are ${not} (${classIds.slice(0, 3).join(', ')}, …) and prompt set "${set.id}" has templates only`, {
        file: set.source,
        fix: 'pass a prompt set that names the classes (JSON "classes": {"<class id>": "<name>"}), or name the class folders by class',
      });
    }
    classNames = classIds.map((id) => [id]);
  } else {
    const classes = set.classes;
    const missing = classIds.filter((id) => !Object.hasOwn(classes, id));
    const wanted = new Set(classIds);
    // A subset dataset (ImageNet-R/A, an ImageNet ImageFolder of some classes) uses part of a larger set.
    const extra = opts.subset ? [] : Object.keys(classes).filter((id) => !wanted.has(id));
    if (missing.length || extra.length) {
      const show = (xs: string[]) => xs.slice(0, 5).map((x) => JSON.stringify(x)).join(', ') + (xs.length > 5 ? ` and ${xs.length - 5} more` : '');
      throw new UsageError(
        (opts.subset
          ? `prompt set "${set.id}" lacks ${missing.length} of the ${classIds.length} classes of dataset ${datasetName}`
          : `prompt set "${set.id}" has ${Object.keys(classes).length} classes but dataset ${datasetName} has ${classIds.length}`) +
          (missing.length ? `; missing from the prompts: ${show(missing)}` : '') +
          (extra.length ? `; not in the dataset: ${show(extra)}` : ''),
        { file: set.source, fix: 'use the prompt set made for this dataset, or give every dataset class id a name' },
      );
    }
    classNames = classIds.map((id) => {
      const v = classes[id];
      return typeof v === 'string' ? [v] : [...v];
    });
  }
  const texts: string[] = [];
  const textClass: number[] = [];
  classNames.forEach((names, c) => {
    for (const name of names) {
      for (const t of set.templates) {
        texts.push(t.replaceAll('{c}', name));
        textClass.push(c);
      }
    }
  });
  const hash = createHash('sha256').update(JSON.stringify({ classNames, templates: set.templates })).digest('hex');
  const namesFrom = set.namesFrom ?? (hasNoNames(set) ? 'class ids' : undefined);
  return {
    promptSet: set.id,
    classNames,
    templates: set.templates,
    texts,
    textClass: Int32Array.from(textClass),
    hash,
    ...(namesFrom ? { namesFrom } : {}),
    ...(set.templatesFrom ? { templatesFrom: set.templatesFrom } : {}),
  };
}

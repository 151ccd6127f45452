/**
 * Prompts in another language, from the files users download (we cannot ship them):
 * - CLIP_benchmark's `<lang>_classnames.json` ({dataset key: [class names in CLIP_benchmark's label order]}) and
 *   `<lang>_zeroshot_classification_templates.json` ({dataset key: ["… {c} …"]}), as in clip_benchmark/datasets/
 *   (en, cn, jp, it, ar; the last four for imagenet1k only), read as CLIP_benchmark's build_dataset reads them;
 * - Babel-ImageNet's `babel_imagenet.json` ({"FR": [[ImageNet label indices], [names]]}) with the NLLB-translated
 *   templates of `nllb_dist13b_prompts.json` ({"FR": ["… {} …"]}) beside it, as CLIP_benchmark's babel_imagenet
 *   dataset reads them: the language's ImageNet classes only.
 * `--prompts DIR` (or one of its `<lang>_classnames.json`) names the CLIP_benchmark folder, `--prompts babel-imagenet`
 * the Babel-ImageNet files in the languages folder (`languagesDir`), `--prompts PATH/babel_imagenet.json` them anywhere;
 * `--language L` alone reads CLIP_benchmark's files from the languages folder.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { imagenetWnids, isImagenetWnid } from '../datasets/wnids.js';
import { looksLikePath, type PromptSet } from './prompt-set.js';

/**
 * CLIP_benchmark's file prefixes that are not the language's ISO 639-1 code: Chinese is `cn_…`, Japanese `jp_…`
 * (clip_benchmark/datasets/cn_classnames.json, jp_classnames.json). A run stores the ISO code.
 */
export const CLIP_BENCHMARK_PREFIXES = { zh: 'cn', ja: 'jp' } as const;

/** The name that stands for Babel-ImageNet's files in `--prompts`. */
export const BABEL_IMAGENET = 'babel-imagenet';
export const BABEL_FILE = 'babel_imagenet.json';
export const BABEL_TEMPLATES_FILE = 'nllb_dist13b_prompts.json';

/** Where `--prompts babel-imagenet` and a bare `--language` look for the downloaded files: $CLIP_BENCH_LANGUAGES, else configs/languages. */
export function languagesDir(): string {
  return process.env.CLIP_BENCH_LANGUAGES ?? path.join(packageRoot, 'configs', 'languages');
}

/**
 * The language code a run stores: a 2–3 letter code lower-cased, CLIP_benchmark's cn and jp as zh and ja; a
 * FLORES-200 code (fra_Latn, for NLLB) kept as written.
 * @example normaliseLanguage('FR') // → 'fr'; normaliseLanguage('cn') // → 'zh'
 */
export function normaliseLanguage(code: string): string {
  const c = code.trim();
  if (/^[a-z]{3}_[A-Z][a-z]{3}$/.test(c)) return c;
  if (!/^[A-Za-z]{2,3}$/.test(c)) throw new UsageError(`--language takes a language code such as fr, zh or ar (or a FLORES-200 code such as fra_Latn), got ${JSON.stringify(code)}`);
  const lower = c.toLowerCase();
  const iso = Object.entries(CLIP_BENCHMARK_PREFIXES).find(([, prefix]) => prefix === lower)?.[0];
  return iso ?? lower;
}

/** The prefixes CLIP_benchmark's files of a language may have: the code itself, then CLIP_benchmark's own spelling. */
function filePrefixes(language: string): string[] {
  const own = (CLIP_BENCHMARK_PREFIXES as Record<string, string>)[language];
  return own ? [language, own] : [language];
}

function readJsonObject(file: string, fix: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`not valid JSON: ${(err as Error).message}`, { file, fix });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError('expected a JSON object keyed by dataset (or language)', { file, fix });
  return raw as Record<string, unknown>;
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s.length > 0);

interface NamesEntry {
  classnames: string;
  templates: string[];
}

export const CLIP_BENCHMARK_NAMES_FILE = path.join(packageRoot, 'configs', 'datasets', 'clip-benchmark-names.json');
let namesTable: Record<string, NamesEntry> | undefined;

/**
 * The keys of CLIP_benchmark's language files that `datasetId` takes (configs/datasets/clip-benchmark-names.json);
 * a generic adapter of ImageNet WordNet-id classes takes imagenet1k, any other dataset its own id.
 */
export function clipBenchmarkKeys(datasetId: string, classIds: readonly string[]): NamesEntry {
  namesTable ??= (JSON.parse(readFileSync(CLIP_BENCHMARK_NAMES_FILE, 'utf8')) as { datasets: Record<string, NamesEntry> }).datasets;
  if (Object.hasOwn(namesTable, datasetId)) return namesTable[datasetId];
  if (classIds.length && classIds.every(isImagenetWnid)) return { classnames: 'imagenet1k', templates: ['imagenet1k'] };
  return { classnames: datasetId, templates: [datasetId] };
}

const CLIP_BENCHMARK_FIX = (language: string) =>
  `put CLIP_benchmark's ${language}_classnames.json and ${language}_zeroshot_classification_templates.json there (clip_benchmark/datasets/ has them for en, cn, jp, it and ar), or pass --prompts FILE with a prompt set written in that language`;

/**
 * The prompt set CLIP_benchmark would use for `datasetId` in `language`, from the files in `dir`: the class names
 * under the dataset's key (imagenet1k's 1000 names keyed by WordNet id, so ImageNet subsets take their part;
 * other lists stay positional, for `resolvePrompts` to map through CLIP_benchmark's label order), the templates
 * under its key or, as CLIP_benchmark falls back, imagenet1k's (`templatesFrom` says so).
 */
export function clipBenchmarkPromptSet(dir: string, language: string, datasetId: string, classIds: readonly string[]): PromptSet {
  const prefixes = filePrefixes(language);
  const prefix = prefixes.find((p) => existsSync(path.join(dir, `${p}_classnames.json`)));
  if (!prefix) {
    throw new UsageError(`no class names in language ${language}: ${prefixes.map((p) => `${p}_classnames.json`).join(' or ')} is not in this folder`, { file: dir, fix: CLIP_BENCHMARK_FIX(prefixes.at(-1)!) });
  }
  const namesFile = path.join(dir, `${prefix}_classnames.json`);
  const templatesFile = path.join(dir, `${prefix}_zeroshot_classification_templates.json`);
  if (!existsSync(templatesFile)) throw new UsageError(`no templates in language ${language} beside ${path.basename(namesFile)}`, { file: templatesFile, fix: CLIP_BENCHMARK_FIX(prefix) });
  const keys = clipBenchmarkKeys(datasetId, classIds);
  const allNames = readJsonObject(namesFile, `write {"${keys.classnames}": ["<class name>", …]}`);
  if (!Object.hasOwn(allNames, keys.classnames)) {
    throw new UsageError(`no ${language} class names for dataset ${datasetId}: the file has no "${keys.classnames}" entry (it has ${Object.keys(allNames).map((k) => JSON.stringify(k)).join(', ') || 'none'})`, {
      file: namesFile,
      fix: `add "${keys.classnames}": [the class names in CLIP_benchmark's label order], or pass --prompts FILE with a prompt set for this dataset in that language`,
    });
  }
  const names = allNames[keys.classnames];
  if (!isStringList(names)) throw new UsageError(`"${keys.classnames}" must be a list of class names`, { file: namesFile, fix: 'write the names as a JSON list of strings, in label order' });
  const allTemplates = readJsonObject(templatesFile, `write {"${keys.templates[0]}": ["… {c} …"]}`);
  const tried = [...new Set([...keys.templates, 'imagenet1k'])];
  const key = tried.find((k) => Object.hasOwn(allTemplates, k));
  if (key === undefined) {
    throw new UsageError(`no ${language} templates for dataset ${datasetId}: the file has none of ${tried.map((k) => JSON.stringify(k)).join(', ')}`, {
      file: templatesFile,
      fix: `add "${keys.templates[0]}": ["… {c} …"] (templates in that language)`,
    });
  }
  const templates = allTemplates[key];
  if (!isStringList(templates)) {
    throw new UsageError(`"${key}" must be a list of templates with {c}; class-specific prompts (CuPL's {"<class>": [...]}) are not supported`, { file: templatesFile, fix: 'give a list of templates such as ["a photo of a {c}."]' });
  }
  templates.forEach((t, i) => {
    if (!t.includes('{c}')) throw new UsageError(`template ${i} of "${key}" (${JSON.stringify(t)}) has no {c} placeholder`, { file: templatesFile, fix: "write the class name's place as {c}" });
  });
  const set: PromptSet = { id: `clip_benchmark-${prefix}`, description: `CLIP_benchmark ${prefix}_classnames.json "${keys.classnames}"`, templates, source: namesFile, language };
  if (!keys.templates.includes(key)) set.templatesFrom = key;
  if (keys.classnames === 'imagenet1k') {
    const wnids = imagenetWnids();
    if (names.length !== wnids.length) {
      throw new UsageError(`"imagenet1k" lists ${names.length} class names, ImageNet has ${wnids.length}`, { file: namesFile, fix: 'list the 1000 ImageNet class names in label (sorted WordNet id) order' });
    }
    set.classes = Object.fromEntries(wnids.map((w, i) => [w, names[i]]));
  } else set.classnames = names.map((n) => [n]);
  return set;
}

/**
 * Babel-ImageNet in `language` from `file` (babel_imagenet.json) and the nllb_dist13b_prompts.json beside it: the
 * ImageNet classes the language has names for, keyed by WordNet id, as `classSubset`; the templates with
 * Python's `{}` written `{c}` (CLIP_benchmark's `t.replace('{}', '{c}')`).
 */
export function babelImagenetPromptSet(file: string, language: string): PromptSet {
  const where = (f: string) =>
    `download ${path.basename(f)} (github.com/gregor-ge/Babel-ImageNet data/, or CLIP_benchmark's clip_benchmark/datasets/) into ${path.dirname(f)}${file.startsWith(languagesDir()) ? ' (or set CLIP_BENCH_LANGUAGES to its folder)' : ''}, or pass --prompts PATH/${BABEL_FILE}`;
  if (!existsSync(file)) throw new UsageError(`Babel-ImageNet's class names (${BABEL_FILE}) are not here`, { file, fix: where(file) });
  const templatesFile = path.join(path.dirname(file), BABEL_TEMPLATES_FILE);
  if (!existsSync(templatesFile)) throw new UsageError(`Babel-ImageNet's templates (${BABEL_TEMPLATES_FILE}) are not beside ${BABEL_FILE}`, { file: templatesFile, fix: where(templatesFile) });
  const key = language.toUpperCase();
  const all = readJsonObject(file, 'use the babel_imagenet.json of Babel-ImageNet: {"FR": [[label indices], [names]], …}');
  if (!Object.hasOwn(all, key)) {
    throw new UsageError(`Babel-ImageNet has no language "${key}"`, { file, fix: `pass --language with one of its ${Object.keys(all).length} languages: ${Object.keys(all).sort().join(', ').toLowerCase()}` });
  }
  const entry = all[key];
  const wnids = imagenetWnids();
  const ok =
    Array.isArray(entry) &&
    entry.length === 2 &&
    Array.isArray(entry[0]) &&
    isStringList(entry[1]) &&
    entry[0].length === entry[1].length &&
    entry[0].every((x: unknown, i: number) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < wnids.length && (i === 0 || (x as number) > (entry[0][i - 1] as number)));
  if (!ok) throw new UsageError(`"${key}" must be [[ascending ImageNet label indices 0–999], [one name per index]]`, { file, fix: "use Babel-ImageNet's own babel_imagenet.json" });
  const [idxs, names] = entry as [number[], string[]];
  const templates = readJsonObject(templatesFile, 'use the nllb_dist13b_prompts.json of Babel-ImageNet: {"FR": ["… {} …"], …}')[key];
  if (templates === undefined) {
    throw new UsageError(`Babel-ImageNet has no templates in language "${key}"`, { file: templatesFile, fix: `use a language both files have; ${BABEL_TEMPLATES_FILE} has no ${key}` });
  }
  if (!isStringList(templates) || !templates.every((t) => t.includes('{}'))) throw new UsageError(`"${key}" must be a list of templates with {}`, { file: templatesFile, fix: "use Babel-ImageNet's own nllb_dist13b_prompts.json" });
  const subset = idxs.map((i) => wnids[i]);
  return {
    id: BABEL_IMAGENET,
    description: `Babel-ImageNet ${key}: ${idxs.length} ImageNet classes with NLLB-translated templates`,
    classes: Object.fromEntries(subset.map((w, i) => [w, names[i]])),
    templates: templates.map((t) => t.replaceAll('{}', '{c}')),
    source: file,
    language,
    classSubset: subset,
  };
}

const CLASSNAMES_FILE = /^(.+)_classnames\.json$/;

/**
 * The prompt set `--prompts ref --language language` calls for when it is one of the language formats above;
 * undefined where `ref` is a prompt set of ours (configs/prompts or a file), to be loaded as usual. A built-in set
 * (English) with another language, or a language format without a language, is refused.
 * @param language normalised (`normaliseLanguage`)
 */
export function languagePromptSet(ref: string | undefined, language: string | undefined, datasetId: string, classIds: readonly string[]): PromptSet | undefined {
  const needLanguage = (what: string, file?: string) =>
    new UsageError(`${what} holds prompts in many languages and no --language was given`, { file, fix: 'add --language with the code of the language to evaluate, e.g. --language fr' });
  if (ref === BABEL_IMAGENET || (ref !== undefined && looksLikePath(ref) && path.basename(ref).startsWith('babel_imagenet') && ref.endsWith('.json'))) {
    const file = ref === BABEL_IMAGENET ? path.join(languagesDir(), BABEL_FILE) : path.resolve(ref);
    if (!language) throw needLanguage('Babel-ImageNet', file);
    return babelImagenetPromptSet(file, language);
  }
  if (ref === undefined) return language && language !== 'en' ? clipBenchmarkPromptSet(languagesDir(), language, datasetId, classIds) : undefined;
  if (!looksLikePath(ref)) {
    if (language && language !== 'en') {
      throw new UsageError(`prompt set "${ref}" (configs/prompts) is in English, not in language ${language}`, {
        fix: `leave out --prompts to read CLIP_benchmark's ${language} files from ${languagesDir()}, or pass --prompts DIR (CLIP_benchmark's files) or --prompts FILE (a prompt set in ${language})`,
      });
    }
    return undefined;
  }
  const abs = path.resolve(ref);
  const m = CLASSNAMES_FILE.exec(path.basename(abs));
  if (m && existsSync(abs)) {
    const fileLanguage = normaliseLanguage(m[1]);
    if (language && language !== fileLanguage) {
      throw new UsageError(`${path.basename(abs)} holds class names in language ${fileLanguage}, and --language is ${language}`, { file: abs, fix: `pass --language ${fileLanguage}, or the ${language} file` });
    }
    return clipBenchmarkPromptSet(path.dirname(abs), fileLanguage, datasetId, classIds);
  }
  // A folder without CLIP_benchmark's classnames.txt holds the per-language JSON files.
  if (existsSync(abs) && statSync(abs).isDirectory() && !existsSync(path.join(abs, 'classnames.txt'))) {
    if (language) return clipBenchmarkPromptSet(abs, language, datasetId, classIds);
    if (readdirSync(abs).some((f) => CLASSNAMES_FILE.test(f))) throw needLanguage('this folder', abs);
  }
  return undefined;
}

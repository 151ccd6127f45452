/**
 * Choosing a multilingual dataset's caption language: the languages a root holds are read from its files, and
 * a missing or unknown `--language` is one line naming them (no default: a run's language is always chosen).
 */
import { UsageError } from '../../errors.js';
import { CLIP_BENCHMARK_PREFIXES } from '../../prompts/language.js';

/** `language` and its CLIP_benchmark spelling (a run stores ja and zh; XTD10's files say jp, CLIP_benchmark's cn). */
function spellings(language: string): string[] {
  const own = (CLIP_BENCHMARK_PREFIXES as Record<string, string>)[language];
  return own ? [language, own] : [language];
}

/** `language` as `found` spells it, if there; else the one line listing what was found in `file`. */
export function chooseLanguage(dataset: string, language: string | undefined, found: readonly string[], file: string): string {
  const spelled = language === undefined ? undefined : spellings(language).find((l) => found.includes(l));
  if (spelled !== undefined) return spelled;
  const list = found.length ? found.join(', ') : 'none';
  if (language === undefined) {
    throw new UsageError(`${dataset} has captions in several languages and no --language was given; languages found: ${list}`, { file, fix: 'pass --language with one of the languages found' });
  }
  throw new UsageError(`no ${dataset} captions in language "${language}"; languages found: ${list}`, { file, fix: 'pass --language with one of the languages found, or add that language\'s caption file' });
}

/** A manifest file as a multilingual dataset's root holds captions in one language, which only the user can name. */
export function manifestLanguage(dataset: string, language: string | undefined, file: string): string {
  if (language !== undefined) return language;
  throw new UsageError(`${dataset} is multilingual and a manifest does not say its captions' language`, { file, fix: 'pass --language with the language of the manifest\'s captions' });
}

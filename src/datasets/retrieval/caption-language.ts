/**
 * Choosing a multilingual dataset's caption language: the languages a root holds are read from its files, and
 * a missing or unknown `--language` is one line naming them (no default: a run's language is always chosen).
 */
import { UsageError } from '../../errors.js';

/** `language` if `found` holds it; else the one line listing what was found in `file`. */
export function chooseLanguage(dataset: string, language: string | undefined, found: readonly string[], file: string): string {
  if (language !== undefined && found.includes(language)) return language;
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

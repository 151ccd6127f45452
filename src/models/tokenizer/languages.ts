/**
 * A run's `--language` as the FLORES-200 code NLLB tokenizers put before the text: a FLORES-200 code
 * (`fra_Latn`) is taken as it is; an ISO 639-1 (`fr`) or 639-3 (`fra`) code is mapped by
 * configs/languages/flores200.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { packageRoot } from '../../paths.js';

export const FLORES200_FILE = path.join(packageRoot, 'configs', 'languages', 'flores200.json');

interface LanguageEntry {
  iso639_1?: string;
  iso639_3: string;
  flores200: string;
  name: string;
  aliases?: string[];
  note?: string;
}

/** `xxx_Xxxx`: a FLORES-200 code (ISO 639-3 language, ISO 15924 script). */
const FLORES_CODE = /^[a-z]{3}_[A-Z][a-z]{3}$/;

let table: Map<string, LanguageEntry> | undefined;
/** code (lower-cased) → entry, over ISO 639-1, ISO 639-3, aliases and the FLORES code's language part. */
function languageTable(): Map<string, LanguageEntry> {
  if (table) return table;
  const entries = (JSON.parse(readFileSync(FLORES200_FILE, 'utf8')) as { languages: LanguageEntry[] }).languages;
  table = new Map();
  for (const e of entries) {
    for (const key of [e.iso639_1, e.iso639_3, e.flores200.slice(0, 3), ...(e.aliases ?? [])]) {
      if (key !== undefined && !table.has(key)) table.set(key, e);
    }
  }
  return table;
}

/** The FLORES-200 code for a run's `--language`, or a UsageError listing the codes it knows. */
export function floresCode(language: string): string {
  if (FLORES_CODE.test(language)) return language;
  const found = languageTable().get(language.toLowerCase());
  if (found) return found.flores200;
  const known = [...new Set([...languageTable().values()].map((e) => e.iso639_1 ?? e.iso639_3))].sort();
  throw new UsageError(`unknown language ${JSON.stringify(language)}: not a FLORES-200 code (e.g. fra_Latn) nor an ISO 639 code of ${path.basename(FLORES200_FILE)}`, {
    file: FLORES200_FILE,
    fix: `pass --language with a FLORES-200 code or one of: ${known.join(', ')}`,
  });
}

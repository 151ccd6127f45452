/**
 * The reference data from the canonical Python pipeline (tokenizer ids, preprocessed tensors, prompt
 * hashes, the paper's table): the folder named by CLIP_BENCH_REFERENCE, by default `../shared/reference`
 * beside the checkout. It is never copied into the repository, so every test that reads it asks here and
 * skips with the same one line, naming itself, where it is absent.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { referenceDir } from '../../src/paths.js';

export interface ReferenceFile {
  /** absolute path of the file or folder */
  path: string;
  present: boolean;
  /** for `describe.skipIf(!x.present)` / `it.skipIf(...)` names: empty when present */
  skipNote: string;
}

/** The one wording of a reference skip. */
export function referenceSkipMessage(what: string, file: string): string {
  return `SKIPPED ${what}: reference data ${file} not found (set CLIP_BENCH_REFERENCE to the reference folder; default ../shared/reference)`;
}

/**
 * A file or folder of the reference data, relative to its root; prints the skip line once if absent.
 * @example const bpe = reference('clip-bpe/tokens-public.jsonl.gz', 'tokenizer parity with clip.tokenize'); describe.skipIf(!bpe.present)(...)
 */
export function reference(rel: string, what: string, root: string = referenceDir): ReferenceFile {
  const file = path.join(root, rel);
  const present = existsSync(file);
  const message = referenceSkipMessage(what, file);
  if (!present) console.warn(message);
  return { path: file, present, skipNote: present ? '' : message };
}

/** A path inside the reference folder (for files next to one already checked with `reference`). */
export function referencePath(...parts: string[]): string {
  return path.join(referenceDir, ...parts);
}

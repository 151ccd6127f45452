/** `@huggingface/tokenizers` is loaded at first use of a non-CLIP tokenizer, never at import (house rule 11). */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { writeDemo } from '../src/fixtures/demo.js';
import { loadFedTokenizer } from '../src/models/tokenizer/index.js';
import { reference, referencePath } from './support/reference.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-lazy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes(`${path.sep}@huggingface${path.sep}tokenizers${path.sep}`));
const spm = reference('spm/xlmr-style/tokenizer.json', 'lazy loading of @huggingface/tokenizers on a non-CLIP tokenizer');

it.skipIf(!spm.present)('is not loaded by importing the tokenizer or using a CLIP one, only by a non-CLIP tokenizer.json', async () => {
  expect(loaded()).toBe(false);
  const demo = await writeDemo(path.join(tmp, 'demo'), 1);
  loadFedTokenizer(demo.model).row('a photo');
  expect(loaded()).toBe(false);
  loadFedTokenizer(referencePath('spm', 'xlmr-style')).row('a photo');
  expect(loaded()).toBe(true);
});

/**
 * Rendered SST2 (OpenAI, data/rendered-sst2.md of github.com/openai/CLIP): the sentences of the Stanford
 * Sentiment Treebank v2 binary task rendered as images; class folders negative (0) and positive (1).
 */
import { splitFoldersAdapter } from './split-folders.js';

export const renderedSst2 = splitFoldersAdapter({
  id: 'sst2',
  top: 'rendered-sst2',
  description: 'Rendered SST2 test split: 1,821 images of movie-review sentences rendered as text; classes negative, positive.',
  counts: { test: 1_821, valid: 872, train: 6_920 },
  classIds: () => ['negative', 'positive'],
  classPattern: '{negative,positive}',
  ext: 'png',
  archive: 'rendered-sst2.tgz',
  prompts: 'sst2',
});

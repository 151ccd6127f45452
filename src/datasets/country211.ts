/**
 * Country211 (OpenAI, data/country211.md of github.com/openai/CLIP): YFCC100M photos geolocated to 211
 * countries, 150 train / 50 valid / 100 test per country, class folders named by ISO 3166-1 alpha-2 code.
 */
import { promptClassIds } from './benchmark-fs.js';
import { splitFoldersAdapter } from './split-folders.js';

export const country211 = splitFoldersAdapter({
  id: 'country211',
  top: 'country211',
  description: 'Country211 test split: 21,100 geolocated YFCC100M photos, 100 per country for 211 countries; class = ISO 3166-1 alpha-2 folder (sorted).',
  counts: { test: 21_100, valid: 10_550, train: 31_650 },
  classIds: () => promptClassIds('country211'),
  classPattern: '<ISO code, e.g. AD>',
  ext: 'jpg',
  archive: 'country211.tgz',
  prompts: 'country211',
});

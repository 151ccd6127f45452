import type { RunIdentity } from '../../src/store/runs.js';

/** A complete run identity for store tests; `over` replaces any field. */
export const runIdentity = (over: Partial<RunIdentity> = {}): RunIdentity => ({
  modelName: 'toy',
  modelDir: '/m',
  modelFingerprint: 'f'.repeat(64),
  modelLayout: 'immich',
  modelVariant: 'fp32',
  executionProvider: 'cpu',
  dataset: 'imagefolder',
  datasetRoot: '/d',
  split: 'all',
  nClasses: 3,
  promptSet: 'single',
  promptHash: 'h',
  params: { batchSize: 2 },
  environment: { node: process.version },
  identity: 'i',
  shard: null,
  ...over,
});

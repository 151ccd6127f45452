/** Every dataset adapter, in one explicit map. Adding a dataset means adding a line here. */
import { unknownName } from '../errors.js';
import { imagefolder } from './imagefolder.js';
import type { DatasetAdapter } from './types.js';

export const DATASETS = {
  imagefolder,
} as const satisfies Record<string, DatasetAdapter>;

export type DatasetId = keyof typeof DATASETS;

export function getDataset(id: string): DatasetAdapter {
  if (!Object.hasOwn(DATASETS, id)) throw unknownName('dataset', id, Object.keys(DATASETS));
  return DATASETS[id as DatasetId];
}

export type { DatasetAdapter, Sample } from './types.js';

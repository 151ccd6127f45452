/** Every retrieval dataset, in one explicit map. Adding one means adding a line here. */
import { unknownName } from '../../errors.js';
import { crossmodal3600 } from './crossmodal3600.js';
import { flickr30k, flickr8k } from './flickr.js';
import { mscoco } from './mscoco.js';
import type { RetrievalAdapter } from './types.js';
import { multilingualMscoco, xtd10 } from './xtd10.js';

export const RETRIEVAL_DATASETS = {
  flickr30k,
  flickr8k,
  mscoco,
  crossmodal3600,
  xtd10,
  multilingual_mscoco: multilingualMscoco,
} as const satisfies Record<string, RetrievalAdapter>;

export type RetrievalDatasetId = keyof typeof RETRIEVAL_DATASETS;

/** Whether `id` names a retrieval dataset (the one place that decides which task `eval --dataset` runs). */
export function isRetrievalDataset(id: string): id is RetrievalDatasetId {
  return Object.hasOwn(RETRIEVAL_DATASETS, id);
}

export function getRetrievalDataset(id: string): RetrievalAdapter {
  if (!Object.hasOwn(RETRIEVAL_DATASETS, id)) throw unknownName('retrieval dataset', id, Object.keys(RETRIEVAL_DATASETS));
  return RETRIEVAL_DATASETS[id as RetrievalDatasetId];
}

export type { RetrievalAdapter, RetrievalCaption, RetrievalData, RetrievalImage } from './types.js';

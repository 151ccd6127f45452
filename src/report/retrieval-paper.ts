/**
 * The paper's zero-shot retrieval numbers (configs/paper/retrieval.json, Table 13), to put beside ours, as
 * paper.ts does for Table 11. Cells are keyed by CLIP_benchmark's metric names (retrieval-metrics.ts), so a
 * retrieval run's metrics record and the paper's cells meet without a mapping table.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RETRIEVAL_DATASETS, type RetrievalDatasetId } from '../datasets/retrieval/index.js';
import { UsageError, unknownName } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { PaperCell } from './paper.js';
import { paperNumbers } from './paper.js';

export const RETRIEVAL_PAPER_FILE = path.join('configs', 'paper', 'retrieval.json');

/** One paper number: metric name, percent, verified flag and where the value was read. */
export interface RetrievalReferenceCell extends PaperCell {
  /** a recall name of retrieval-metrics.ts, e.g. `text_retrieval_recall@1` (image→text) */
  metric: string;
  source: string;
}

export interface RetrievalPaperNumbers {
  datasets: Record<string, { paperName: string; split: string; results: Record<string, RetrievalReferenceCell[]> }>;
}

/** `text_retrieval_recall@5` / `image_retrieval_recall@10`: the only metrics Table 13 reports. */
const PAPER_METRIC = /^(text|image)_retrieval_recall@([1-9][0-9]*)$/;

/**
 * Checks and converts the file's JSON. Throws a `UsageError` naming the file, the entry and the fix on
 * anything else than `{datasets: {id: {paper_name, split, results: {model: {source, cells: {metric: [value, verified]}}}}}}`.
 */
export function parseRetrievalPaper(raw: unknown, file: string = RETRIEVAL_PAPER_FILE): RetrievalPaperNumbers {
  const fix = 'write {"datasets": {"flickr30k": {"paper_name": …, "split": "test", "results": {"ViT-L/14@336px": {"source": …, "cells": {"text_retrieval_recall@1": [88.0, false]}}}}}}';
  const bad = (what: string) => new UsageError(what, { file, fix });
  const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObject(raw) || !isObject(raw.datasets)) throw bad('expected an object with "datasets"');
  const datasets: RetrievalPaperNumbers['datasets'] = {};
  for (const [id, d] of Object.entries(raw.datasets)) {
    if (!isObject(d) || typeof d.paper_name !== 'string' || typeof d.split !== 'string' || !isObject(d.results)) {
      throw bad(`datasets.${id} needs "paper_name", "split" and "results"`);
    }
    const results: Record<string, RetrievalReferenceCell[]> = {};
    for (const [model, r] of Object.entries(d.results)) {
      const where = `datasets.${id}.results["${model}"]`;
      if (!isObject(r) || typeof r.source !== 'string' || !r.source || !isObject(r.cells)) throw bad(`${where} needs a "source" and "cells"`);
      results[model] = Object.entries(r.cells).map(([metric, cell]): RetrievalReferenceCell => {
        if (!PAPER_METRIC.test(metric)) throw bad(`${where}.cells has "${metric}", not a recall name like text_retrieval_recall@1`);
        if (!Array.isArray(cell) || cell.length !== 2 || typeof cell[0] !== 'number' || !(cell[0] >= 0 && cell[0] <= 100) || typeof cell[1] !== 'boolean') {
          throw bad(`${where}.cells["${metric}"] must be [percent in 0..100, verified true/false], got ${JSON.stringify(cell)}`);
        }
        return { metric, value: cell[0], verified: cell[1], source: r.source as string };
      });
    }
    datasets[id] = { paperName: d.paper_name, split: d.split, results };
  }
  return { datasets };
}

let cached: RetrievalPaperNumbers | undefined;

export function retrievalPaperNumbers(): RetrievalPaperNumbers {
  cached ??= parseRetrievalPaper(JSON.parse(readFileSync(path.join(packageRoot, RETRIEVAL_PAPER_FILE), 'utf8')));
  return cached;
}

/**
 * The paper's Table 13 cells for a reference model on a retrieval dataset, in the file's order; empty where
 * the paper has no number for them (Table 13 reports only ViT-L/14@336px, on flickr30k and mscoco). The
 * model must be one of the paper's models, the same names `--reference` takes for classification: a typo
 * throws with "did you mean".
 * @example retrievalReferenceCells('ViT-L/14@336px', 'flickr30k')[0] // → { metric: 'text_retrieval_recall@1', value: 88, verified: false, source: 'Table 13, …' }
 */
export function retrievalReferenceCells(model: string, dataset: string, numbers: RetrievalPaperNumbers = retrievalPaperNumbers()): RetrievalReferenceCell[] {
  const models = paperNumbers().models;
  if (!models.includes(model)) throw unknownName('paper model', model, models);
  return numbers.datasets[dataset]?.results[model] ?? [];
}

/**
 * What a retrieval report section needs for `--reference MODEL` (retrieval-section.ts' `reference`): the
 * model's Table 13 cells on the dataset, the split the paper measured and its size, and the ±points tolerance.
 */
export function retrievalReference(
  model: string,
  dataset: string,
  tolerance = 1,
): { model: string; cells: RetrievalReferenceCell[]; split?: string; counts?: { images: number; captions: number }; tolerance: number } {
  const numbers = retrievalPaperNumbers();
  const split = numbers.datasets[dataset]?.split;
  // the split's size as the adapter knows it (the one source of those counts), to tell a partial run
  const counts = split !== undefined && Object.hasOwn(RETRIEVAL_DATASETS, dataset) ? RETRIEVAL_DATASETS[dataset as RetrievalDatasetId].expectedCount?.[split] : undefined;
  return { model, cells: retrievalReferenceCells(model, dataset, numbers), ...(split === undefined ? {} : { split }), ...(counts ? { counts } : {}), tolerance };
}

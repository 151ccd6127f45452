/**
 * clipBenchmarkRecord on stored runs built by hand: a retrieval run's recalls per k, acc5 as NaN below five
 * classes, a language run, and the runs CLIP_benchmark's JSON cannot describe (part of a split, unfinished,
 * a dataset it lacks), refused. outputPath fills cli.py's template fields.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { clipBenchmarkRecord, outputPath, pythonJson } from '../src/interop/clip-benchmark-record.js';
import { clipBenchIdOf } from '../src/interop/clip-benchmark-names.js';
import type { RunRecord } from '../src/store/runs.js';
import { runIdentity } from './support/run-identity.js';

const run = (over: Partial<RunRecord>): RunRecord => ({ ...runIdentity(), id: 7, status: 'finished', createdAt: '', finishedAt: '', n: 10, nFailed: 0, top1: null, top5: null, metrics: null, timings: null, ...over });
const v = (value: number | null) => ({ value, higher_is_better: true });

describe('clipBenchmarkRecord', () => {
  it('retrieval: image_retrieval_recall@k and text_retrieval_recall@k for each stored k, in that order; their dataset name', () => {
    const r = clipBenchmarkRecord(run({
      task: 'retrieval', dataset: 'mscoco', modelName: 'ViT-B-32__openai', params: { recallK: [1, 5] },
      metrics: { 'image_retrieval_recall@1': v(0.3), 'text_retrieval_recall@1': v(0.5), 'image_retrieval_recall@5': v(0.55), 'text_retrieval_recall@5': v(0.75), 'mean_recall@1': v(0.4) },
    }));
    expect(r).toEqual({ dataset: 'mscoco_captions', model: 'ViT-B-32', pretrained: 'openai', task: 'zeroshot_retrieval', metrics: { 'image_retrieval_recall@1': 0.3, 'text_retrieval_recall@1': 0.5, 'image_retrieval_recall@5': 0.55, 'text_retrieval_recall@5': 0.75 }, language: 'en' });
    expect(Object.keys(r.metrics)).toEqual(['image_retrieval_recall@1', 'text_retrieval_recall@1', 'image_retrieval_recall@5', 'text_retrieval_recall@5']);
  });

  it('below five classes acc5 is NaN, written bare as json.dump does; the language is the run\'s --language', () => {
    const r = clipBenchmarkRecord(run({ dataset: 'kitti', modelName: 'ViT-B-32__openai', nClasses: 4, params: { language: 'fr' }, metrics: { top1: v(0.25), top5: v(null), 'mean-per-class-recall': v(0.5) } }));
    expect(r.metrics.acc5).toBeNaN();
    expect(pythonJson(r)).toBe('{"dataset": "vtab/kitti_closest_vehicle_distance", "model": "ViT-B-32", "pretrained": "openai", "task": "zeroshot_classification", "metrics": {"acc1": 0.25, "acc5": NaN, "mean_per_class_recall": 0.5}, "language": "fr"}');
    expect(outputPath('{dataset}_{pretrained}_{model}_{language}_{task}.json', r)).toBe('vtab_kitti_closest_vehicle_distance_openai_ViT-B-32_fr_zeroshot_classification.json');
  });

  it('a name without a tag: pretrained is the model folder; {pretrained} is its basename, {pretrained_full_path} the path with / as _', () => {
    const r = clipBenchmarkRecord(run({ dataset: 'cifar10', modelName: 'my-export', modelDir: '/models/my-export', metrics: { top1: v(0.5), top5: v(0.9), 'mean-per-class-recall': v(0.5) } }));
    expect([r.model, r.pretrained]).toEqual(['my-export', '/models/my-export']);
    expect(outputPath('{pretrained}|{pretrained_full_path}', r)).toBe('my-export|_models_my-export');
  });

  it.each([
    ['a shard', { dataset: 'cifar10', shard: '0/2' }, /shard 0\/2/],
    ['a --limit below the split', { dataset: 'cifar10', params: { limit: 5, splitSize: 10 } }, /--limit 5/],
    ['an unfinished run', { dataset: 'cifar10', status: 'interrupted' as const }, /is interrupted, not finished/],
    ['a dataset CLIP_benchmark lacks', { dataset: 'birdsnap' }, /CLIP_benchmark has no Birdsnap dataset/],
  ])('refuses %s', (_, over, message) => {
    expect(() => clipBenchmarkRecord(run(over))).toThrow(UsageError);
    expect(() => clipBenchmarkRecord(run(over))).toThrow(message);
  });
});

describe('clipBenchIdOf: their names to our ids', () => {
  it.each([
    ['imagenet1k', 'imagenet'],
    ['wds/vtab/flowers', 'flowers102'],
    ['vtab/pets', 'oxford-pets'],
    ['cars', 'stanford-cars'],
    ['mscoco_captions', 'mscoco'],
    ['vtab/dmlab', null],
    ['voc2007', null],
  ])('%s → %s', (theirs, ours) => expect(clipBenchIdOf(theirs).dataset).toBe(ours));
});

import { describe, expect, it } from 'vitest';
import { checkEvalArgs } from '../src/cli/eval.js';
import { editDistance, unknownName, UsageError } from '../src/errors.js';

const ok = { model: 'm', dataset: 'imagefolder', root: 'r', 'batch-size': 32, workers: 2, threads: 0 };

describe('eval flag checks', () => {
  it.each([
    [{}, '--model is required'],
    [{ ...ok, root: undefined }, '--root is required'],
    [{ ...ok, 'batch-size': 0 }, '--batch-size must be a positive integer, got 0'],
    [{ ...ok, 'batch-size': 2.5 }, '--batch-size must be a positive integer, got 2.5'],
    [{ ...ok, limit: -1 }, '--limit must be a positive integer, got -1'],
    [{ ...ok, workers: 0 }, '--workers must be a positive integer, got 0'],
    [{ ...ok, threads: -2 }, '--threads must be 0 or a positive integer, got -2'],
    [ok, null],
    [{ ...ok, limit: 100 }, null],
    [{ ...ok, dataset: 'mscoco', 'recall-k': '1,5,10', 'caption-prefix': 'a photo of ' }, null],
    [{ ...ok, dataset: 'flickr30k', prompts: 'single' }, '--prompts is for classification; flickr30k is a retrieval dataset, whose text side is its captions (see --caption-prefix)'],
    [{ ...ok, dataset: 'flickr8k', reference: 'ViT-B/32' }, null], // retrieval takes --reference (Table 13) since issue 15's report wiring
    [{ ...ok, 'recall-k': '1' }, '--recall-k is for retrieval datasets (flickr30k, flickr8k, mscoco, crossmodal3600, xtd10, multilingual_mscoco), not imagefolder'],
    [{ ...ok, 'caption-prefix': 'a photo of ' }, '--caption-prefix is for retrieval datasets (flickr30k, flickr8k, mscoco, crossmodal3600, xtd10, multilingual_mscoco), not imagefolder'],
    [{ ...ok, dataset: 'mscoco', 'recall-k': '1;5' }, '--recall-k takes whole numbers separated by commas, got "1;5"'],
  ])('%o → %s', (args, problem) => {
    expect(checkEvalArgs(args)).toBe(problem);
  });
});

describe('errors', () => {
  it('edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('unknownName suggests only close names', () => {
    expect(unknownName('dataset', 'cifar', ['cifar10', 'mnist']).oneLine()).toBe('unknown dataset "cifar". Did you mean "cifar10"? — known datasets: cifar10, mnist');
    expect(unknownName('dataset', 'zzzzzzzz', ['cifar10']).message).not.toContain('Did you mean');
  });
  it('oneLine names the file and the fix on one line', () => {
    expect(new UsageError('bad\nthing', { file: 'x.json', fix: 'do y' }).oneLine()).toBe('x.json: bad thing — do y');
  });
});

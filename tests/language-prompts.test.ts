/**
 * `--language`: class names and templates from CLIP_benchmark's per-language files and from Babel-ImageNet's,
 * written here in their real formats (the JSON shapes of clip_benchmark/datasets/<lang>_classnames.json,
 * <lang>_zeroshot_classification_templates.json, babel_imagenet.json and nllb_dist13b_prompts.json). The expected
 * prompts are spelled out from the files' contents by hand (CLIP_benchmark's lookup rules, its label orders).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getDataset } from '../src/datasets/index.js';
import { imagenetSubsetPlan } from '../src/datasets/imagenet.js';
import { imagenetSubsetWnids, imagenetWnids } from '../src/datasets/wnids.js';
import type { Sample } from '../src/datasets/types.js';
import { datasetPrompts, samplesOfClasses } from '../src/eval/zero-shot.js';
import { normaliseLanguage } from '../src/prompts/language.js';
import { usageFailureSync } from './support/usage-failure.js';

const W = imagenetWnids();
const work = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-language-'));
const writeJson = (dir: string, name: string, value: unknown) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), JSON.stringify(value));
  return path.join(dir, name);
};

// A CLIP_benchmark folder in French and in Italian (made-up but well-formed translations).
const frImagenet = W.map((_, i) => `nom français ${i}`);
const frCifar = ['avion', 'automobile', 'oiseau', 'chat', 'cerf', 'chien', 'grenouille', 'cheval', 'navire', 'camion'];
// FER2013 in CLIP_benchmark's order (sorted Kaggle folders): angry, disgust, fear, happy, neutral, sad, surprise
const frFer = ['en colère', 'dégoûté', 'apeuré', 'heureux', 'neutre', 'triste', 'surpris'];
const cb = path.join(work, 'clip_benchmark');
writeJson(cb, 'fr_classnames.json', { imagenet1k: frImagenet, cifar10: frCifar, fer2013: frFer, food101: ['a', 'b'] });
writeJson(cb, 'fr_zeroshot_classification_templates.json', { imagenet1k: ['une photo de {c}.', 'un dessin de {c}.'], cifar10: ['une photo floue de {c}.'], fer2013: ['un visage {c}.'] });
writeJson(cb, 'it_classnames.json', { cifar10: frCifar });
writeJson(cb, 'it_zeroshot_classification_templates.json', { cifar10: ['una foto di {c}.'] });
// CLIP_benchmark spells Chinese cn_
writeJson(cb, 'cn_classnames.json', { imagenet1k: W.map((_, i) => `类${i}`) });
writeJson(cb, 'cn_zeroshot_classification_templates.json', { imagenet1k: ['{c}的照片。'] });

const cifarIds = Array.from({ length: 10 }, (_, i) => String(i));
const run = (dataset: string, classIds: readonly string[], ref: string | undefined, language?: string) =>
  datasetPrompts(getDataset(dataset), work, classIds, ['imagefolder', 'imagenet-r'].includes(dataset) ? imagenetSubsetPlan(classIds, dataset) : undefined, ref, language);

describe('normaliseLanguage', () => {
  it('ISO codes lower-cased; CLIP_benchmark\'s cn and jp are zh and ja; FLORES-200 codes kept', () => {
    expect(['FR', 'fr', 'cn', 'jp', 'ZH', 'fra_Latn'].map(normaliseLanguage)).toEqual(['fr', 'fr', 'zh', 'ja', 'zh', 'fra_Latn']);
    expect(usageFailureSync(() => normaliseLanguage('français'))).toMatch(/--language takes a language code such as fr/);
  });
});

describe('CLIP_benchmark language files (--prompts DIR --language L)', () => {
  it('CIFAR-10 in French: the cifar10 names in label order with the cifar10 templates', () => {
    const r = run('cifar10', cifarIds, cb, 'fr');
    expect(r.texts).toEqual(frCifar.map((n) => `une photo floue de ${n}.`));
    expect(r.promptSet).toBe('clip_benchmark-fr');
    expect(r.templatesFrom).toBeUndefined();
  });

  it('FER2013: the positional list is mapped through CLIP_benchmark\'s folder order (our class 6 is neutral, list line 4)', () => {
    // our ids: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral
    const r = run('fer2013', ['0', '1', '2', '3', '4', '5', '6'], cb, 'fr');
    expect(r.classNames.map((n) => n[0])).toEqual(['en colère', 'dégoûté', 'apeuré', 'heureux', 'triste', 'surpris', 'neutre']);
  });

  it('ImageNet: imagenet1k\'s 1000 names by label order; ImageNet-R takes its 200 classes\' names by WordNet id', () => {
    const full = run('imagenet', W, cb, 'fr');
    expect(full.classNames[0]).toEqual(['nom français 0']);
    expect(full.texts.slice(0, 2)).toEqual(['une photo de nom français 0.', 'un dessin de nom français 0.']);
    const r200 = imagenetSubsetWnids('imagenet-r', 200);
    const sub = run('imagenet-r', r200, cb, 'fr');
    expect(sub.classNames.map((n) => n[0])).toEqual(r200.map((w) => `nom français ${W.indexOf(w)}`));
  });

  it('a dataset with names but no templates takes imagenet1k\'s, as CLIP_benchmark does, and says so', () => {
    const r = run('food101', Array.from({ length: 2 }, (_, i) => String(i)), cb, 'fr');
    expect(r.templates).toEqual(['une photo de {c}.', 'un dessin de {c}.']);
    expect(r.templatesFrom).toBe('imagenet1k');
  });

  it('zh finds CLIP_benchmark\'s cn_ files; a classnames file given directly names its language', () => {
    expect(run('imagenet', W, cb, 'zh').texts[1]).toBe('类1的照片。');
    expect(run('imagenet', W, path.join(cb, 'cn_classnames.json')).texts[0]).toBe('类0的照片。');
    expect(usageFailureSync(() => run('imagenet', W, path.join(cb, 'cn_classnames.json'), 'fr'))).toMatch(/cn_classnames\.json holds class names in language zh, and --language is fr/);
  });

  it('the prompt hash changes with the language\'s names and with its templates', () => {
    const fr = run('cifar10', cifarIds, cb, 'fr');
    const it_ = run('cifar10', cifarIds, cb, 'it'); // same names, other templates
    const en = run('cifar10', cifarIds, undefined);
    expect(new Set([fr.hash, it_.hash, en.hash]).size).toBe(3);
    const other = path.join(work, 'other');
    writeJson(other, 'fr_classnames.json', { cifar10: [...frCifar.slice(0, 9), 'poids lourd'] });
    writeJson(other, 'fr_zeroshot_classification_templates.json', { cifar10: ['une photo floue de {c}.'] });
    expect(run('cifar10', cifarIds, other, 'fr').hash).not.toBe(fr.hash);
  });

  it.each([
    ['no file in that language', 'cifar10', 'de', /clip_benchmark: no class names in language de: de_classnames\.json is not in this folder — put CLIP_benchmark's de_classnames\.json/],
    ['no names for the dataset', 'dtd', 'it', /it_classnames\.json: no it class names for dataset dtd: the file has no "dtd" entry \(it has "cifar10"\)/],
  ])('%s: one line naming the file and the fix', (_what, dataset, language, message) => {
    expect(usageFailureSync(() => run(dataset, cifarIds, cb, language))).toMatch(message);
  });

  it('Caltech-101: its positional list is refused, as configs/datasets/clip-benchmark-order.json says', () => {
    const d = path.join(work, 'caltech');
    writeJson(d, 'fr_classnames.json', { caltech101: Array.from({ length: 102 }, (_, i) => `objet ${i}`) });
    writeJson(d, 'fr_zeroshot_classification_templates.json', { caltech101: ['une photo de {c}.'] });
    const ids = Array.from({ length: 102 }, (_, i) => `c${i}`);
    expect(usageFailureSync(() => run('caltech101', ids, d, 'fr'))).toMatch(/fr_classnames\.json: prompt set "clip_benchmark-fr" lists class names by position, which dataset caltech101 cannot take/);
  });

  it('a language with names but without templates for the dataset, nor imagenet1k\'s: refused naming the templates file', () => {
    const d = path.join(work, 'no-templates');
    writeJson(d, 'fr_classnames.json', { cifar10: frCifar });
    writeJson(d, 'fr_zeroshot_classification_templates.json', { dtd: ['{c}'] });
    expect(usageFailureSync(() => run('cifar10', cifarIds, d, 'fr'))).toMatch(/fr_zeroshot_classification_templates\.json: no fr templates for dataset cifar10: the file has none of "cifar10", "imagenet1k"/);
  });

  it('class-specific templates (CuPL) are refused, not half-read', () => {
    const d = path.join(work, 'cupl');
    writeJson(d, 'fr_classnames.json', { cifar10: frCifar });
    writeJson(d, 'fr_zeroshot_classification_templates.json', { cifar10: { avion: ['un avion dans le ciel'] } });
    expect(usageFailureSync(() => run('cifar10', cifarIds, d, 'fr'))).toMatch(/class-specific prompts \(CuPL's/);
  });

  it('our own prompt formats are taken as written with --language; a built-in (English) set with another language is refused', () => {
    const mine = writeJson(path.join(work, 'mine'), 'cifar-fr.json', { classes: Object.fromEntries(frCifar.map((n, i) => [String(i), n])), templates: ['photo : {c}'] });
    expect(run('cifar10', cifarIds, mine, 'fr').texts[2]).toBe('photo : oiseau');
    expect(usageFailureSync(() => run('cifar10', cifarIds, 'cifar10', 'fr'))).toMatch(/prompt set "cifar10" \(configs\/prompts\) is in English, not in language fr/);
    expect(run('cifar10', cifarIds, 'cifar10', 'en').promptSet).toBe('cifar10');
  });

  describe('--language alone reads the languages folder ($CLIP_BENCH_LANGUAGES)', () => {
    let saved: string | undefined;
    beforeEach(() => {
      saved = process.env.CLIP_BENCH_LANGUAGES;
      process.env.CLIP_BENCH_LANGUAGES = cb;
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.CLIP_BENCH_LANGUAGES;
      else process.env.CLIP_BENCH_LANGUAGES = saved;
    });
    it('finds fr there; without a language the dataset\'s own prompts', () => {
      expect(run('cifar10', cifarIds, undefined, 'fr').texts[0]).toBe('une photo floue de avion.');
      expect(run('cifar10', cifarIds, undefined).promptSet).toBe('cifar10');
    });
  });
});

// Babel-ImageNet: three French classes (ImageNet labels 0, 2 and 999), Breton without templates.
const babel = path.join(work, 'babel');
writeJson(babel, 'babel_imagenet.json', { FR: [[0, 2, 999], ['tanche', 'grand requin blanc', 'papier toilette']], BR: [[1], ['pesk aour']] });
writeJson(babel, 'nllb_dist13b_prompts.json', { FR: ["Une mauvaise photo d'un  {} .", 'une sculpture de {} {}'] });

describe('Babel-ImageNet (--prompts babel-imagenet --language fr)', () => {
  it('the language\'s classes only, keyed by WordNet id, with the NLLB templates ({} → {c})', () => {
    const r = run('imagenet', W, path.join(babel, 'babel_imagenet.json'), 'fr');
    expect(r.classSubset).toEqual([W[0], W[2], W[999]]);
    expect(r.texts).toEqual([
      "Une mauvaise photo d'un  tanche .",
      'une sculpture de tanche tanche',
      "Une mauvaise photo d'un  grand requin blanc .",
      'une sculpture de grand requin blanc grand requin blanc',
      "Une mauvaise photo d'un  papier toilette .",
      'une sculpture de papier toilette papier toilette',
    ]);
  });

  it('an ImageFolder of some WordNet ids takes the classes both have, in its label order', () => {
    const r = run('imagefolder', [W[2], W[5], W[999]], path.join(babel, 'babel_imagenet.json'), 'fr');
    expect(r.classSubset).toEqual([W[2], W[999]]);
  });

  it('the samples of the other classes are left out and the rest relabelled to their place in the subset', () => {
    const classIds = ['a', 'b', 'c', 'd'];
    const s = (key: string, label: number): Sample => ({ key, path: key, label });
    const all = [s('x', 0), s('y', 1), s('z', 3), s('w', 1), s('v', 2)];
    expect(samplesOfClasses(all, classIds, ['b', 'd'])).toEqual([s('y', 0), s('z', 1), s('w', 0)]);
  });

  it.each([
    ['no language given', undefined, /babel_imagenet\.json: Babel-ImageNet holds prompts in many languages and no --language was given/],
    ['a language it lacks', 'de', /Babel-ImageNet has no language "DE" — pass --language with one of its 2 languages: br, fr/],
    ['names without templates', 'br', /nllb_dist13b_prompts\.json: Babel-ImageNet has no templates in language "BR"/],
  ])('%s: one line naming the file and the fix', (_what, language, message) => {
    expect(usageFailureSync(() => run('imagenet', W, path.join(babel, 'babel_imagenet.json'), language))).toMatch(message);
  });

  it('refused on ObjectNet, whose classes are scored through a mapping', () => {
    const plan = { promptClassIds: [W[0], W[1]], groups: [[0, 1]], description: 'objectnet-max-over-mapped' };
    const line = usageFailureSync(() => datasetPrompts(getDataset('objectnet'), work, ['x'], plan, path.join(babel, 'babel_imagenet.json'), 'fr'));
    expect(line).toMatch(/covers part of ImageNet's classes, and dataset objectnet is scored through objectnet-max-over-mapped/);
  });

  it('--prompts babel-imagenet without the file in the languages folder: where to put it', () => {
    const saved = process.env.CLIP_BENCH_LANGUAGES;
    process.env.CLIP_BENCH_LANGUAGES = path.join(work, 'empty');
    try {
      const line = usageFailureSync(() => run('imagenet', W, 'babel-imagenet', 'fr'));
      expect(line).toMatch(/empty[/\\]babel_imagenet\.json: Babel-ImageNet's class names \(babel_imagenet\.json\) are not here — download babel_imagenet\.json .* \(or set CLIP_BENCH_LANGUAGES to its folder\), or pass --prompts PATH\/babel_imagenet\.json/);
    } finally {
      if (saved === undefined) delete process.env.CLIP_BENCH_LANGUAGES;
      else process.env.CLIP_BENCH_LANGUAGES = saved;
    }
  });
});

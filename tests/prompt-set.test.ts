import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { listPromptSets, loadPromptSet, resolvePrompts } from '../src/prompts/prompt-set.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-prompts-'));
function file(name: string, content: unknown): string {
  const f = path.join(tmp, name);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

describe('prompt sets', () => {
  it('ships the demo, single-template and class-name sets', () => {
    expect(listPromptSets()).toEqual(expect.arrayContaining(['colours', 'single', 'classname']));
    expect(loadPromptSet('single').templates).toEqual(['a photo of a {c}.']);
  });

  it('resolves classes by id, not by position', () => {
    const set = loadPromptSet(file('ab.json', { classes: { b: 'bee', a: ['ant', 'emmet'] }, templates: ['a {c}.', '{c}!'] }));
    const r = resolvePrompts(set, ['a', 'b'], 'test');
    expect(r.classNames).toEqual([['ant', 'emmet'], ['bee']]);
    expect(r.texts).toEqual(['a ant.', 'ant!', 'a emmet.', 'emmet!', 'a bee.', 'bee!']);
    expect(Array.from(r.textClass)).toEqual([0, 0, 0, 0, 1, 1]);
    // the same set against the classes in the other order gives the rows swapped, and another hash
    const swapped = resolvePrompts(set, ['b', 'a'], 'test');
    expect(swapped.classNames).toEqual([['bee'], ['ant', 'emmet']]);
    expect(swapped.hash).not.toBe(r.hash);
  });

  it('a subset dataset may use part of a larger set, but every one of its classes must be named', () => {
    const set = loadPromptSet(file('big.json', { classes: { a: 'A', b: 'B', c: 'C' }, templates: ['{c}'] }));
    expect(resolvePrompts(set, ['c', 'a'], 'sub', { subset: true }).texts).toEqual(['C', 'A']);
    expect(() => resolvePrompts(set, ['c', 'a'], 'sub')).toThrow(/not in the dataset: "b"/);
    expect(() => resolvePrompts(set, ['c', 'z'], 'sub', { subset: true })).toThrow(/lacks 1 of the 2 classes of dataset sub; missing from the prompts: "z"/);
  });

  it('uses the dataset class ids as names when the set has no classes', () => {
    const r = resolvePrompts(loadPromptSet('single'), ['cat', 'dog'], 'test');
    expect(r.texts).toEqual(['a photo of a cat.', 'a photo of a dog.']);
  });

  it('include: inherits classes and overrides templates', () => {
    file('base.json', { classes: { x: 'ex' }, templates: ['one {c}'] });
    const child = loadPromptSet(file('child.json', { include: './base.json', templates: ['two {c}'] }));
    expect(child.classes).toEqual({ x: 'ex' });
    expect(child.templates).toEqual(['two {c}']);
  });

  it.each([
    ['class-count mismatch', { classes: { a: 'A' }, templates: ['{c}'] }, /has 1 classes but dataset test has 2.*missing from the prompts: "b"/],
    ['empty template list', { templates: [] }, /template list is empty/],
    ['template without {c}', { templates: ['a photo'] }, /has no \{c\} placeholder/],
    ['bad class value', { classes: { a: 3 }, templates: ['{c}'] }, /needs a name/],
  ])('%s is a UsageError naming the file', (_name, content, message) => {
    const f = file(`bad-${_name.replaceAll(' ', '-')}.json`, content);
    const run = () => resolvePrompts(loadPromptSet(f), ['a', 'b'], 'test');
    expect(run).toThrow(UsageError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (e) {
      expect((e as UsageError).oneLine()).toContain(f);
    }
  });

  it('reads CLIP_benchmark\'s classnames.txt + templates (folder or file) and {classnames, templates} JSON, by position', () => {
    const dir = path.join(tmp, 'cb');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'classnames.txt'), 'apple\nbanana split\n\n');
    writeFileSync(path.join(dir, 'zeroshot_classification_templates.txt'), 'a photo of a {c}.\nart of the {c}.\n');
    for (const ref of [dir, path.join(dir, 'classnames.txt')]) {
      const r = resolvePrompts(loadPromptSet(ref), ['0', '1'], 'test');
      expect(r.texts).toEqual(['a photo of a apple.', 'art of the apple.', 'a photo of a banana split.', 'art of the banana split.']);
    }
    const j = loadPromptSet(file('cb.json', { classnames: ['x', ['y', 'why']], templates: ['{c}'] }));
    expect(resolvePrompts(j, ['a', 'b'], 'test').classNames).toEqual([['x'], ['y', 'why']]);
    expect(() => resolvePrompts(j, ['a', 'b', 'c'], 'test')).toThrow(/lists 2 class names by position but dataset test has 3 classes/);
    const bare = path.join(tmp, 'bare');
    mkdirSync(bare, { recursive: true });
    writeFileSync(path.join(bare, 'classnames.txt'), 'a\n');
    expect(() => loadPromptSet(bare)).toThrow(/no zeroshot_classification_templates\.txt or templates\.txt/);
  });

  it('malformed JSON and unknown ids fail helpfully', () => {
    expect(() => loadPromptSet(file('broken.json', '{"templates": ['))).toThrow(/not valid JSON/);
    expect(() => loadPromptSet('singel')).toThrow(/unknown prompt set "singel". Did you mean "single"\?/);
  });
});

describe('a bare prompt set name is the built-in set', () => {
  it('--prompts cifar10 ignores a cifar10/ folder and a file "single" in the working directory; ./cifar10 reads the folder', () => {
    const cwd = path.join(tmp, 'cwd');
    mkdirSync(path.join(cwd, 'cifar10'), { recursive: true });
    writeFileSync(path.join(cwd, 'cifar10', 'classnames.txt'), Array.from({ length: 10 }, (_, i) => `wrong${i}`).join('\n'));
    writeFileSync(path.join(cwd, 'cifar10', 'templates.txt'), 'a {c}\n');
    writeFileSync(path.join(cwd, 'single'), JSON.stringify({ templates: ['not the built-in {c}'] }));
    const before = process.cwd();
    process.chdir(cwd);
    try {
      const builtIn = loadPromptSet('cifar10');
      expect(builtIn.classes?.['0']).toBe('airplane');
      expect(builtIn.templates).toHaveLength(18);
      expect(loadPromptSet('single').templates).toEqual(['a photo of a {c}.']);
      expect(loadPromptSet('./cifar10').classnames?.[0]).toEqual(['wrong0']);
      // an unknown bare name that is a local file says how to use the file
      writeFileSync(path.join(cwd, 'mine'), '{}');
      expect(() => loadPromptSet('mine')).toThrow(/unknown prompt set "mine".*pass it as \.\/mine/);
    } finally {
      process.chdir(before);
    }
  });
});

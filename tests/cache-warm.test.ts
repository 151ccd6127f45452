/**
 * `clip-bench cache warm`: a classifier's prompts encoded once into a DB's text cache, so that runs started
 * from it encode none (tests/faults/fanout.test.ts runs it as the fan-out's first Job). Here: the flag checks,
 * the counts it prints against the prompt set counted independently, a second warm encoding nothing, an eval
 * on the warmed DB reusing every prompt, and bad input as one line with exit 2 and no file written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkCacheArgs } from '../src/cli/cache.js';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';

const BIN = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const built = existsSync(BIN);
if (!built) console.warn('cache warm CLI cases SKIPPED: dist/src/cli/main.js not built — run `npm run build`');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('checkCacheArgs', () => {
  it.each([
    [{ action: 'warm', model: 'm', prompts: 'colours' }, null],
    [{ action: 'warm', model: 'm', dataset: 'imagefolder', root: 'r' }, null],
    [{ action: 'warm', prompts: 'colours' }, 'cache warm needs --model (the model folder the eval runs will use)'],
    [{ action: 'warm', model: 'm' }, 'cache warm needs --prompts, --dataset (with --root), or both, as the eval runs will pass them'],
    [{ action: 'warm', model: 'm', dataset: 'imagefolder' }, "cache warm --dataset needs --root (the eval runs' --root: the prompts name its classes)"],
    [{ action: 'stats' }, null],
    [{ action: 'clear', model: 'abc' }, null],
    [{ action: 'stats', prompts: 'colours' }, '--prompts is for `cache warm`, not `cache stats`'],
    [{ action: 'clear', dataset: 'imagenet' }, '--dataset is for `cache warm`, not `cache clear`'],
  ] as const)('%j → %s', (args, problem) => {
    expect(checkCacheArgs(args)).toBe(problem);
  });
});

describe.skipIf(!built)('clip-bench cache warm', () => {
  let tmp: string;
  let demo: DemoPaths;
  let nTexts: number;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-cache-warm-'));
    demo = await writeDemo(path.join(tmp, 'demo'), 2);
    const set = loadPromptSet('colours');
    nTexts = new Set(Object.values(set.classes!).flat().flatMap((n) => set.templates.map((t) => t.replaceAll('{c}', n)))).size;
  });

  it('encodes each distinct prompt once; a second warm encodes none; an eval on the warmed DB reuses every prompt', () => {
    const db = path.join(tmp, 'warm.sqlite');
    const first = cli(['cache', 'warm', '--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--db', db, '--quiet', '--json']);
    expect([first.status, first.stderr]).toEqual([0, '']);
    expect(JSON.parse(first.stdout)).toMatchObject({ model: 'toy-clip', promptSet: 'colours', dataset: 'imagefolder', texts: nTexts, encoded: nTexts, alreadyCached: 0, db });
    // without --dataset, a set that names its classes gives the same texts
    const again = cli(['cache', 'warm', '--model', demo.model, '--prompts', 'colours', '--db', db, '--quiet', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ dataset: null, texts: nTexts, encoded: 0, alreadyCached: nTexts });
    const stats = JSON.parse(cli(['cache', 'stats', '--db', db, '--json']).stdout) as { textEmbeddings: number; imageEmbeddings: number };
    expect(stats).toMatchObject({ textEmbeddings: nTexts, imageEmbeddings: 0 });
    const ev = cli(['eval', '--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--prompts', 'colours', '--db', db, '--shard', '1/2', '--quiet', '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).cache).toMatchObject({ textHits: nTexts, textMisses: 0 });
  }, 120_000);

  it('the text form says what it did', () => {
    const db = path.join(tmp, 'text.sqlite');
    const r = cli(['cache', 'warm', '--model', demo.model, '--prompts', 'colours', '--db', db, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const [head, counts] = r.stdout.trim().split('\n');
    expect(head).toMatch(new RegExp(`^toy-clip \\(fp32, fingerprint [0-9a-f]{12}…\\): prompts "colours", ${nTexts} distinct texts$`));
    expect(counts).toMatch(new RegExp(`^  ${nTexts} encoded and stored, 0 already cached, in \\d+\\.\\d s; text cache in ${db.replace(/[.]/g, '\\.')}$`));
  }, 60_000);

  it.each([
    [['--prompts', 'single'], /configs\/prompts\/single\.json: prompt set "single" does not name its classes, so its prompts depend on the dataset — add the --dataset and --root the eval runs will use$/],
    [['--prompts', 'colours', '--language', 'fr'], /cache warm --language needs --dataset — pass the --dataset and --root the eval runs will use/],
    [['--prompts', 'colorus'], /unknown prompt set "colorus"\. Did you mean "colours"\?/],
  ])('bad input %j: one line, exit 2, no DB written', (extra, line) => {
    const db = path.join(tmp, `bad-${extra.join('-')}.sqlite`);
    const r = cli(['cache', 'warm', '--model', demo.model, ...extra, '--db', db, '--quiet']);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^clip-bench: /);
    expect(lines[0]).toMatch(line);
    expect(existsSync(db)).toBe(false);
  }, 60_000);

  it('a model folder that is not there: one line, exit 2, no DB written', () => {
    const db = path.join(tmp, 'no-model.sqlite');
    const r = cli(['cache', 'warm', '--model', path.join(tmp, 'nothing-here'), '--prompts', 'colours', '--db', db, '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nothing-here');
    expect(existsSync(db)).toBe(false);
  }, 60_000);
});

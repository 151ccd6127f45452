/**
 * `clip-bench ablation` end to end on the demo, run as a user runs it (needs `npm run build`): one model,
 * one dataset, several prompt sets. Expectations come from the toy CLIP's construction: the colour word's
 * token alone carries the class, so every prompt set that names the colours scores 100%, and a prompt
 * file whose names are rotated among the classes scores exactly 0%. Only the first set encodes images.
 * Also the report and compare commands' new formats on the same DB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { COLOUR_CORNERS } from '../src/fixtures/toy-clip.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet, resolvePrompts } from '../src/prompts/prompt-set.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const PER_CLASS = 3;
const N = PER_CLASS * Object.keys(COLOUR_CORNERS).length;
let tmp: string;
let demo: DemoPaths;
let db: string;
let rotatedFile: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-ablation-'));
  demo = await writeDemo(path.join(tmp, 'demo'), PER_CLASS);
  db = path.join(tmp, 'r.sqlite');
  const names = Object.keys(COLOUR_CORNERS);
  rotatedFile = path.join(tmp, 'rotated.json');
  writeFileSync(rotatedFile, JSON.stringify({ id: 'rotated', classes: Object.fromEntries(names.map((id, i) => [id, names[(i + 1) % names.length]])), templates: ['a {c} square.', 'the colour {c}.'] }));
});

const common = () => ['--model', demo.model, '--dataset', 'imagefolder', '--root', demo.root, '--db', db, '--workers', '1', '--quiet'];

describe('clip-bench ablation', () => {
  it('scores every prompt set, encodes images only for the first, and tabulates Δ against it', () => {
    const r = cli(['ablation', ...common(), '--prompts', `colours,single,classname,${rotatedFile}`, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ model: 'toy-clip', dataset: 'imagefolder', n: N });
    const classIds = Object.keys(COLOUR_CORNERS).sort();
    const expected = [
      ['colours', loadPromptSet('colours'), 1, 0],
      ['single', loadPromptSet('single'), 1, 0],
      ['classname', loadPromptSet('classname'), 1, 0],
      ['rotated', loadPromptSet(rotatedFile), 0, -100],
    ] as const;
    expect(out.rows).toHaveLength(expected.length);
    out.rows.forEach((row: Record<string, unknown>, i: number) => {
      const [id, set, top1, delta] = expected[i];
      expect(row).toMatchObject({ promptSet: id, templates: set.templates.length, promptHash: resolvePrompts(set, classIds, 'imagefolder').hash, headline: 'top1', top1, headlineValue: top1 });
      expect(row.delta).toBeCloseTo(delta, 9);
      // the first set encodes every image; the others find them all in the cache
      expect(row).toMatchObject(i === 0 ? { imagesEncoded: N, imagesCached: 0 } : { imagesEncoded: 0, imagesCached: N });
    });
  });

  it('prints a text table and a Markdown table', () => {
    const text = cli(['ablation', ...common(), '--prompts', 'colours,single']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^prompt set\s+templates\s+hash\s+headline: top1\s+top-1\s+top-5\s+Δ vs colours\s+images$/m);
    expect(text.stdout).toMatch(/^single\s+1\s+[0-9a-f]{8}\s+100\.00\s+100\.00\s+100\.00\s+\+0\.00\s+0 encoded, 24 cached$/m);
    const md = cli(['ablation', ...common(), '--prompts', 'colours,single', '--format', 'md']);
    expect(md.stdout).toContain('| prompt set | templates | hash | headline: top1 | top-1 | top-5 | Δ vs colours | images |');
    expect(md.stdout).toMatch(/\| colours \| 5 \| [0-9a-f]{8} \| 100\.00 \| 100\.00 \| 100\.00 \| – \| 0 encoded, 24 cached \|/);
  });

  it.each([
    [['--prompts', 'colours'], /--prompts needs at least two prompt sets/],
    [['--prompts', 'colours,colours'], /--prompts names "colours" twice/],
    [['--prompts', 'colours,single', '--json', '--format', 'md'], /pass --json or --format md, not both/],
  ])('refuses %j with one line and exit code 2', (args, message) => {
    const r = cli(['ablation', ...common(), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('report and compare formats on the same DB', () => {
  it('report --format html writes one page; json carries per-class accuracy and confusions', () => {
    const out = path.join(tmp, 'report.html');
    expect(cli(['report', '--db', db, '--format', 'html', '--out', out, '--reference', 'ViT-B/32']).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<section id="ablations">');
    const json = JSON.parse(cli(['report', '--db', db, '--format', 'json']).stdout);
    const rotated = json.details.find((d: { title: string }) => d.title.endsWith('prompts "rotated"'));
    // rotated names: every class is predicted as the class whose name it was given, i.e. the previous one
    expect(rotated.perClass.map((c: { accuracy: number }) => c.accuracy)).toEqual(Array(8).fill(0));
    expect(rotated.confusions).toHaveLength(8);
    expect(rotated.confusions.every((c: { count: number; share: number }) => c.count === PER_CLASS && c.share === 1)).toBe(true);
    expect(json.ablations).toHaveLength(1);
  });

  it.each([
    [['report', '--format', 'html'], /--format html needs --out FILE/],
    [['report', '--reference', 'ViT-B/33'], /unknown paper model "ViT-B\/33"\. Did you mean "ViT-B\/32"\?/],
    [['compare', '--runs', '1,2', '--format', 'html'], /--format html needs --out FILE/],
  ])('%j fails with one line and exit code 2', (args, message) => {
    const r = cli([...args, '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('compare of two prompt sets names them, in text, JSON and HTML', () => {
    // runs 1 (colours) and 4 (rotated): every prediction changes, all 24 right → wrong
    const text = cli(['compare', '--runs', '1,4', '--db', db]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`prompts "rotated" loses 100.00 points [100.00, 100.00]`);
    expect(text.stdout).toContain(`flips: ${N} right → wrong, 0 wrong → right`);
    const json = JSON.parse(cli(['compare', '--runs', '1,4', '--db', db, '--format', 'json']).stdout);
    expect(json).toMatchObject({ paired: N, rightToWrong: N, wrongToRight: 0, agreement: 0 });
    expect(json.perClass[0].className).toBe(json.perClass[0].classId); // the colours set names each class by its id
    const out = path.join(tmp, 'compare.html');
    expect(cli(['compare', '--runs', '1,4', '--db', db, '--format', 'html', '--out', out]).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('data-plot="class-deltas"');
  });
});

/**
 * Multilingual retrieval through the built `clip-bench` (needs `npm run build`) on the random-weight CLIP fixture:
 * XTD10 and Crossmodal-3600 in their real files, `--language`, the metrics against brute force on the stored
 * embeddings, refusals one line with exit 2 and no DB written, and the report's language × model table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import { packageRoot } from '../src/paths.js';
import { openDb } from '../src/store/db.js';
import { retrievalOracle } from './support/retrieval-oracle.js';
import { jpeg, multilingualImages, write, writeXm3600, writeXtd10Files, type MultilingualImage } from './support/retrieval-writers.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
let tmp: string;
let model: string;
let other: string;
let xtdRoot: string;
let xmRoot: string;
let images: MultilingualImage[];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-ml-retrieval-cli-'));
  // 11 images, so recall@10 fits both galleries
  images = multilingualImages(11, ['en', 'de', 'jp']).map((im, i) => ({ ...im, name: `COCO_val2014_${String(500 + i).padStart(12, '0')}.jpg` }));
  xtdRoot = path.join(tmp, 'xtd10');
  writeXtd10Files(xtdRoot, '', images);
  for (const im of images) write(xtdRoot, path.join('xtd10', 'images', im.name), await jpeg(im.seed));
  xmRoot = path.join(tmp, 'xm');
  await writeXm3600(xmRoot, 'xm3600', multilingualImages(11, ['en', 'de', 'fil']));
  model = path.join(tmp, 'tiny');
  const vocabulary = [...images, ...multilingualImages(11, ['en', 'de', 'fil'])].flatMap((im) => Object.values(im.captions).flat());
  await writeClipArch(model, 'tiny', vocabulary);
  other = path.join(tmp, 'other');
  await writeClipArch(other, 'tiny', vocabulary, { seed: 7 });
});

const evalArgs = (db: string, dataset: string, root: string, ...more: string[]) => ['eval', '--model', model, '--dataset', dataset, '--root', root, '--db', db, '--quiet', ...more];

describe('clip-bench eval --language on a multilingual retrieval dataset', () => {
  it('--json: the language, the counts and metrics equal to brute force on the stored embeddings; the text output names the language', () => {
    const db = path.join(tmp, 'runs.sqlite');
    const r = cli(evalArgs(db, 'xtd10', xtdRoot, '--language', 'jp', '--json'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ task: 'retrieval', dataset: 'xtd10', language: 'ja', n_images: 11, n_captions: 11 });
    expect(out.layout_found).toBe('xtd10 XTD10/test_image_names.txt with STAIR/test_1kcaptions_jp.txt (jp), images in xtd10/images/');
    const d = openDb(db, { readonly: true });
    const o = retrievalOracle(d, out.runId, [1, 5, 10]);
    d.close();
    for (const [k, v] of Object.entries(o.values)) expect(out.metrics[k], k).toBeCloseTo(v, 12);
    const t = cli(evalArgs(db, 'xtd10', xtdRoot, '--language', 'de'));
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^run 2: .* retrieval on xtd10\/test in de, read from xtd10 XTD10\/test_image_names.txt with MIC\/test_1kcaptions_de.txt \(de\)/);
  });

  it.each([
    ['no --language', 'xtd10', () => xtdRoot, [], /^clip-bench: .*xtd10 has captions in several languages and no --language was given; languages found: de, en, jp — pass --language/],
    ['a language the root lacks', 'crossmodal3600', () => xmRoot, ['--language', 'sw'], /no crossmodal3600 captions in language "sw"; languages found: de, en, fil/],
    ['--language on an English-only dataset', 'flickr30k', () => xtdRoot, ['--language', 'de'], /flickr30k's captions are English only, so --language de has nothing to select/],
  ])('%s: one line, exit 2, no DB written', (_what, dataset, root, more, message) => {
    const db = path.join(tmp, `refused-${dataset}.sqlite`);
    const r = cli(evalArgs(db, dataset, root(), ...more));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(db)).toBe(false);
  });

  it('report: a language × model table per dataset, each cell the run\'s mean_recall@1 with n, "—" where missing, in md, csv and json', () => {
    const db = path.join(tmp, 'runs.sqlite');
    expect(cli(evalArgs(db, 'crossmodal3600', xmRoot, '--language', 'fil')).code).toBe(0);
    // a second model in en only: its de and jp cells, and the first model's en cell, are missing
    expect(cli(evalArgs(db, 'xtd10', xtdRoot, '--language', 'en').map((x) => (x === model ? other : x))).code).toBe(0);
    const d = openDb(db, { readonly: true });
    const values = [1, 2, 3, 4].map((id) => retrievalOracle(d, id, [1])['values']['mean_recall@1']);
    const fingerprints = [1, 4].map((id) => (d.prepare('SELECT model_fingerprint AS f FROM runs WHERE id = ?').get(id) as { f: string }).f.slice(0, 8));
    d.close();
    const cell = (v: number) => `${(100 * v).toFixed(2)} (n=11)`;
    const md = cli(['report', '--db', db]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('### Languages');
    expect(md.stdout).toContain('#### Retrieval: xtd10 (xtd10) / test in ja — tiny (');
    expect(md.stdout).toMatch(new RegExp(`#### crossmodal3600 / test: mean_recall@1 \\(%\\) by caption language, n = images\\n\\n\\| model \\| fil \\|\\n\\| --- \\| ---: \\|\\n\\| tiny \\([0-9a-f]{8}\\) \\| ${cell(values[2]).replace(/[()]/g, '\\$&')} \\|`));
    const rows = [
      `| tiny (${fingerprints[0]}) | ${cell(values[1])} | — | ${cell(values[0])} |`,
      `| other (${fingerprints[1]}) | — | ${cell(values[3])} | — |`,
    ].sort();
    expect(md.stdout).toContain(['| model | de | en | ja |', '| --- | ---: | ---: | ---: |', ...rows].join('\n'));
    const csv = cli(['report', '--db', db, '--format', 'csv']).stdout;
    expect(csv).toMatch(new RegExp(`\\nxtd10,test,retrieval,mean_recall@1,tiny \\([0-9a-f]{8}\\),ja,${values[0]},11,false,1\\n`));
    const json = JSON.parse(cli(['report', '--db', db, '--format', 'json']).stdout);
    expect(json.languages.map((t: { dataset: string; languages: string[] }) => [t.dataset, t.languages])).toEqual([
      ['crossmodal3600', ['fil']],
      ['xtd10', ['de', 'en', 'ja']],
    ]);
  });

  it('datasets lists the three multilingual datasets with their languages', () => {
    const r = cli(['datasets']);
    expect(r.stdout).toMatch(/^xtd10 {2}\(test; retrieval: mean_recall@1.*prompts captions in --language de, en, es, fr, it, jp, ko, pl, ru, tr, zh; test: 1000 images, 1000 captions\)/m);
    expect(r.stdout).toMatch(/^crossmodal3600 {2}\(test; .*captions in --language ar, bn, .*, zh; test: 3600 images, 3600 captions\)/m);
    expect(r.stdout).toMatch(/^multilingual_mscoco {2}\(test; /m);
    expect(r.stdout).toContain('captions.jsonl');
  });
});

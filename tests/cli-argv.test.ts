/**
 * What the user typed is checked before yargs parses it, the same way for every subcommand: typos get
 * "did you mean", CLIP_benchmark's spellings get the clip-bench name, a number option says what it got,
 * and --model pointing at a file or a subfolder of an export names the folder to pass.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArgv, optionTableOf } from '../src/cli/argv-check.js';
import { COMMANDS } from '../src/cli/cli.js';
import { evalCommand } from '../src/cli/eval.js';
import { fixtureTexts, toyTowers } from '../src/fixtures/fixture-models.js';
import { writeModelLayout } from '../src/fixtures/model-layouts.js';
import { detectLayout } from '../src/models/layout.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';

const bin = path.join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const built = existsSync(bin);
if (!built) console.warn('cli-argv CLI runs SKIPPED: dist/src/cli/main.js not built — run `npm run build`');

function cli(args: string[], cwd = packageRoot) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const evalTable = optionTableOf(evalCommand);
const base = ['--model', 'm', '--dataset', 'imagefolder', '--root', 'r'];

describe('checkArgv (pure)', () => {
  it.each([
    [['--limit', 'abc'], '--limit takes a number, got "abc"'],
    [['--limit=abc'], '--limit takes a number, got "abc"'],
    [['--batch-size'], '--batch-size needs a number'],
    [['--batch-size', '--json'], '--batch-size needs a number'],
    [['--batch-size='], '--batch-size needs a number, got ""'],
    [['--batchsize', '8'], 'unknown option --batchsize. Did you mean --batch-size?'],
    [['--dataset_root', 'r'], "--dataset_root is CLIP_benchmark's spelling; clip-bench calls it --root"],
    [['--batch_size', '8'], "--batch_size is CLIP_benchmark's spelling; clip-bench calls it --batch-size"],
    [['--pretrained', 'openai'], "--pretrained is CLIP_benchmark's spelling; clip-bench calls it --model"],
    [['--model_name', 'ViT-B-32'], "--model_name is CLIP_benchmark's spelling; clip-bench calls it --model"],
    [['--num_workers', '4'], "--num_workers is CLIP_benchmark's spelling; clip-bench calls it --workers"],
    [['--exclude_failures'], 'unknown option --exclude_failures. Did you mean --exclude-failures?'],
    [['--model'], '--model needs a value'],
    [['--zzzzzzzz'], 'unknown option --zzzzzzzz'],
  ])('%j → %s', (args, message) => {
    expect(checkArgv([...base, ...args], evalTable)?.message).toBe(message);
  });

  it.each([[[]], [['--limit', '10', '--threads', '-1']], [['--no-cache', '--json']], [['--batchSize', '8']], [['--limit=5', '--', '--not-an-option']]])('accepts %j', (args) => {
    expect(checkArgv([...base, ...args], evalTable)).toBeNull();
  });
});

describe.skipIf(!built)('the CLI: one line, exit code 2', () => {
  it.each(COMMANDS.map((c) => c.command.split(' ')[0]))('%s: a typo of one of its options gets "did you mean"', (name) => {
    const cmd = COMMANDS.find((c) => c.command.split(' ')[0] === name)!;
    const table = optionTableOf(cmd);
    const option = [...table.names].find((n) => n.length >= 4 && n !== 'help' && n !== 'version') ?? 'help';
    const typo = option.slice(0, 2) + option.slice(3); // one letter dropped
    const r = cli([name, `--${typo}`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`unknown option --${typo}. Did you mean --${option}?`);
  });

  it('--limit abc says "abc", and CLIP_benchmark flags name clip-bench\'s', () => {
    const a = cli(['eval', ...base, '--limit', 'abc']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/^clip-bench: --limit takes a number, got "abc"/);
    expect(a.stderr).not.toContain('NaN');
    const b = cli(['eval', '--model', 'm', '--dataset', 'imagefolder', '--dataset_root', 'r']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--dataset_root is CLIP_benchmark's spelling; clip-bench calls it --root/);
    expect(b.stderr).not.toContain('Missing required');
  });
});

describe('--model pointing at the wrong thing', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-model-arg-'));
    const towers = toyTowers(fixtureTexts(loadPromptSet('colours').templates));
    await writeModelLayout(path.join(tmp, 'immich'), towers, 'immich');
    await writeModelLayout(path.join(tmp, 'hf'), towers, 'hf-split');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const message = (dir: string) => {
    try {
      detectLayout(dir);
    } catch (err) {
      return (err as { oneLine(): string }).oneLine();
    }
    return 'no error';
  };

  it('a model file that exists: pass the folder above it, not "folder not found"', () => {
    const m = message(path.join(tmp, 'immich', 'visual', 'model.onnx'));
    expect(m).not.toContain('not found');
    expect(m).toContain(`is a file; --model takes the model folder — pass the model folder above it: --model ${path.join(tmp, 'immich')}`);
    expect(message(path.join(tmp, 'hf', 'onnx', 'vision_model.onnx'))).toContain(`--model ${path.join(tmp, 'hf')}`);
  });

  it('a subfolder of an export (immich/visual, hf/onnx): pass the parent, not a manifest', () => {
    for (const [sub, root] of [[path.join(tmp, 'immich', 'visual'), path.join(tmp, 'immich')], [path.join(tmp, 'hf', 'onnx'), path.join(tmp, 'hf')]]) {
      const m = message(sub);
      expect(m).not.toContain('manifest');
      expect(m).toContain(`pass the export's own folder, the parent: --model ${root}`);
    }
  });

  it.skipIf(!built)('a 0-byte model.onnx "is empty", on one line', () => {
    const dir = path.join(tmp, 'empty');
    spawnSync('cp', ['-r', path.join(tmp, 'immich'), dir]);
    writeFileSync(path.join(dir, 'textual', 'model.onnx'), '');
    const r = cli(['inspect', '--model', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${path.join(dir, 'textual', 'model.onnx')}: model file is empty (0 bytes)`);
  });
});

/**
 * The clip-bench command line. Each subcommand lives in its own file; this one wires them up and is the
 * only place where an error becomes an exit code: a UsageError (the user's mistake) prints one line and
 * exits 2, anything else is a bug and prints its stack with exit 1.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../errors.js';
import { dbUsageError } from '../store/db.js';
import { ablationCommand } from './ablation.js';
import { checkCommandLine } from './argv-check.js';
import { benchCommand } from './bench.js';
import { cacheCommand } from './cache.js';
import { compareCommand } from './compare.js';
import { costCommand } from './cost.js';
import { datasetsCommand } from './datasets.js';
import { demoCommand } from './demo.js';
import { evalCommand } from './eval.js';
import { importCommand } from './import.js';
import { inspectCommand } from './inspect.js';
import { lsCommand } from './ls.js';
import { mergeCommand } from './merge.js';
import { predictionsCommand } from './predictions.js';
import { preprocessCommand } from './preprocess.js';
import { reportCommand } from './report.js';
import { runsCommand } from './runs.js';
import { suiteCommand } from './suite.js';
import { tokenizeCommand } from './tokenize.js';

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS = [
  evalCommand,
  suiteCommand,
  predictionsCommand,
  runsCommand,
  reportCommand,
  compareCommand,
  ablationCommand,
  mergeCommand,
  importCommand,
  cacheCommand,
  benchCommand,
  costCommand,
  inspectCommand,
  tokenizeCommand,
  preprocessCommand,
  datasetsCommand,
  lsCommand,
  demoCommand,
] as const;

export function buildCli(argv: string[]) {
  let y = yargs(argv)
    .scriptName('clip-bench')
    .usage('$0 <command> [options]\n\nReproduce CLIP zero-shot image classification on ONNX checkpoints.');
  for (const cmd of COMMANDS) y = y.command(cmd as never);
  return y
    .demandCommand(1, 'Name a command; `clip-bench --help` lists them.')
    .strict()
    .recommendCommands()
    .epilogue('Examples:\n  clip-bench demo\n  clip-bench eval --model DIR --dataset imagefolder --root PATH --json\n  clip-bench report --format md')
    .fail((msg, err) => {
      throw err ?? new UsageError(msg, { fix: 'see `clip-bench --help` or `clip-bench <command> --help`' });
    })
    .help()
    .wrap(Math.min(110, process.stdout.columns || 100));
}

/**
 * A reader that closed stdout early (`clip-bench predictions --run 1 | head -3`) has taken all it wants:
 * end quietly with exit code 0, as `cat` does, instead of an EPIPE stack trace. Commands that stream check
 * `stdoutClosed()` (output.ts) to stop writing.
 */
function endQuietlyOnClosedStdout(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(0);
  process.stderr.write(`clip-bench: cannot write to stdout: ${err.message}\n`);
  process.exit(1);
}

export async function main(argv = hideBin(process.argv)): Promise<void> {
  if (!process.stdout.listeners('error').includes(endQuietlyOnClosedStdout)) process.stdout.on('error', endQuietlyOnClosedStdout);
  try {
    // what the user typed, checked before yargs turns a typo into "Missing required argument" or "abc" into NaN
    const problem = checkCommandLine(argv, COMMANDS as unknown as Parameters<typeof checkCommandLine>[1]);
    if (problem) throw problem;
    await buildCli(argv).parseAsync();
  } catch (caught) {
    // SQLite's own failures (full disk, read-only or damaged file) are the user's to fix: one line too.
    const err = dbUsageError(caught) ?? caught;
    if (err instanceof UsageError) {
      process.stderr.write(`clip-bench: ${err.oneLine()}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`clip-bench: internal error (please report it)\n${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}


/**
 * Checks a subcommand's raw arguments before yargs sees them, because yargs loses what the user typed:
 * `--limit abc` becomes NaN, an empty `--batch-size` the default, a typo or CLIP_benchmark's spelling
 * ("--dataset_root") a "Missing required argument". Pure: the option table comes from the command's own
 * builder, so every subcommand gets the same checks.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { editDistance, UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';

export interface OptionTable {
  /** the command's name as typed: `eval`, `preprocess` */
  command: string;
  names: ReadonlySet<string>;
  numbers: ReadonlySet<string>;
  strings: ReadonlySet<string>;
  booleans: ReadonlySet<string>;
}

interface CommandModule {
  command: string;
  builder: (y: Argv) => unknown;
}

/** The options a subcommand's builder declares (help and version included), read from a throwaway yargs. */
export function optionTableOf(cmd: CommandModule): OptionTable {
  const y = yargs([]);
  cmd.builder(y);
  const o = (y as unknown as { getOptions(): unknown }).getOptions() as { key: Record<string, unknown>; number: string[]; string: string[]; boolean: string[]; alias: Record<string, string[]> };
  const names = new Set([...Object.keys(o.key), ...Object.values(o.alias).flat()]);
  return { command: cmd.command.split(' ')[0], names, numbers: new Set(o.number), strings: new Set(o.string), booleans: new Set(o.boolean) };
}

interface ForeignFlags {
  tool: string;
  /** their flag → ours, or null where clip-bench has no equivalent */
  flags: Record<string, string | null>;
}

let foreign: ForeignFlags | undefined;
/** CLIP_benchmark's flag spellings (configs/cli/foreign-flags.json). */
function foreignFlags(): ForeignFlags {
  return (foreign ??= JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'cli', 'foreign-flags.json'), 'utf8')) as ForeignFlags);
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
/** A token that is a value, not an option: anything not starting with "-", or a negative number. */
const isValue = (t: string | undefined): t is string => t !== undefined && (!t.startsWith('-') || /^-\d|^-\.\d/.test(t));

/** The option a typed name means (yargs also accepts camelCase and --no-<boolean>), or undefined. */
function resolveName(name: string, t: OptionTable): string | undefined {
  if (t.names.has(name)) return name;
  if (t.names.has(kebab(name))) return kebab(name);
  if (name.startsWith('no-') && t.booleans.has(name.slice(3))) return name.slice(3);
  return undefined;
}

function unknownOption(name: string, t: OptionTable): UsageError {
  const help = `\`clip-bench ${t.command} --help\` lists its options`;
  const flag = `--${name}`;
  const theirs = foreignFlags();
  if (Object.hasOwn(theirs.flags, name)) {
    const ours = theirs.flags[name];
    if (ours !== null && t.names.has(ours)) return new UsageError(`${flag} is ${theirs.tool}'s spelling; clip-bench calls it --${ours}`, { fix: help });
    return new UsageError(`${flag} is ${theirs.tool}'s option; \`clip-bench ${t.command}\` has no equivalent`, { fix: help });
  }
  const hyphenated = name.replace(/_/g, '-');
  if (hyphenated !== name && t.names.has(hyphenated)) return new UsageError(`unknown option ${flag}. Did you mean --${hyphenated}?`, { fix: help });
  const visible = [...t.names].filter((n) => n.length > 1);
  const best = visible.sort((a, b) => editDistance(name, a) - editDistance(name, b))[0];
  const close = best !== undefined && editDistance(name, best) <= Math.max(2, Math.floor(best.length / 3));
  return new UsageError(close ? `unknown option ${flag}. Did you mean --${best}?` : `unknown option ${flag}`, { fix: help });
}

/**
 * The first problem in a subcommand's arguments (everything after the command name), or null:
 * an unknown option (with "did you mean" or the clip-bench name of a CLIP_benchmark flag), a number
 * option without a value or with one that is not a number, a string option without a value.
 * @example checkArgv(['--batchsize', '8'], evalTable)?.message // → 'unknown option --batchsize. Did you mean --batch-size?'
 * @example checkArgv(['--limit', 'abc'], evalTable)?.message // → '--limit takes a number, got "abc"'
 */
export function checkArgv(args: readonly string[], t: OptionTable): UsageError | null {
  for (let i = 0; i < args.length; i++) {
    const token = args[i];
    if (token === '--') break; // the rest are positionals
    if (!token.startsWith('--')) continue; // positionals and short flags: yargs checks those
    const eq = token.indexOf('=');
    const typed = eq < 0 ? token.slice(2) : token.slice(2, eq);
    const name = resolveName(typed, t);
    if (name === undefined) return unknownOption(typed, t);
    if (!t.numbers.has(name) && !t.strings.has(name)) continue;
    let value: string | undefined;
    if (eq >= 0) value = token.slice(eq + 1);
    else if (isValue(args[i + 1])) value = args[++i];
    if (value === undefined || value.trim() === '') {
      return new UsageError(`--${name} needs a ${t.numbers.has(name) ? 'number' : 'value'}${value === undefined ? '' : ', got ""'}`, { fix: `\`clip-bench ${t.command} --help\` describes it` });
    }
    if (t.numbers.has(name) && !Number.isFinite(Number(value))) {
      return new UsageError(`--${name} takes a number, got ${JSON.stringify(value)}`, { fix: `\`clip-bench ${t.command} --help\` describes it` });
    }
  }
  return null;
}

/** `checkArgv` for a whole command line: finds the subcommand among `commands`; null if there is none. */
export function checkCommandLine(argv: readonly string[], commands: readonly CommandModule[]): UsageError | null {
  const cmd = commands.find((c) => c.command.split(' ')[0] === argv[0]);
  return cmd ? checkArgv(argv.slice(1), optionTableOf(cmd)) : null;
}

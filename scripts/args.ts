/**
 * Option parsing for the scripts: `node:util` parseArgs, plus `--help` (prints the script's usage) and,
 * for an unknown or malformed option, one line with the usage and exit code 2 instead of a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export function scriptArgs<O extends Options>(name: string, usage: string, options: O): ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options }).values;
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message.split('\n')[0]} — usage: ${usage.trim().split('\n')[0]}\n`);
    process.exit(2);
  }
}

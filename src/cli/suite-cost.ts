/**
 * `suite --cost`: each model's cost on this machine (`clip-bench cost`) measured where the DB has none yet for its
 * fingerprint, variant, provider and machine. Measured in a child process of its own: peak RSS is a process's
 * lifetime maximum, so a suite that has already run other models would report theirs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineDescription } from '../eval/cost.js';
import { listCosts } from '../store/cost.js';
import { openDb } from '../store/db.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface CostArgs {
  db: string;
  variant?: string;
  provider?: 'cpu' | 'cuda';
  threads?: number;
  workers: number;
  'batch-size': number;
}

/** Whether the DB holds a cost record for this model on this machine. */
export function hasCost(dbFile: string, fingerprint: string, variant: string, provider: string): boolean {
  if (!existsSync(dbFile)) return false;
  const db = openDb(dbFile, { readonly: true });
  try {
    const machine = machineDescription();
    return listCosts(db).some((c) => c.fingerprint === fingerprint && c.variant === variant && c.executionProvider === provider && c.machine === machine);
  } finally {
    db.close();
  }
}

/** The `clip-bench cost` command line for a model folder, with the suite's own settings. */
export function costArgv(a: CostArgs, dir: string): string[] {
  return [
    MAIN, 'cost', '--model', dir, '--db', a.db, '--batch-size', String(a['batch-size']), '--workers', String(a.workers),
    ...(a.variant ? ['--variant', a.variant] : []),
    ...(a.provider ? ['--provider', a.provider] : []),
    ...(a.threads !== undefined ? ['--threads', String(a.threads)] : []),
  ];
}

/**
 * Measures the model's cost unless the DB has it: 'measured', 'stored earlier', or the reason it could not be
 * measured (the child's one-line error).
 */
export function ensureCost(a: CostArgs, dir: string, loaded: { fingerprint: string; variant: string }): { status: 'measured' | 'stored earlier' } | { status: 'failed'; reason: string } {
  if (hasCost(a.db, loaded.fingerprint, loaded.variant, a.provider ?? 'cpu')) return { status: 'stored earlier' };
  const r = spawnSync(process.execPath, costArgv(a, dir), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status === 0) return { status: 'measured' };
  const line = (r.stderr ?? '').trim().split('\n').filter(Boolean).at(-1) ?? `exit code ${r.status ?? r.signal}`;
  return { status: 'failed', reason: `cost not measured: ${line.replace(/^clip-bench: /, '')}` };
}

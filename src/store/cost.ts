/** The `model_costs` table: one measured cost record per model fingerprint × variant × provider × machine. */
import type { Db } from './db.js';

export interface CostRecord {
  fingerprint: string;
  variant: string;
  executionProvider: string;
  machine: string;
  modelName: string;
  measuredAt: string;
  batchSize: number;
  imagesPerSecond: number;
  latencyMs: number;
  promptsPerSecond: number;
  peakRssMiB: number;
  sizeBytes: number;
  parameters: number;
  imageFlops: number | null;
  textFlops: number | null;
  flopsNote: string | null;
  settings: Record<string, unknown>;
}

const COLUMNS = {
  fingerprint: 'model_fingerprint', variant: 'variant', executionProvider: 'execution_provider', machine: 'machine', modelName: 'model_name', measuredAt: 'measured_at',
  batchSize: 'batch_size', imagesPerSecond: 'images_per_second', latencyMs: 'latency_ms', promptsPerSecond: 'prompts_per_second', peakRssMiB: 'peak_rss_mib',
  sizeBytes: 'size_bytes', parameters: 'parameters', imageFlops: 'image_flops', textFlops: 'text_flops', flopsNote: 'flops_note', settings: 'settings',
} as const satisfies Record<keyof CostRecord, string>;

/** Stores `r`, replacing an earlier measurement of the same model, variant, provider and machine. */
export function putCost(db: Db, r: CostRecord): void {
  const keys = Object.keys(COLUMNS) as (keyof CostRecord)[];
  db.prepare(`INSERT OR REPLACE INTO model_costs (${keys.map((k) => COLUMNS[k]).join(', ')}) VALUES (${keys.map((k) => `@${k}`).join(', ')})`).run({
    ...r,
    settings: JSON.stringify(r.settings),
  });
}

/** Every stored cost record, newest measurement first; none from a DB made before the table (read-only opens do not migrate). */
export function listCosts(db: Db): CostRecord[] {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'model_costs'").get()) return [];
  const select = (Object.entries(COLUMNS) as [keyof CostRecord, string][]).map(([k, c]) => `${c} AS ${k}`).join(', ');
  const rows = db.prepare(`SELECT ${select} FROM model_costs ORDER BY measured_at DESC`).all() as (Omit<CostRecord, 'settings'> & { settings: string })[];
  return rows.map((r) => ({ ...r, settings: JSON.parse(r.settings) as Record<string, unknown> }));
}

/**
 * The README's pictures of the report: a fixture DB of 10 Immich-named models × the paper-zero-shot suite's
 * 27 datasets (src/fixtures/matrix-db.ts), its HTML report beside a published result table in open_clip's
 * `openclip_results.csv` format (made up here from the fixture's own cells, one model left without a row), and
 * screenshots in headless Chromium at 1400 px: the results matrix (docs/report-matrix.png) and the group
 * averages with accuracy against cost (docs/report-groups-cost.png). No number in them means anything.
 *
 *   npm run report:screenshot                                   # → docs/report-matrix.png (and the page beside it in results/)
 *   npm run report:screenshot -- --out /tmp/shot.png --width 1200
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderReport } from '../src/cli/report.js';
import { MATRIX_MODELS, writeMatrixDb } from '../src/fixtures/matrix-db.js';
import { mulberry32 } from '../src/fixtures/random.js';
import { parseModelName } from '../src/models/model-name.js';
import { publishedMappings } from '../src/references/published-reference.js';
import { collectReport } from '../src/report/report-data.js';
import { openDb } from '../src/store/db.js';
import { packageRoot } from '../src/paths.js';
import { scriptArgs } from './args.js';

const USAGE = `
npm run report:screenshot                                   # → docs/report-matrix.png (and the page beside it in results/)
npm run report:screenshot -- --out /tmp/shot.png --width 1200
  --out FILE       the PNG to write (default docs/report-matrix.png)
  --width PX       the browser's viewport width (default 1400)
  --chromium FILE  the browser (default /usr/bin/chromium)
`;
const values = scriptArgs('report-screenshot', USAGE, {
  out: { type: 'string', default: path.join(packageRoot, 'docs', 'report-matrix.png') },
  width: { type: 'string', default: '1400' },
  chromium: { type: 'string', default: '/usr/bin/chromium' },
});
const width = Number(values.width);
if (!Number.isInteger(width) || width < 320) {
  process.stderr.write(`report-screenshot: --width must be a whole number of pixels ≥ 320, got ${values.width}\n`);
  process.exit(2);
}
if (!existsSync(values.chromium)) {
  process.stderr.write(`report-screenshot: ${values.chromium} not found: install Debian's chromium (apt-get install chromium) or pass --chromium FILE\n`);
  process.exit(2);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-report-screenshot-'));
const dbFile = path.join(tmp, 'results.sqlite');
// one model without Kinetics-700, as after a failed dataset: an empty cell
const cells = writeMatrixDb(dbFile, { missing: [`${MATRIX_MODELS.at(-1)}/kinetics700`] });
const html = path.join(packageRoot, 'results', 'report-matrix.html');
mkdirSync(path.dirname(html), { recursive: true });
const published = path.join(tmp, 'openclip_results.csv');
writeFileSync(published, publishedCsv(dbFile));
writeFileSync(html, renderReport(dbFile, 'html', {}, published));

/**
 * A stand-in for open_clip's docs/openclip_results.csv, in its format: one row per fixture model but the last,
 * each mapped column the model's own headline moved by a seeded ±3 points, as fractions.
 */
function publishedCsv(db: string): string {
  const columns = publishedMappings().openclip.datasets;
  const handle = openDb(db, { readonly: true });
  try {
    const t = collectReport(handle, { details: false }).table;
    const random = mulberry32(17);
    const rows = t.rows.slice(0, -1).map((r) => {
      const { architecture, pretrained } = parseModelName(r.model);
      const values = columns.map((m) => {
        const j = t.columnDatasets.indexOf(m.dataset);
        const v = j >= 0 ? r.cells[j]?.headlineValue : undefined;
        return v === undefined || v === null ? '' : Math.min(1, Math.max(0, v + (random() - 0.5) * 0.06)).toFixed(4);
      });
      return [architecture, pretrained, ...values].join(',');
    });
    return [['name', 'pretrained', ...columns.map((m) => m.from[0])].join(','), ...rows].join('\n') + '\n';
  } finally {
    handle.close();
  }
}

const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: values.chromium, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
try {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
  mkdirSync(path.dirname(values.out), { recursive: true });
  // the header, the answer and the results section with its legends: what a reader sees first
  const box = await page.locator('section#results').boundingBox();
  if (!box) throw new Error('the report has no results section');
  await page.screenshot({ path: values.out, fullPage: true, clip: { x: 0, y: 0, width, height: Math.ceil(box.y + box.height) } });
  // the group averages and the first rows of accuracy-against-cost plots
  const groups = await page.locator('section#group-averages').boundingBox();
  const cost = await page.locator('section#cost').boundingBox();
  if (groups && cost) {
    const second = path.join(path.dirname(values.out), 'report-groups-cost.png');
    await page.screenshot({ path: second, fullPage: true, clip: { x: 0, y: Math.floor(groups.y), width, height: Math.ceil(Math.min(cost.y + cost.height, cost.y + 900) - groups.y) } });
    process.stdout.write(`screenshot ${path.relative(process.cwd(), second)}\n`);
  } else process.stderr.write('report-screenshot: no group averages or cost section in the page\n');
  process.stdout.write(`${cells.length} cells (${new Set(cells.map((c) => c.model)).size} models × ${new Set(cells.map((c) => c.dataset)).size} datasets) → ${path.relative(process.cwd(), html)}, screenshot ${path.relative(process.cwd(), values.out)} at ${width} px\n`);
} finally {
  await browser.close();
}

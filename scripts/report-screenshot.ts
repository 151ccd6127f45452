/**
 * The README's picture of the report: a fixture DB of 10 Immich-named models × the paper-zero-shot suite's
 * 27 datasets (src/fixtures/matrix-db.ts), its HTML report against the paper's ViT-B/32, and a screenshot of
 * the results matrix in headless Chromium at 1400 px.
 *
 *   npm run report:screenshot                                   # → docs/report-matrix.png (and the page beside it in results/)
 *   npm run report:screenshot -- --out /tmp/shot.png --width 1200
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderReport } from '../src/cli/report.js';
import { MATRIX_MODELS, MATRIX_PAPER_MODEL, writeMatrixDb } from '../src/fixtures/matrix-db.js';
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
writeFileSync(html, renderReport(dbFile, 'html', { reference: MATRIX_PAPER_MODEL }));

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
  process.stdout.write(`${cells.length} cells (${new Set(cells.map((c) => c.model)).size} models × ${new Set(cells.map((c) => c.dataset)).size} datasets) → ${path.relative(process.cwd(), html)}, screenshot ${path.relative(process.cwd(), values.out)} at ${width} px\n`);
} finally {
  await browser.close();
}

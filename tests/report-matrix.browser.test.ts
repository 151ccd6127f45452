/**
 * The report of 10 models × the 27 datasets of paper-zero-shot (the fixture DB of src/fixtures/matrix-db.ts,
 * one cell left out) in a real headless Chromium at 1400 px: the matrix fits without a horizontal scroll (its
 * container's and the document's), every SVG plot has a title, a legend and axis labels, each Δ cell's
 * background is blue above the paper and red below it as its Δ (recomputed here from the builder's counts)
 * says; the screenshot is kept as a CI artifact in results/ci/report-1400.png.
 * Without /usr/bin/chromium the browser part is skipped with a message, except under CI where it fails.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSuites, loadSuite } from '../src/eval/suite.js';
import { costGroups } from '../src/report/report-data.js';
import { renderReport } from '../src/cli/report.js';
import { MATRIX_MODELS, MATRIX_PAPER_MODEL, writeMatrixDb, type MatrixFixtureCell } from '../src/fixtures/matrix-db.js';
import { paperCell } from '../src/report/paper.js';
import { packageRoot } from '../src/paths.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const haveBrowser = existsSync(CHROMIUM);
const inCi = !!process.env.CI && process.env.CI !== 'false';
if (!haveBrowser && !inCi) console.warn(`report-matrix.browser.test: skipping the Chromium checks: ${CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it under CI)`);

/** Where .ci/run looks for the screenshot it names at the end. */
const SCREENSHOT = path.join(packageRoot, 'results', 'ci', 'report-1400.png');
const WIDTH = 1400;
const LEFT_OUT = `${MATRIX_MODELS[9]}/kinetics700`;

let reportFile: string;
let cells: MatrixFixtureCell[];

beforeAll(() => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-report-matrix-'));
  const dbFile = path.join(tmp, 'results.sqlite');
  cells = writeMatrixDb(dbFile, { missing: [LEFT_OUT] });
  reportFile = path.join(tmp, 'report.html');
  writeFileSync(reportFile, renderReport(dbFile, 'html', { reference: MATRIX_PAPER_MODEL }));
});

describe.skipIf(!haveBrowser && !inCi)('the 10 × 27 report in headless Chromium at 1400 px', () => {
  let browser: import('playwright-core').Browser | undefined;
  let page: import('playwright-core').Page;
  const problems: string[] = [];
  beforeAll(async () => {
    if (!haveBrowser) throw new Error(`CI is set but ${CHROMIUM} is missing: .ci/run should have installed Debian's chromium package`);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: WIDTH, height: 900 } });
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    page.on('request', (r) => void (!r.url().startsWith('file:') && problems.push(`request: ${r.url()}`)));
    await page.goto(pathToFileURL(reportFile).href, { waitUntil: 'load' });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('the matrix and the page fit 1400 px: no horizontal scroll; screenshot kept in results/ci/', async () => {
    // a string, as the page's own code: this project's TypeScript has no DOM types
    const widths = (await page.evaluate(`(() => {
      const wrap = document.querySelector('.matrix-wrap');
      const doc = document.documentElement;
      return { wrapScroll: wrap.scrollWidth, wrapClient: wrap.clientWidth, docScroll: doc.scrollWidth, docClient: doc.clientWidth };
    })()`)) as { wrapScroll: number; wrapClient: number; docScroll: number; docClient: number };
    expect(widths.wrapScroll).toBeLessThanOrEqual(widths.wrapClient);
    expect(widths.docScroll).toBeLessThanOrEqual(widths.docClient);
    expect(widths.docClient).toBe(WIDTH);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(problems).toEqual([]);
  });

  it('ten model columns under the runs\' model names, 27 dataset rows with short labels and their legend, n in each cell', async () => {
    expect(await page.locator('table.matrix th.model').allTextContents()).toEqual([...MATRIX_MODELS].sort((a, b) => a.localeCompare(b)));
    expect(await page.locator('table.matrix tbody tr:not(.mean)').count()).toBe(27);
    const shorts = await page.locator('table.matrix tbody tr:not(.mean) th.ds').allTextContents();
    expect(shorts.slice(0, 3)).toEqual(['IN', 'Food', 'C10']); // ImageNet first, then Table 11's order
    const legend = await page.locator('p.legend[data-legend="datasets"] abbr').allTextContents();
    expect(legend.sort()).toEqual([...shorts].sort());
    const n = await page.locator('table.matrix td.cell .n').allTextContents();
    expect(n).toHaveLength(cells.length);
    expect(new Set(n)).toEqual(new Set(['n=30']));
    // the cell left out reads as a dash
    expect(await page.locator('table.matrix td.muted', { hasText: '–' }).count()).toBe(1);
  });

  it('every Δ cell\'s background is blue above the paper, red below, as its Δ from the builder\'s counts', async () => {
    const tds = (await page.evaluate(`[...document.querySelectorAll('table.matrix td.cell[data-delta]')].map((el) => ({ title: el.getAttribute('title'), delta: Number(el.getAttribute('data-delta')), bg: getComputedStyle(el).backgroundColor }))`)) as {
      title: string;
      delta: number;
      bg: string;
    }[];
    expect(tds).toHaveLength(cells.length); // ViT-B/32 has a paper number on each of the 27
    let checked = 0;
    for (const td of tds) {
      const [r, , b] = td.bg.match(/\d+/g)!.map(Number);
      if (td.delta > 0) expect(b, td.title).toBeGreaterThan(r);
      else if (td.delta < 0) expect(r, td.title).toBeGreaterThan(b);
      else expect(td.bg).toBe('rgb(255, 255, 255)');
      // where the headline is top-1, Δ recomputed from the builder's own count of right samples
      const c = cells.find((x) => td.title.startsWith(`${x.model} on ${x.dataset} ·`))!;
      if (c.headline === 'top1') {
        expect(td.delta, td.title).toBeCloseTo((100 * c.correct) / c.n - paperCell(c.dataset, MATRIX_PAPER_MODEL)!.value, 6);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(150);
    expect(await page.locator('.scale-legend[data-legend="delta"]').textContent()).toMatch(/Δ = ours − reference, in points:−\d+\+\d+/);
  });

  it('every SVG plot has a title, a legend and axis labels', async () => {
    const plots = await page.locator('figure.plot svg').evaluateAll((els) =>
      els.map((el) => ({ plot: el.closest('figure')!.getAttribute('data-plot'), title: el.querySelector(':scope > title')?.textContent ?? '', legend: el.querySelectorAll('.legend text').length, axes: el.querySelectorAll('.axis-label').length })),
    );
    // ten ours-vs-paper plots, a reliability diagram per run, two cost scatters per group: each suite group some
    // model ran whole, and the mean over the datasets every model ran where no group has just those
    expect(plots.filter((p) => p.plot === 'ours-vs-paper')).toHaveLength(10);
    expect(plots.filter((p) => p.plot === 'reliability')).toHaveLength(cells.length);
    const ran = new Set(cells.map((c) => `${c.model}/${c.dataset}`));
    const models = [...new Set(cells.map((c) => c.model))];
    const groups = costGroups(listSuites().map(loadSuite)).filter((g) => models.some((m) => g.datasets.every((d) => ran.has(`${m}/${d}`))));
    const common = [...new Set(cells.map((c) => c.dataset))].filter((d) => models.every((m) => ran.has(`${m}/${d}`)));
    const meanIsAGroup = groups.some((g) => g.datasets.length === common.length && g.datasets.every((d) => common.includes(d)));
    expect(groups.length).toBeGreaterThan(3); // ImageNet, the VTAB groups, …: not one per dataset
    expect(plots.filter((p) => p.plot?.startsWith('cost-')).length).toBe(2 * (groups.length + (meanIsAGroup ? 0 : 1)));
    for (const p of plots) {
      expect(p.title, p.plot!).not.toBe('');
      expect(p.legend, `${p.plot}: ${p.title}`).toBeGreaterThan(0);
      expect(p.axes, `${p.plot}: ${p.title}`).toBeGreaterThan(0);
    }
  });
});

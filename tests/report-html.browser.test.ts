/**
 * The HTML report and comparison pages in a real headless Chromium (Debian's `chromium`, driven with
 * playwright-core): built from a DB with demo and fixture runs — the toy CLIP with two prompt sets, a
 * random-weight CLIP in fp32 and its fp16 variant — they render, their tables and every plot are present
 * and sized, nothing logs an error or requests anything; a screenshot goes to results/.
 * Without /usr/bin/chromium the browser part is skipped with a message, except under CI where it fails.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../src/cli/report.js';
import { runZeroShot, type EvalResult } from '../src/eval/zero-shot.js';
import { DEMO_PROMPTS, writeDemo, type DemoPaths } from '../src/fixtures/demo.js';
import { fixtureTexts, writeClipArch } from '../src/fixtures/fixture-models.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet } from '../src/prompts/prompt-set.js';
import { compareRuns } from '../src/report/compare.js';
import { runRetrieval } from '../src/eval/retrieval.js';
import { comparisonHtml, retrievalComparisonHtml } from '../src/report/html.js';
import { compareStoredRetrievalRuns } from '../src/report/retrieval-runs.js';
import { openDb } from '../src/store/db.js';
import { createRun, finishRun, getRun, insertPredictions, iteratePredictions, type PredictionRow } from '../src/store/runs.js';
import type { Db } from '../src/store/db.js';
import { resolvePrompts } from '../src/prompts/prompt-set.js';
import { runIdentity } from './support/run-identity.js';
import { flickrImages, writeImages, writeKarpathy } from './support/retrieval-writers.js';

/**
 * A recorded run of a paper dataset (no such images here): `correct` of `n` samples right, spread over
 * the prompt set's classes; mistakes predict the next class. Without `confidence` it looks like a run made
 * before schema v3.
 */
function recordRun(db: Db, dataset: string, n: number, correct: number, confidence: boolean): number {
  const set = loadPromptSet(dataset);
  const classIds = Object.keys(set.classes!);
  const prompts = resolvePrompts(set, classIds, dataset);
  const id = createRun(
    db,
    runIdentity({
      modelName: 'recorded',
      modelFingerprint: 'b'.repeat(64),
      dataset,
      datasetRoot: `/data/${dataset}`,
      split: 'test',
      nClasses: classIds.length,
      promptSet: dataset,
      promptHash: prompts.hash,
      params: { headline: 'top1', classIds, nTemplates: set.templates.length, excludeFailures: false, preprocess: { size: 224 } },
      identity: `recorded-${dataset}`,
    }),
  );
  const rows: PredictionRow[] = Array.from({ length: n }, (_, i) => {
    const label = i % classIds.length;
    const top1 = i < correct ? label : (label + 1) % classIds.length;
    const top5 = [0, 1, 2, 3, 4].map((k) => (top1 + k) % classIds.length);
    return { idx: i, key: `${i}.jpg`, label, top5, top5Logits: [30, 28, 27, 26, 25], error: null, ...(confidence ? { confidence: 0.6 } : {}) };
  });
  insertPredictions(db, id, rows);
  finishRun(db, id, { n, nFailed: 0, top1: correct / n, top5: 1, metrics: { top1: { value: correct / n } }, timings: {} });
  return id;
}

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const haveBrowser = existsSync(CHROMIUM);
const inCi = !!process.env.CI && process.env.CI !== 'false';
if (!haveBrowser && !inCi) console.warn(`report-html.browser.test: skipping the Chromium checks: ${CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it under CI)`);

const PER_CLASS = 4;
let tmp: string;
let dbFile: string;
let demo: DemoPaths;
const runs: Record<'toyColours' | 'toySingle' | 'tinyFp32' | 'tinyFp16', EvalResult> = {} as never;
let reportFile: string;
let compareFile: string;
let fp16Sentence: string;
let retrievalReportFile: string;
let retrievalCompareFile: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-report-html-'));
  dbFile = path.join(tmp, 'results.sqlite');
  demo = await writeDemo(path.join(tmp, 'demo'), PER_CLASS);
  const tiny = path.join(tmp, 'tiny');
  // and a retrieval fixture: 11 Flickr30k test images, 5–7 captions each
  const images = flickrImages(Array<string>(11).fill('test'), [5, 5, 6, 5, 7, 5, 5, 5, 5, 5, 5]);
  const flickr = path.join(tmp, 'flickr30k');
  writeKarpathy(flickr, 'flickr30k', images);
  await writeImages(flickr, 'flickr30k-images', images);
  const texts = [...fixtureTexts(loadPromptSet(DEMO_PROMPTS).templates), ...fixtureTexts(loadPromptSet('single').templates), ...images.flatMap((im) => im.captions)];
  await writeClipArch(tiny, 'tiny', texts, { layout: 'hf-split', fp16Variant: true });
  const db = openDb(dbFile);
  const ev = (modelDir: string, prompts: string, variant?: string) =>
    runZeroShot(db, { modelDir, variant, dataset: 'imagefolder', root: demo.root, prompts, batchSize: 8, workers: 1 });
  runs.toyColours = await ev(demo.model, DEMO_PROMPTS);
  runs.toySingle = await ev(demo.model, 'single');
  runs.tinyFp32 = await ev(tiny, DEMO_PROMPTS);
  runs.tinyFp16 = await ev(tiny, DEMO_PROMPTS, 'fp16');
  const A = { run: getRun(db, runs.tinyFp32.runId), predictions: [...iteratePredictions(db, runs.tinyFp32.runId)] };
  const B = { run: getRun(db, runs.tinyFp16.runId), predictions: [...iteratePredictions(db, runs.tinyFp16.runId)] };
  const c = compareRuns(A, B, { seed: 1, iterations: 2000 });
  fp16Sentence = c.sentence;
  // ViT-B/32 in the paper: CIFAR10 91.3 (verified), Birdsnap 37.8 (unverified)
  recordRun(db, 'cifar10', 100, 90, true); // 90.00: Δ −1.30, beyond ±1
  recordRun(db, 'birdsnap', 500, 190, false); // 38.00: Δ +0.20, within; no stored confidences
  // two retrieval runs (fp32, fp16): the report's retrieval section and the retrieval comparison page
  const rv = (variant?: string) => runRetrieval(db, { modelDir: tiny, variant, dataset: 'flickr30k', root: flickr, batchSize: 8, workers: 1 });
  const [rA, rB] = [await rv(), await rv('fp16')];
  retrievalCompareFile = path.join(tmp, 'retrieval-compare.html');
  writeFileSync(retrievalCompareFile, retrievalComparisonHtml(compareStoredRetrievalRuns(db, getRun(db, rA.runId), getRun(db, rB.runId), { seed: 1 })));
  db.close();
  retrievalReportFile = path.join(tmp, 'report-retrieval.html');
  writeFileSync(retrievalReportFile, renderReport(dbFile, 'html', { reference: 'ViT-L/14@336px' }));
  reportFile = path.join(tmp, 'report.html');
  writeFileSync(reportFile, renderReport(dbFile, 'html', { reference: 'ViT-B/32' }));
  compareFile = path.join(tmp, 'compare.html');
  writeFileSync(compareFile, comparisonHtml(c));
});

describe('the pages as built (no browser)', () => {
  it('the fp16-vs-fp32 comparison reads naturally and counts the flips the predictions show', () => {
    const db = openDb(dbFile, { readonly: true });
    const a = [...iteratePredictions(db, runs.tinyFp32.runId)];
    const b = [...iteratePredictions(db, runs.tinyFp16.runId)];
    db.close();
    const right = (p: PredictionRow) => p.top5![0] === p.label;
    const changed = a.filter((p, i) => p.top5![0] !== b[i].top5![0]).length;
    const lost = a.filter((p, i) => right(p) && !right(b[i])).length;
    const won = a.filter((p, i) => !right(p) && right(b[i])).length;
    const verb = won > lost ? 'gains' : won < lost ? 'loses' : 'matches fp32';
    // the verb follows the interval, which covers 0 when flips balance; never the model name twice
    expect(fp16Sentence).toMatch(new RegExp(`^fp16 (${verb}|matches fp32)`));
    expect(fp16Sentence).toContain(changed === 0 ? 'no predictions change' : `${((100 * changed) / a.length).toFixed(1)}% of predictions change`);
  });

  it('is self-contained: no script, no external URL, every plot an inline SVG with a title', () => {
    for (const file of [reportFile, compareFile, retrievalReportFile, retrievalCompareFile]) {
      const html = readFileSync(file, 'utf8');
      expect(html).not.toMatch(/<script|<link|src="http|href="http|@import|url\(/i);
      const svgs = html.match(/<svg [^>]*>\n<title>[^<]+<\/title>/g) ?? [];
      expect(svgs.length).toBe((html.match(/<svg /g) ?? []).length);
      for (const s of svgs) expect(s).toMatch(/width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
    }
  });
});

describe.skipIf(!haveBrowser && !inCi)('in headless Chromium', () => {
  let browser: import('playwright-core').Browser | undefined;
  beforeAll(async () => {
    if (!haveBrowser) throw new Error(`CI is set but ${CHROMIUM} is missing: .ci/run should have installed Debian's chromium package`);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a page; returns what the browser reported. */
  async function open(file: string) {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => void problems.push(`request failed: ${r.url()}`));
    page.on('request', (r) => void (!r.url().startsWith('file:') && problems.push(`request: ${r.url()}`)));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, problems };
  }

  async function sized(page: import('playwright-core').Page, selector: string): Promise<number> {
    const els = await page.$$(selector);
    for (const el of els) {
      const box = await el.boundingBox();
      expect(box, selector).not.toBeNull();
      expect(box!.width, selector).toBeGreaterThan(0);
      expect(box!.height, selector).toBeGreaterThan(0);
    }
    return els.length;
  }

  it('the report renders its tables and every plot, sized, without errors or requests; screenshot in results/', async () => {
    const { page, problems } = await open(reportFile);
    expect(await page.title()).toBe('clip-bench report');
    // four checkpoints (toy, tiny fp32, tiny fp16, recorded): four model columns and one ours-vs-paper plot each;
    // four dataset columns of the table (the toy's two prompt sets, CIFAR10, Birdsnap) are the matrix's rows, then the mean
    expect(await sized(page, 'table.matrix')).toBe(1);
    expect(await page.locator('table.matrix th.model').count()).toBe(4);
    expect(await page.locator('table.matrix tr').count()).toBe(1 + 4 + 1);
    expect(await sized(page, 'figure[data-plot="ours-vs-paper"] svg')).toBe(4);
    // the recorded runs: CIFAR10 flagged, Birdsnap within tolerance but an unverified paper cell
    expect(await page.locator('table.matrix td.flag').count()).toBe(1);
    expect(await page.locator('table.matrix td.flag').textContent()).toBe('90.0n=100Δ −1.3 ⚠'); // value, n, Δ to the paper
    expect(await page.locator('table.matrix td.flag').getAttribute('title')).toContain('top-1 90.00 · top-5 100.00 · n=100 · paper Table 11, ViT-B/32: 91.3');
    expect(await page.locator('table.matrix .note-mark').count()).toBe(1); // Birdsnap's unverified paper cell
    expect(await page.textContent('p.answer')).toContain('1 of 2 results within ±1 points');
    // the screenshot shows the page as a reader first sees it, per-run sections collapsed
    mkdirSync(path.join(packageRoot, 'results'), { recursive: true });
    await page.screenshot({ path: path.join(packageRoot, 'results', 'report-screenshot.png'), fullPage: true });
    // expanding them is the test's doing; the page itself has no script
    await page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })");
    // the suite mean of the recorded model: (90 + 38) / 2 against the paper's (91.3 + 37.8) / 2 = 64.55
    const models = await page.locator('table.matrix th.model').allTextContents();
    const recorded = page.locator('table.matrix tr.mean td.suite').nth(models.indexOf('recorded'));
    expect(await recorded.textContent()).toBe('64.02 dsΔ −0.5');
    expect(Number(await recorded.getAttribute('data-delta'))).toBeCloseTo(64 - 64.55, 9);
    // six runs shown (the toy's two prompt sets are two columns): provenance, details and a reliability diagram each
    expect(await sized(page, 'table.provenance')).toBe(1);
    expect(await page.locator('table.provenance tr').count()).toBe(1 + 6);
    expect(await sized(page, 'details.run')).toBe(6);
    expect(await sized(page, 'figure[data-plot="reliability"] svg')).toBe(6);
    expect(await page.locator('figure[data-plot="reliability"] svg title', { hasText: 'approximation' }).count()).toBe(1);
    // one row per class: eight colours in each demo run, 10 CIFAR10 and 500 Birdsnap classes
    const perClassRows = [];
    for (const t of await page.locator('table.per-class').all()) perClassRows.push((await t.locator('tr').count()) - 1);
    expect(perClassRows.sort((a, b) => a - b)).toEqual([8, 8, 8, 8, 10, 500]);
    // the toy model with two prompt sets on one dataset is a prompt ablation
    expect(await sized(page, 'table.ablation')).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the retrieval section renders per run, Table 13 beside ours with unverified badges; the retrieval comparison renders its six rows', async () => {
    const { page, problems } = await open(retrievalReportFile);
    expect(await sized(page, 'section#retrieval')).toBe(1);
    expect(await sized(page, 'table.retrieval')).toBe(2);
    // per run: header, 3 recalls + mean and median rank per direction, mean R@1
    for (const t of await page.locator('table.retrieval').all()) {
      expect(await t.locator('tr').count()).toBe(1 + 2 * 5 + 1);
      expect(await t.locator('.badge', { hasText: 'unverified' }).count()).toBe(6);
    }
    // the classification table is still there, unchanged in shape
    expect(await page.locator('table.matrix tr').count()).toBe(1 + 4 + 1);
    expect(problems).toEqual([]);
    await page.close();
    const cmp = await open(retrievalCompareFile);
    expect(await sized(cmp.page, 'table.stats')).toBe(1);
    expect(await cmp.page.locator('table.stats tr').count()).toBe(1 + 6);
    expect(await cmp.page.locator('p.answer').count()).toBe(2);
    expect(await cmp.page.textContent('h1')).toContain('fp16');
    expect(cmp.problems).toEqual([]);
    await cmp.page.close();
  });

  it('the comparison page renders its numbers and the per-class delta plot', async () => {
    const { page, problems } = await open(compareFile);
    expect(await sized(page, 'table.stats')).toBe(1);
    expect(await sized(page, 'figure[data-plot="class-deltas"] svg')).toBe(1);
    expect(await page.textContent('p.answer')).toBe(fp16Sentence);
    expect(problems).toEqual([]);
    await page.close();
  });
});

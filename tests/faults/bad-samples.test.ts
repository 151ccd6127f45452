/**
 * Faults in the images: a copy of the demo ImageFolder where some images are replaced by corrupt,
 * truncated, empty, mislabelled, unsupported, oversized or unreadable files. The run must finish,
 * record each bad sample with its reason, score the rest, and count failures as the options say.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, cpSync, openSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { formatEvalResult } from '../../src/cli/eval.js';
import { renderReport } from '../../src/cli/report.js';
import { runZeroShot, type EvalOptions, type EvalResult } from '../../src/eval/zero-shot.js';
import { writeDemo, type DemoPaths } from '../../src/fixtures/demo.js';
import { mulberry32 } from '../../src/fixtures/random.js';
import { openDb } from '../../src/store/db.js';
import { iteratePredictions, type PredictionRow } from '../../src/store/runs.js';
import { asNobody, cli, countRows, faultCategory, lines, permissionsIgnored, shareWithNobody, PNG_SIGNATURE, pngChunk, pngIhdr, requireBuilt, sleep, startCli, tmpDir } from './support/faults.js';

const c = faultCategory('bad-samples');

const PER_CLASS = 4; // 8 colours × 4 = 32 images; files 0000-0002 are JPEG, 0003 PNG
const TOTAL = 8 * PER_CLASS;

let tmp: string;
let demo: DemoPaths;
let root: string;
let dbDefault: string;
let dbExcluded: string;
let withFailures: EvalResult;
let excluded: EvalResult;
let rows: Map<string, PredictionRow>;

/** Each replaced sample (ImageFolder key) and the reason its error must give. */
const BAD: Record<string, { what: string; reason: RegExp }> = {
  'red/0000.jpg': { what: 'random bytes', reason: /^cannot decode image: .*unsupported image format/ },
  'green/0001.jpg': { what: 'a JPEG cut in half', reason: /^cannot decode image: .*premature end of JPEG/i },
  'blue/0002.jpg': { what: 'a zero-byte file', reason: /^cannot decode image: the file is empty$/ },
  'cyan/0003.png': { what: 'a text file named .png', reason: /^cannot decode image: .*unsupported image format/ },
  'magenta/0000.jpg': { what: 'an SVG named .jpg', reason: /^unsupported image format "svg"$/ },
  'white/0003.png': {
    what: 'a valid 20000×20000 1-bit PNG (48 KB, 400 megapixels)',
    reason: /^image is 20000x20000 = 400000000 pixels, above the limit of 178956970 \(decompression-bomb guard\)$/,
  },
};
/** Decodes fine: a PNG saved under a .jpg name is read by its content, as PIL does. */
const PNG_AS_JPG = 'yellow/0001.jpg';
/** chmod 000: only enforced for a user without CAP_DAC_OVERRIDE. */
const UNREADABLE = 'black/0002.jpg';
if (!permissionsIgnored) BAD[UNREADABLE] = { what: 'a file without read permission', reason: /^cannot read image: permission denied$/ };

const opts = (over: Partial<EvalOptions> = {}): EvalOptions => ({ modelDir: demo.model, dataset: 'imagefolder', root, prompts: 'colours', batchSize: 8, workers: 2, ...over });

/** A real, valid PNG of `side`² 1-bit pixels, all black: a few tens of KB that would decode to `side`² bytes. */
function pngBomb(side: number): Buffer {
  const row = 1 + Math.ceil(side / 8);
  const idat = deflateSync(Buffer.alloc(row * side), { level: 9 });
  return Buffer.concat([PNG_SIGNATURE, pngIhdr(side, side, 1, 0), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

beforeAll(async () => {
  requireBuilt();
  tmp = tmpDir('samples');
  demo = await writeDemo(path.join(tmp, 'demo'), PER_CLASS);
  root = path.join(tmp, 'bad');
  cpSync(demo.root, root, { recursive: true });
  const at = (key: string) => path.join(root, key);
  const rand = mulberry32(7);
  // random bytes that start like nothing we sniff (not JPEG, PNG, BMP or Netpbm)
  writeFileSync(at('red/0000.jpg'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i === 0 ? 0x00 : Math.floor(rand() * 256)))));
  const jpeg = readFileSync(at('green/0001.jpg'));
  writeFileSync(at('green/0001.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  truncateSync(at('blue/0002.jpg'), 0);
  writeFileSync(at('cyan/0003.png'), 'these are not the pixels you are looking for\n');
  writeFileSync(at('magenta/0000.jpg'), '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#f0f"/></svg>\n');
  writeFileSync(at('white/0003.png'), pngBomb(20000));
  writeFileSync(at(PNG_AS_JPG), await sharp(readFileSync(at(PNG_AS_JPG))).png().toBuffer());
  if (!permissionsIgnored) chmodSync(at(UNREADABLE), 0o000);

  dbDefault = path.join(tmp, 'default.sqlite');
  dbExcluded = path.join(tmp, 'excluded.sqlite');
  const a = openDb(dbDefault);
  withFailures = await runZeroShot(a, opts());
  rows = new Map([...iteratePredictions(a, withFailures.runId)].map((r) => [r.key, r]));
  a.close();
  const b = openDb(dbExcluded);
  excluded = await runZeroShot(b, opts({ excludeFailures: true }));
  b.close();
});

afterAll(() => {
  if (!permissionsIgnored && tmp) chmodSync(path.join(root, UNREADABLE), 0o644);
});

describe('bad samples are recorded, not fatal', () => {
  for (const [key, { what, reason }] of Object.entries(BAD).filter(([k]) => k !== UNREADABLE)) {
    c.fault(`${what} (${key}) is a failed prediction whose error says why`, () => {
      const row = rows.get(key);
      expect(row, `no prediction row for ${key}`).toBeDefined();
      expect(row!.top5).toBeNull();
      expect(row!.top5Logits).toBeNull();
      expect(row!.error).toMatch(reason);
    });
  }

  if (!permissionsIgnored) {
    c.fault('a file without read permission fails with "permission denied"', () => {
      expect(rows.get(UNREADABLE)?.error).toBe('cannot read image: permission denied');
    });
  } else {
    // As root chmod 000 does not stop our reads: the CLI runs as nobody, for whom it does.
    c.faultIf(asNobody !== undefined, 'running as root without setpriv (or nobody cannot reach the build): an unreadable file cannot be made', 'a file without read permission fails with "permission denied" (the CLI run as nobody)', async () => {
      const dir = path.join(tmp, 'as-nobody');
      cpSync(demo.model, path.join(dir, 'model'), { recursive: true });
      cpSync(demo.root, path.join(dir, 'images'), { recursive: true });
      shareWithNobody(dir);
      chmodSync(path.join(dir, 'images', UNREADABLE), 0o000);
      const db = path.join(dir, 'r.sqlite');
      const args = ['eval', '--model', path.join(dir, 'model'), '--dataset', 'imagefolder', '--root', path.join(dir, 'images'), '--prompts', 'colours', '--db', db, '--quiet', '--json', '--workers', '1'];
      const r = await startCli(args, { as: asNobody }).done;
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(JSON.parse(r.stdout)).toMatchObject({ n: TOTAL, nFailed: 1 });
      const read = openDb(db, { readonly: true });
      const byKey = new Map([...iteratePredictions(read, 1)].map((p) => [p.key, p]));
      read.close();
      expect(byKey.get(UNREADABLE)?.error).toBe('cannot read image: permission denied');
      expect([...byKey.values()].filter((p) => p.error !== null)).toHaveLength(1);
    });
  }

  c.fault(`a PNG saved with a .jpg extension (${PNG_AS_JPG}) decodes by its content and is scored (as PIL, which ignores the extension)`, () => {
    expect(readFileSync(path.join(root, PNG_AS_JPG)).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const row = rows.get(PNG_AS_JPG)!;
    expect(row.error).toBeNull();
    expect(row.top5![0]).toBe(row.label);
  });

  c.fault('every other sample is scored, and correctly (the toy CLIP gets every decodable demo image right)', () => {
    const good = [...rows.values()].filter((r) => !(r.key in BAD));
    expect(good).toHaveLength(TOTAL - Object.keys(BAD).length);
    for (const r of good) {
      expect(r.error, r.key).toBeNull();
      expect(r.top5, r.key).toHaveLength(5);
      expect(r.top5![0], r.key).toBe(r.label);
    }
    expect([...rows.values()].map((r) => r.idx).sort((x, y) => x - y)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
  });

  c.fault('by default failures count as wrong: n is the whole split and top-1 = decodable / total', () => {
    const failed = Object.keys(BAD).length;
    expect(withFailures).toMatchObject({ n: TOTAL, nFailed: failed, excludeFailures: false });
    expect(withFailures.top1).toBe((TOTAL - failed) / TOTAL);
    expect(withFailures.top5).toBe((TOTAL - failed) / TOTAL);
    expect(formatEvalResult(withFailures)).toContain(`over ${TOTAL} samples (${failed} failed to decode, counted as wrong)`);
  });

  c.fault('with excludeFailures only decoded samples are scored: n = decodable and top-1 = 1', () => {
    const failed = Object.keys(BAD).length;
    expect(excluded).toMatchObject({ n: TOTAL - failed, nFailed: failed, excludeFailures: true, top1: 1, top5: 1 });
    expect(formatEvalResult(excluded)).toContain(`over ${TOTAL - failed} samples (${failed} failed to decode and are excluded)`);
  });

  c.fault('`clip-bench report` states the failures of each run', () => {
    const failed = Object.keys(BAD).length;
    const a = cli(['report', '--db', dbDefault]);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain(`- run ${withFailures.runId}: ${failed} of ${TOTAL} samples failed to decode and count as wrong`);
    expect(a.stdout).toContain(`| ${((100 * (TOTAL - failed)) / TOTAL).toFixed(2)} / `);
    // the same report for the run that excludes them (in-process: the same renderer, one process start less)
    expect(renderReport(dbExcluded, 'md')).toContain(`- run ${excluded.runId}: ${failed} samples failed to decode and are excluded (scored over the ${TOTAL - failed} decoded)`);
    expect(renderReport(dbExcluded, 'csv').split('\n')[1]).toMatch(new RegExp(`,${excluded.runId},${TOTAL - failed},${failed},1,1$`));
  });
});

describe('files the listing trips on', () => {
  // torchvision lists a dangling symlink with an image extension as a sample (os.walk puts it among the files)
  // and then fails to open it: the run records it as failed ("no such file") and goes on.
  c.fault('a dangling symlink named like an image is a failed sample ("no such file"), not a crash of the listing', async () => {
    const dangling = path.join(tmp, 'dangling');
    cpSync(demo.root, dangling, { recursive: true });
    symlinkSync(path.join(tmp, 'no-such-target.jpg'), path.join(dangling, 'red', '0009.jpg'));
    const db = openDb(':memory:');
    const r = await runZeroShot(db, opts({ root: dangling }));
    expect(r).toMatchObject({ n: TOTAL + 1, nFailed: 1 });
    const row = [...iteratePredictions(db, r.runId)].find((p) => p.key === 'red/0009.jpg');
    expect(row?.error).toBe('cannot read image: no such file');
  });

  // torchvision's find_classes uses DirEntry.is_dir(), which is false for a broken link: not a class, no error.
  c.fault('a dangling symlink beside the class folders is not a class, not a crash of the listing', async () => {
    const dangling = path.join(tmp, 'dangling-class');
    cpSync(demo.root, dangling, { recursive: true });
    symlinkSync(path.join(tmp, 'no-such-folder'), path.join(dangling, 'zz-gone'));
    const r = await runZeroShot(openDb(':memory:'), opts({ root: dangling }));
    expect(r).toMatchObject({ n: TOTAL, nFailed: 0, top1: 1 });
  });

  // A FIFO (or device) named like an image would block its reader in open(2) for ever, and a worker thread
  // stuck there keeps even SIGTERM from ending the process. The listing takes regular files only, so the run
  // finishes without it (torchvision would hang).
  const haveMkfifo = spawnSync('mkfifo', ['--version']).status === 0;
  c.faultIf(haveMkfifo, 'no mkfifo on this machine', 'a FIFO named like an image is left out of the listing: the run finishes, no hang', async () => {
    const fifoRoot = path.join(tmp, 'fifo');
    cpSync(demo.root, fifoRoot, { recursive: true });
    const fifo = path.join(fifoRoot, 'red', '0009.jpg');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const db = path.join(tmp, 'fifo.sqlite');
    const run = startCli(['eval', '--model', demo.model, '--dataset', 'imagefolder', '--root', fifoRoot, '--prompts', 'colours', '--db', db, '--quiet', '--json', '--batch-size', '8']);
    const exited = await Promise.race([run.done.then(() => true), sleep(15_000).then(() => false)]);
    if (!exited) {
      // Unblock a reader stuck in open(2) (it then sees an empty file), then make sure the process is gone.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting after all
      }
      const gone = await Promise.race([run.done.then(() => true), sleep(3000).then(() => false)]);
      if (!gone) run.child.kill('SIGKILL');
      await run.done;
    }
    rmSync(fifo, { force: true });
    expect(exited, 'clip-bench eval still running 15 s after start: it hangs on the FIFO').toBe(true);
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ n: TOTAL, nFailed: 0, top1: 1 });
    expect(countRows(db, 'predictions', "WHERE key = 'red/0009.jpg'")).toBe(0);
    expect(lines(r.stderr)).toEqual([]);
  }, 30_000);
});

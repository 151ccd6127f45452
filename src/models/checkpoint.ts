/**
 * A CLIP checkpoint on disk: which files it uses (`layout.ts`), its tokenizer and preprocessing, and
 * two encoders that return L2-normalised embeddings whatever the export did. The graphs' signatures are
 * checked when the sessions open, so a wrong graph fails with one line instead of deep inside a run.
 */
import path from 'node:path';
import { folderModelName } from './model-name.js';
import { UsageError } from '../errors.js';
import { normaliseRows } from '../prompts/classifier.js';
import { fingerprintFiles } from './fingerprint.js';
import { detectLayout, type DetectedLayout, type ModelLayout, type TowerSpec } from './layout.js';
import { resolveTowerIO } from './tower-roles.js';
import {
  createSession,
  fixedBatch,
  floatData,
  floatToHalfArray,
  inputSignatures,
  ort,
  outputSignatures,
  resolveSessionOptions,
  type Session,
  type SessionOptions,
  type TensorSignature,
} from './onnx-session.js';
import { startInferenceThread, type InferenceThread } from './inference-thread.js';
import { fedTokenizerFiles, loadFedTokenizer, type FamilyId, type FedBatch, type FedTokenizer } from './tokenizer/index.js';
import { isSiglipCheckpoint, scoringLinkFor, solveLinkFromCombinedGraph, type ScoringLink, type StatedLink } from './scoring-link.js';
import { loadManifestPreprocess, loadSourcedPreprocessFromDir, type PreprocessConfig, type PreprocessConvention, type PreprocessSources } from './preprocess/index.js';

/** A tower's graph signature and the inputs and output it is fed by (the session may live in another thread). */
export interface TowerIO {
  file: string;
  /** every input and output of the graph, as onnxruntime reports them */
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  input: TensorSignature;
  output: TensorSignature;
  /** text graphs that take an attention mask */
  mask?: TensorSignature;
  /** the graph's fixed batch size, if its first axis is not dynamic */
  batch?: number;
  /** inputs or outputs resolved by shape, not by a known name (shown by `inspect`) */
  notes: string[];
}

/** A tower with its session in this thread. */
export interface Tower extends TowerIO {
  session: Session;
}

export interface Checkpoint {
  dir: string;
  name: string;
  layout: ModelLayout;
  variant: string;
  variants: string[];
  /** what loading assumed rather than read (layout by file names, default preprocessing, outputs by shape) */
  assumptions: string[];
  fingerprint: string;
  files: string[];
  embedDim: number;
  /** the text tower's family: how its rows are built and fed */
  family: FamilyId;
  /** the text tokenizer, with its family's rules: the rows `encodeTexts` feeds */
  textTokenizer: FedTokenizer;
  /**
   * whether text rows are cut after the longest row of each batch (CLIP on a dynamic sequence axis:
   * causal mask, end-of-text pooling) instead of fed at the full context length
   */
  cutsTextToLongest: boolean;
  preprocess: PreprocessConfig;
  /** where each preprocessing setting came from (recorded with runs, shown by `inspect`) */
  preprocessSources: PreprocessSources;
  /** how cosines become probabilities (`scoring-link.ts`): recorded with runs, used for confidence and calibration */
  scoring: ScoringLink;
  /** every session option in effect, defaults filled in (recorded with each run) */
  sessionOptions: Required<SessionOptions>;
  /** the image tower; with the inference worker on, its only session is the worker's */
  visual: TowerIO;
  textual: TowerIO;
  /**
   * images: [n, 3, size, size] float32 → [n, embedDim], unit rows. With the inference worker on, an array
   * from `imageBatch` is handed to the worker without a copy (and is detached from then on); any other
   * array is copied.
   */
  encodeImages(pixels: Float32Array, n: number): Promise<Float32Array>;
  /**
   * Starts the image encoder's worker thread now, e.g. while the prompts are encoded; otherwise it starts
   * on the first `encodeImages`. A no-op without the inference worker. Failures surface in `encodeImages`.
   */
  startImageEncoder(): void;
  /** a [n, 3, size, size] float32 array to fill (contents unspecified) and pass to `encodeImages`: transferred to the inference worker without a copy, and reused */
  imageBatch(n: number): Float32Array;
  /** texts → [texts.length, embedDim], unit rows */
  encodeTexts(texts: readonly string[]): Promise<Float32Array>;
  /**
   * Frees the text tower's session once a run has encoded its text side, so that the image phase does not
   * hold it (ViT-B/32's: ~300 MB); `encodeTexts` refuses afterwards. A no-op for a combined graph.
   */
  releaseTextEncoder(): Promise<void>;
  release(): Promise<void>;
}

export interface LoadOptions {
  variant?: string;
  /** a tokenizer file or folder to use instead of the checkpoint's own (`--tokenizer`) */
  tokenizer?: string;
  session?: Partial<SessionOptions>;
  /** where an exporter's preprocessing differs from the reference's, whose to follow */
  preprocessConvention?: PreprocessConvention;
  /** `--logit-scale` / `--logit-bias` */
  scoring?: StatedLink;
  /** feed all `contextLength` tokens even to graphs with a dynamic sequence axis (for benchmarks) */
  fullLengthText?: boolean;
  /** the language of the text side (`--language`): NLLB tokenizers put its code before the text */
  language?: string;
  /** reuse the fingerprint computed earlier for files unchanged since (`fingerprint.ts`; default true) */
  fingerprintMemo?: boolean;
}

export type Feeds = Record<string, InstanceType<ReturnType<typeof ort>['Tensor']>>;

function describeSigs(sigs: TensorSignature[]): string {
  return sigs.map((s) => `${s.name} ${s.type}[${s.shape.join(',')}]`).join(', ');
}

/** Opens one tower of `session`: its input, embedding output and mask resolved by role (`tower-roles.ts`), then checked. */
export function openTower(file: string, session: Session, spec: TowerSpec, kind: 'image' | 'text'): Tower {
  return { ...towerIO(file, inputSignatures(session), outputSignatures(session), spec, kind), session };
}

/** A tower's input, embedding output and mask resolved from the graph's signatures by role (`tower-roles.ts`), then checked. */
export function towerIO(file: string, ins: TensorSignature[], outs: TensorSignature[], spec: TowerSpec, kind: 'image' | 'text'): TowerIO {
  const { input, output, mask, notes } = resolveTowerIO(ins, outs, kind, spec, file);
  if (!input || !output) {
    const wanted = spec.exact ? `${kind} input ${spec.inputs.join('|')} and output ${spec.outputs.join('|')}` : `a ${kind} ${!input ? (kind === 'image' ? 'pixel input' : 'token-id input') : 'embedding output'}`;
    throw new UsageError(
      `expected ${wanted}; the graph has inputs [${describeSigs(ins)}] and outputs [${describeSigs(outs)}]`,
      { file, fix: spec.exact ? 'fix the names in clip-bench.json' : 'use the export\'s own layout, or name the inputs and outputs in a clip-bench.json manifest' },
    );
  }
  const ok = kind === 'image' ? ['float32', 'float16'] : ['int32', 'int64'];
  const rank = kind === 'image' ? 4 : 2;
  if (!ok.includes(input.type) || input.shape.length !== rank) {
    throw new UsageError(`${kind} input "${input.name}" is ${input.type}[${input.shape.join(',')}], expected rank ${rank} ${ok.join(' or ')}`, {
      file,
      fix: kind === 'image' ? 'the image graph must take [N, 3, H, W] pixels' : 'the text graph must take [N, L] token ids',
    });
  }
  if (!['float32', 'float16'].includes(output.type)) {
    throw new UsageError(`output "${output.name}" is ${output.type}, expected float32 or float16 embeddings`, { file });
  }
  if (mask && !['int32', 'int64'].includes(mask.type)) throw new UsageError(`attention mask "${mask.name}" is ${mask.type}, expected int32 or int64`, { file });
  return { file, inputs: ins, outputs: outs, input, output, mask, batch: fixedBatch(input), notes };
}

function tensor(type: string, data: Float32Array | Int32Array | BigInt64Array | Uint16Array, dims: number[]) {
  return new (ort().Tensor)(type as 'float32', data as Float32Array, dims);
}

/** Converts int32 ids or mask values to the graph's integer type. */
function idsAs(type: string, ids: Int32Array): Int32Array | BigInt64Array {
  return type === 'int64' ? BigInt64Array.from(ids, (v) => BigInt(v)) : ids;
}

/**
 * Runs a tower on n rows, in chunks of its fixed batch size (padding the last) or all at once.
 * `feeds(start, rows, feedRows)` builds the inputs of one chunk.
 * @returns [n, dim] float32, dim read from the output's last axis
 */
async function runTower(tower: Tower, n: number, feeds: (start: number, rows: number, feedRows: number) => Feeds): Promise<{ data: Float32Array; dim: number }> {
  const chunk = tower.batch ?? Math.max(n, 1);
  let out: Float32Array | undefined;
  let dim = 0;
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const feedRows = tower.batch ?? rows;
    const result = (await tower.session.run(feeds(start, rows, feedRows), [tower.output.name]))[tower.output.name];
    if (result.dims.length !== 2 || result.dims[0] !== feedRows) {
      throw new UsageError(`output "${tower.output.name}" has shape [${result.dims}], expected [${feedRows}, embedding size]`, {
        file: tower.file,
        fix: 'this is not an embedding output; name the right one in a clip-bench.json manifest',
      });
    }
    dim = result.dims[1];
    out ??= new Float32Array(n * dim);
    out.set(floatData(result).subarray(0, rows * dim), start * dim);
  }
  return { data: out ?? new Float32Array(0), dim };
}

/** The first `len` columns of a row-major [rows, width] array. */
function takeColumns<T extends Int32Array>(data: T, rows: number, width: number, len: number): T {
  const out = new (data.constructor as new (n: number) => T)(rows * len);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * width, r * width + len) as never, r * len);
  return out;
}

/** Rows [start, start+rows) of a row-major array, zero-padded to feedRows rows. */
function rowsOf<T extends Float32Array | Int32Array | BigInt64Array>(data: T, rowSize: number, start: number, rows: number, feedRows: number): T {
  const slice = data.subarray(start * rowSize, (start + rows) * rowSize) as T;
  if (feedRows === rows) return slice;
  const padded = new (data.constructor as new (len: number) => T)(feedRows * rowSize);
  padded.set(slice as never);
  return padded;
}

/** The image graph's input for rows [start, start+rows) of [n, 3, size, size] pixels, padded to feedRows. */
function imageFeedsOf(visual: TowerIO, size: number, pixels: Float32Array, start: number, rows: number, feedRows: number): Feeds {
  const chunk = rowsOf(pixels, 3 * size * size, start, rows, feedRows);
  return { [visual.input.name]: tensor(visual.input.type, visual.input.type === 'float16' ? floatToHalfArray(chunk) : chunk, [feedRows, 3, size, size]) };
}

/**
 * The text graph's inputs for rows [start, start+rows) of fed rows [n, L] (padded with empty rows to
 * feedRows): the ids, and the attention mask where the graph takes one. With `cutToLongest` (CLIP on a
 * dynamic sequence axis) the rows are cut after the longest one of the chunk; otherwise all L are fed.
 */
export function textFeedsOf(textual: TowerIO, L: number, cutToLongest: boolean, fed: FedBatch, start: number, rows: number, feedRows: number): Feeds {
  let len = L;
  if (cutToLongest) {
    len = 1;
    for (let r = start; r < start + rows; r++) len = Math.max(len, fed.mask.subarray(r * L, (r + 1) * L).reduce((a, b) => a + b, 0));
  }
  const cut = (data: Int32Array) => {
    const chunk = rowsOf(data, L, start, rows, feedRows);
    return len === L ? chunk : takeColumns(chunk, feedRows, L, len);
  };
  const feeds: Feeds = { [textual.input.name]: tensor(textual.input.type, idsAs(textual.input.type, cut(fed.ids)), [feedRows, len]) };
  if (textual.mask) feeds[textual.mask.name] = tensor(textual.mask.type, idsAs(textual.mask.type, cut(fed.mask)), [feedRows, len]);
  return feeds;
}

/**
 * The image tower on n rows of pixels → [n, dim] unit rows: the one code path of both this thread and
 * the inference worker, so their embeddings are bit-identical. `extra` adds the inputs a combined graph
 * needs for its text tower.
 */
export async function encodeImagesOn(visual: Tower, size: number, pixels: Float32Array, n: number, extra?: () => Feeds): Promise<{ data: Float32Array; dim: number }> {
  const r = await runTower(visual, n, (start, rows, feedRows) => ({ ...(extra ? extra() : {}), ...imageFeedsOf(visual, size, pixels, start, rows, feedRows) }));
  return { data: normaliseRows(r.data, r.dim), dim: r.dim };
}

/** The text tokenizer to load: `--tokenizer`, else the manifest's, else the file the layout found, else the folder. */
function textTokenizerSource(dir: string, layout: DetectedLayout, override: string | undefined): string {
  if (override !== undefined) return path.resolve(override);
  if (layout.manifest) return path.join(dir, layout.manifest.tokenizer);
  return layout.tokenizer === undefined ? dir : path.join(dir, layout.tokenizer);
}

/**
 * The files the fingerprint covers: the layout's, plus the files a `--tokenizer` override reads (paths
 * relative to `dir`; an override outside it keeps its `../` path). The layout's own tokenizer files stay:
 * some of them (config.json) are read for more than the tokenizer, and covering an unread file is safe.
 */
function checkpointFiles(dir: string, layout: DetectedLayout, tokenizerSource: string, overridden: boolean): string[] {
  if (!overridden) return layout.files;
  const rel = (f: string) => path.relative(dir, f).split(path.sep).join('/');
  return [...new Set([...layout.files, ...fedTokenizerFiles(tokenizerSource).map(rel)])];
}

/** An onnxruntime error in a few words: `Gather: indices element out of data bounds, …` (its source location dropped). */
function ortReason(err: unknown): string {
  const line = String((err as Error).message ?? err).split('\n')[0];
  const op = /while running (\w+) node/.exec(line)?.[1];
  const status = (/Status Message: (.*)$/.exec(line)?.[1] ?? line).replace(/^\S+:\d+ [^(]*\([^)]*\) /, '');
  return `onnxruntime: ${op ? `${op}: ` : ''}${status}`.slice(0, 240);
}

/**
 * Runs the text tower once on a full-length blank row (the context must fit the graph, even a dynamic
 * one whose position table is shorter) and once with the tokenizer's largest id in it (the vocabulary must
 * fit the embedding table: onnxruntime's Gather refuses ids past its end). Returns the embedding size.
 */
async function probeTextTower(textual: Tower, tok: FedTokenizer, blank: FedBatch, feeds: (fed: FedBatch) => Feeds): Promise<number> {
  // a probe's failure is reported in one line: onnxruntime's own error log is kept quiet for it (4: fatal only)
  const run = async (fed: FedBatch) => (await textual.session.run(feeds(fed), [textual.output.name], { logSeverityLevel: 4 }))[textual.output.name].dims.at(-1) as number;
  let dim: number;
  try {
    dim = await run(blank);
  } catch (err) {
    throw new UsageError(`the text graph fails on a row of ${tok.contextLength} tokens, the tokenizer's context length (${ortReason(err)})`, {
      file: textual.file,
      fix: 'use the tokenizer this text model was exported with, or set its context length ("contextLength" in clip-bench.json)',
    });
  }
  const withMax = { ids: Int32Array.from(blank.ids), mask: blank.mask };
  withMax.ids[0] = tok.maxId;
  try {
    await run(withMax);
  } catch (err) {
    throw new UsageError(`the tokenizer's ids go up to ${tok.maxId}, past the text model's embedding table (${ortReason(err)})`, {
      file: tok.source,
      fix: 'use the tokenizer this text model was trained with (--tokenizer FILE)',
    });
  }
  return dim;
}

/** Opens the checkpoint in `dir`: detects its layout, loads tokenizer and preprocessing, creates the sessions. */
export async function loadCheckpoint(dir: string, opts: LoadOptions = {}): Promise<Checkpoint> {
  const sessionOptions = resolveSessionOptions(opts.session);
  const convention = opts.preprocessConvention ?? 'reference';
  const layout = detectLayout(dir, opts.variant, { tokenizer: opts.tokenizer });
  const m = layout.manifest;
  const tokenizerSource = textTokenizerSource(dir, layout, opts.tokenizer);
  const tokenizer = loadFedTokenizer(tokenizerSource, { language: opts.language, ...(m?.contextLength ? { contextLength: m.contextLength } : {}) });
  const { config: preprocess, sources: preprocessSources } = m ? loadManifestPreprocess(dir, m.preprocess, convention) : loadSourcedPreprocessFromDir(dir, { convention });

  const visualFile = path.join(dir, layout.visual.file);
  const textualFile = path.join(dir, layout.textual.file);
  const size = preprocess.size;
  const pixelRow = 3 * size * size;
  const L = tokenizer.contextLength;
  /** Inputs the combined graph needs for the tower not being run: one blank row. */
  const blank = tokenizer.batch(['']);
  /**
   * Only CLIP (causal mask, pooled at <|endoftext|>) may be cut after the longest row of each batch on a
   * dynamic sequence axis. SigLIP pools the last position and XLM-R / NLLB were trained on full rows:
   * they always get the full context length (SigLIP padded to the longest prompt loses ~70 points on MNIST).
   * Set once the text graph is open (before any worker of a combined graph starts, which feeds a blank row).
   */
  let cutToLongest = false;

  // With the inference worker on, the image encoder lives in its own thread. For separate towers the
  // worker's session is the image tower's only one, opened at once so that it loads while this thread opens
  // the text tower and hashes the files: one copy of the image weights in memory, not two, and a faster start.
  // A combined graph keeps its session here too (it is also the text tower); its worker starts on first use.
  const useThread = sessionOptions.inferenceWorker;
  let thread: Promise<InferenceThread> | undefined;
  let started: InferenceThread | undefined;
  let visualHere: Session | undefined;
  let textualHere: Session | undefined;
  let textReleased = false;
  const startThread = () =>
    (thread ??= startInferenceThread({
      file: visualFile,
      spec: layout.visual,
      size,
      session: sessionOptions,
      ...(layout.combined ? { blankText: { spec: layout.textual, fed: { ids: Int32Array.from(blank.ids), mask: Int32Array.from(blank.mask) }, contextLength: L, cutToLongest } } : {}),
    }).then((t) => (started = t)));
  const releaseAll = async () => {
    if (thread) await (await thread.catch(() => undefined))?.close();
    await visualHere?.release();
    if (textualHere !== visualHere && !textReleased) await textualHere?.release();
  };
  if (useThread && !layout.combined) startThread().catch(() => undefined); // awaited below, where its failure is reported

  try {
    const files = checkpointFiles(dir, layout, tokenizerSource, opts.tokenizer !== undefined);
    const fingerprinting = fingerprintFiles(dir, files, { memo: opts.fingerprintMemo });
    fingerprinting.catch(() => undefined); // awaited below
    if (!useThread || layout.combined) visualHere = await createSession(visualFile, sessionOptions);
    textualHere = layout.combined ? visualHere : await createSession(textualFile, sessionOptions);
    const visualSignature = visualHere ? { ins: inputSignatures(visualHere), outs: outputSignatures(visualHere) } : await thread!.then((t) => ({ ins: t.inputs, outs: t.outputs }));
    const visual = towerIO(visualFile, visualSignature.ins, visualSignature.outs, layout.visual, 'image');
    const textual = openTower(textualFile, textualHere!, layout.textual, 'text');

    // Pixel and context sizes stated by the graphs must agree with the preprocessing and the tokenizer.
    const [, channels, h, w] = visual.input.shape;
    if ((typeof channels === 'number' && channels !== 3) || (typeof h === 'number' && h !== preprocess.size) || (typeof w === 'number' && w !== preprocess.size)) {
      throw new UsageError(`image input "${visual.input.name}" expects [N,${channels},${h},${w}] but preprocessing gives [N,3,${preprocess.size},${preprocess.size}]`, {
        file: visualFile,
        fix: 'the preprocessing config does not belong to this graph; fix its size',
      });
    }
    const ctx = textual.input.shape[1];
    if (typeof ctx === 'number' && ctx !== tokenizer.contextLength) {
      throw new UsageError(`text input "${textual.input.name}" expects ${ctx} tokens but the tokenizer gives ${tokenizer.contextLength}`, {
        file: textualFile,
        fix: 'set the context length in the tokenizer config (or "contextLength" in clip-bench.json)',
      });
    }

    /** the image tower where it runs in this thread (no worker, or a combined graph before its worker) */
    const visualTower = (): Tower => ({ ...visual, session: visualHere! });
    const blankImage = (): Feeds => imageFeeds(new Float32Array(pixelRow), 0, 1, 1);
    const blankText = (): Feeds => textFeeds(blank, 0, 1, 1);
    const imageFeeds = (pixels: Float32Array, start: number, rows: number, feedRows: number) => imageFeedsOf(visual, size, pixels, start, rows, feedRows);
    cutToLongest = tokenizer.family === 'clip' && typeof textual.input.shape[1] !== 'number' && !opts.fullLengthText;
    const textFeeds = (fed: FedBatch, start: number, rows: number, feedRows: number) => textFeedsOf(textual, L, cutToLongest, fed, start, rows, feedRows);
    const ownBatches = new WeakSet<ArrayBufferLike>();

    const ckpt: Checkpoint = {
      dir,
      name: folderModelName(dir),
      layout: layout.layout,
      variant: layout.variant,
      variants: layout.variants,
      assumptions: [...layout.assumptions, ...visual.notes, ...textual.notes],
      fingerprint: await fingerprinting,
      files,
      embedDim: 0,
      family: tokenizer.family,
      textTokenizer: tokenizer,
      cutsTextToLongest: cutToLongest,
      preprocess,
      preprocessSources,
      scoring: scoringLinkFor(dir, { stated: opts.scoring }),
      sessionOptions,
      visual,
      textual,
      async encodeImages(pixels, n) {
        if (useThread) {
          const t = await startThread();
          const r = await t.encode(pixels, n, ownBatches.has(pixels.buffer) && pixels.byteOffset === 0);
          checkDim(visual, r.dim);
          return r.data;
        }
        const r = await encodeImagesOn(visualTower(), size, pixels, n, layout.combined ? blankText : undefined);
        checkDim(visual, r.dim);
        return r.data;
      },
      startImageEncoder() {
        if (useThread) startThread().catch(() => undefined); // the error is reported by encodeImages
      },
      imageBatch(n) {
        // a buffer the worker gave back, else a new one: the same two or three buffers circulate all run
        const reused = started?.takeBuffer(n * pixelRow * 4);
        const a = reused ? new Float32Array(reused, 0, n * pixelRow) : new Float32Array(n * pixelRow);
        ownBatches.add(a.buffer);
        return a;
      },
      async encodeTexts(texts) {
        if (textReleased) throw new Error('the text encoder was released (releaseTextEncoder) before encodeTexts');
        const batch = tokenizer.batch(texts);
        const r = await runTower(textual, texts.length, (start, rows, feedRows) => ({
          ...(layout.combined ? blankImage() : {}),
          ...textFeeds(batch, start, rows, feedRows),
        }));
        checkDim(textual, r.dim);
        return normaliseRows(r.data, r.dim);
      },
      async releaseTextEncoder() {
        if (layout.combined || textReleased) return;
        textReleased = true;
        await textualHere?.release();
      },
      release: releaseAll,
    };
    function checkDim(tower: TowerIO, dim: number): void {
      if (dim !== ckpt.embedDim) {
        throw new UsageError(`embedding size ${dim} differs from the model's ${ckpt.embedDim}`, { file: tower.file, fix: 'use the visual and textual files of one export' });
      }
    }
    // The embedding size: from the graphs' output shapes, else by encoding one empty prompt.
    const stated = [visual.output.shape.at(-1), textual.output.shape.at(-1)].map((d) => (typeof d === 'number' ? d : undefined));
    if (stated[0] !== undefined && stated[1] !== undefined && stated[0] !== stated[1]) {
      throw new UsageError(`image embeddings have ${stated[0]} dimensions but text embeddings ${stated[1]}`, {
        file: dir,
        fix: 'the two towers come from different models; use the visual and textual files of one export',
      });
    }
    const probeImage = async () =>
      visualHere
        ? (await runTower(visualTower(), 1, (s0, rows, feedRows) => ({ ...(layout.combined ? blankText() : {}), ...imageFeeds(new Float32Array(pixelRow), s0, rows, feedRows) }))).dim
        : (await (await startThread()).encode(new Float32Array(pixelRow), 1, false)).dim;
    const textDim = await probeTextTower(textual, tokenizer, blank, (fed) => ({ ...(layout.combined ? blankImage() : {}), ...textFeedsOf(textual, L, false, fed, 0, 1, textual.batch ?? 1) }));
    ckpt.embedDim = stated[0] ?? stated[1] ?? textDim;
    if (stated[0] === undefined || stated[1] === undefined) {
      const probe = await probeImage();
      if (probe !== ckpt.embedDim) {
        throw new UsageError(`image embeddings have ${probe} dimensions but text embeddings ${ckpt.embedDim}`, {
          file: dir,
          fix: 'the two towers come from different models; use the visual and textual files of one export',
        });
      }
    }
    // A SigLIP combined graph states its trained scale and bias: one image and two texts solve them exactly.
    if (layout.combined && opts.scoring?.logitScale === undefined && isSiglipCheckpoint(dir)) {
      const pair = tokenizer.batch(['a photo of a cat', '']);
      const solved = await solveLinkFromCombinedGraph(visualHere!, { ...blankImage(), ...textFeeds(pair, 0, 2, 2) }, { image: visual.output.name, text: textual.output.name });
      if (solved) ckpt.scoring = scoringLinkFor(dir, { stated: opts.scoring, solved: { ...solved, file: visualFile } });
    }
    return ckpt;
  } catch (err) {
    await releaseAll().catch(() => undefined); // the load's own error is the one to report
    throw err;
  }
}

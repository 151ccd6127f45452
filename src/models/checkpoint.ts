/**
 * A CLIP checkpoint on disk: which files it uses (`layout.ts`), its tokenizer and preprocessing, and
 * two encoders that return L2-normalised embeddings whatever the export did. The graphs' signatures are
 * checked when the sessions open, so a wrong graph fails with one line instead of deep inside a run.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { normaliseRows } from '../prompts/classifier.js';
import { fingerprintFiles } from './fingerprint.js';
import { detectLayout, type ModelLayout, type TowerSpec } from './layout.js';
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
import { loadTokenizerFile, loadTokenizerFromDir, type ClipTokenizer } from './tokenizer/index.js';
import { isSiglipCheckpoint, scoringLinkFor, solveLinkFromCombinedGraph, type ScoringLink, type StatedLink } from './scoring-link.js';
import { loadManifestPreprocess, loadSourcedPreprocessFromDir, type PreprocessConfig, type PreprocessConvention, type PreprocessSources } from './preprocess/index.js';

export interface Tower {
  file: string;
  session: Session;
  input: TensorSignature;
  output: TensorSignature;
  /** text graphs that take an attention mask */
  mask?: TensorSignature;
  /** the graph's fixed batch size, if its first axis is not dynamic */
  batch?: number;
  /** inputs or outputs resolved by shape, not by a known name (shown by `inspect`) */
  notes: string[];
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
  tokenizer: ClipTokenizer;
  preprocess: PreprocessConfig;
  /** where each preprocessing setting came from (recorded with runs, shown by `inspect`) */
  preprocessSources: PreprocessSources;
  /** how cosines become probabilities (`scoring-link.ts`): recorded with runs, used for confidence and calibration */
  scoring: ScoringLink;
  /** every session option in effect, defaults filled in (recorded with each run) */
  sessionOptions: Required<SessionOptions>;
  visual: Tower;
  textual: Tower;
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
  release(): Promise<void>;
}

export interface LoadOptions {
  variant?: string;
  session?: Partial<SessionOptions>;
  /** where an exporter's preprocessing differs from the reference's, whose to follow */
  preprocessConvention?: PreprocessConvention;
  /** `--logit-scale` / `--logit-bias` */
  scoring?: StatedLink;
  /** feed all `contextLength` tokens even to graphs with a dynamic sequence axis (for benchmarks) */
  fullLengthText?: boolean;
  /** the language of the text side (`--language`): NLLB tokenizers put its code before the text */
  language?: string;
}

export type Feeds = Record<string, InstanceType<ReturnType<typeof ort>['Tensor']>>;

function describeSigs(sigs: TensorSignature[]): string {
  return sigs.map((s) => `${s.name} ${s.type}[${s.shape.join(',')}]`).join(', ');
}

/** Opens one tower of `session`: its input, embedding output and mask resolved by role (`tower-roles.ts`), then checked. */
export function openTower(file: string, session: Session, spec: TowerSpec, kind: 'image' | 'text'): Tower {
  const ins = inputSignatures(session);
  const outs = outputSignatures(session);
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
  return { file, session, input, output, mask, batch: fixedBatch(input), notes };
}

function tensor(type: string, data: Float32Array | Int32Array | BigInt64Array | Uint16Array, dims: number[]) {
  return new (ort().Tensor)(type as 'float32', data as Float32Array, dims);
}

/** Converts ids to the graph's integer type. */
function idsAs(type: string, ids: Int32Array | BigInt64Array): Int32Array | BigInt64Array {
  if (type === 'int64') return ids instanceof BigInt64Array ? ids : BigInt64Array.from(ids, (v) => BigInt(v));
  return ids instanceof Int32Array ? ids : Int32Array.from(ids, (v) => Number(v));
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
function takeColumns<T extends Int32Array | BigInt64Array>(data: T, rows: number, width: number, len: number): T {
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
function imageFeedsOf(visual: Tower, size: number, pixels: Float32Array, start: number, rows: number, feedRows: number): Feeds {
  const chunk = rowsOf(pixels, 3 * size * size, start, rows, feedRows);
  return { [visual.input.name]: tensor(visual.input.type, visual.input.type === 'float16' ? floatToHalfArray(chunk) : chunk, [feedRows, 3, size, size]) };
}

/** The text graph's inputs for rows [start, start+rows) of [n, L] ids; with `dynamicSequence`, cut after the longest <|endoftext|>. */
export function textFeedsOf(
  textual: Tower,
  L: number,
  dynamicSequence: boolean,
  ids: Int32Array | BigInt64Array,
  eotIndex: Int32Array,
  start: number,
  rows: number,
  feedRows: number,
): Feeds {
  let len = L;
  if (dynamicSequence) {
    len = 1;
    for (let r = 0; r < rows; r++) len = Math.max(len, eotIndex[start + r] + 1);
  }
  const chunk = rowsOf(ids, L, start, rows, feedRows);
  const cut = len === L ? chunk : takeColumns(chunk, feedRows, L, len);
  const feeds: Feeds = { [textual.input.name]: tensor(textual.input.type, idsAs(textual.input.type, cut), [feedRows, len]) };
  if (textual.mask) {
    // 1 up to and including <|endoftext|>, 0 on padding (what Hugging Face tokenizers return).
    const mask = new Int32Array(feedRows * len);
    for (let r = 0; r < rows; r++) mask.fill(1, r * len, r * len + eotIndex[start + r] + 1);
    feeds[textual.mask.name] = tensor(textual.mask.type, idsAs(textual.mask.type, mask), [feedRows, len]);
  }
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

/** Opens the checkpoint in `dir`: detects its layout, loads tokenizer and preprocessing, creates the sessions. */
export async function loadCheckpoint(dir: string, opts: LoadOptions = {}): Promise<Checkpoint> {
  const sessionOptions = resolveSessionOptions(opts.session);
  const convention = opts.preprocessConvention ?? 'reference';
  const layout = detectLayout(dir, opts.variant);
  const m = layout.manifest;
  const tokenizer = m ? loadTokenizerFile(path.join(dir, m.tokenizer), m.contextLength ? { contextLength: m.contextLength } : {}) : loadTokenizerFromDir(dir);
  const { config: preprocess, sources: preprocessSources } = m ? loadManifestPreprocess(dir, m.preprocess, convention) : loadSourcedPreprocessFromDir(dir, { convention });

  const visualFile = path.join(dir, layout.visual.file);
  const textualFile = path.join(dir, layout.textual.file);
  const visualSession = await createSession(visualFile, sessionOptions);
  const textualSession = layout.combined ? visualSession : await createSession(textualFile, sessionOptions);
  const visual = openTower(visualFile, visualSession, layout.visual, 'image');
  const textual = openTower(textualFile, textualSession, layout.textual, 'text');

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

  const size = preprocess.size;
  const pixelRow = 3 * size * size;
  const L = tokenizer.contextLength;
  /** Inputs the combined graph needs for the tower not being run: one blank row. */
  const blank = tokenizer.tokenizeBatch(['']);
  const blankImage = (): Feeds => imageFeeds(new Float32Array(pixelRow), 0, 1, 1);
  const blankText = (): Feeds => textFeeds(blank.data, blank.eotIndex, 0, 1, 1);
  const imageFeeds = (pixels: Float32Array, start: number, rows: number, feedRows: number) => imageFeedsOf(visual, size, pixels, start, rows, feedRows);

  /** A text graph with a dynamic sequence axis gets only up to the longest <|endoftext|> of each batch. */
  const dynamicSequence = typeof textual.input.shape[1] !== 'number' && !opts.fullLengthText;
  const textFeeds = (ids: Int32Array | BigInt64Array, eotIndex: Int32Array, start: number, rows: number, feedRows: number) =>
    textFeedsOf(textual, L, dynamicSequence, ids, eotIndex, start, rows, feedRows);

  // The image encoder in a worker thread, started on first use (so `inspect` never starts it); from then
  // on this thread's own image session is released and the worker's is the only one.
  let thread: Promise<InferenceThread> | undefined;
  let started: InferenceThread | undefined;
  const useThread = sessionOptions.inferenceWorker;
  const startThread = () =>
    (thread ??= startInferenceThread({
      file: visualFile,
      spec: layout.visual,
      size,
      session: sessionOptions,
      ...(layout.combined ? { blankText: { spec: layout.textual, ids: Int32Array.from(blank.data as Int32Array), eotIndex: Int32Array.from(blank.eotIndex), contextLength: L, dynamicSequence } } : {}),
    }).then(async (t) => {
      if (!layout.combined) await visual.session.release();
      started = t;
      return t;
    }));
  const ownBatches = new WeakSet<ArrayBufferLike>();

  const files = layout.files;
  const fingerprint = await fingerprintFiles(dir, files);
  const ckpt: Checkpoint = {
    dir,
    name: path.basename(path.resolve(dir)),
    layout: layout.layout,
    variant: layout.variant,
    variants: layout.variants,
    assumptions: [...layout.assumptions, ...visual.notes, ...textual.notes],
    fingerprint,
    files,
    embedDim: 0,
    tokenizer,
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
      const r = await encodeImagesOn(visual, size, pixels, n, layout.combined ? blankText : undefined);
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
      const batch = tokenizer.tokenizeBatch([...texts], { dtype: textual.input.type === 'int64' ? 'int64' : 'int32' });
      const r = await runTower(textual, texts.length, (start, rows, feedRows) => ({
        ...(layout.combined ? blankImage() : {}),
        ...textFeeds(batch.data, batch.eotIndex, start, rows, feedRows),
      }));
      checkDim(textual, r.dim);
      return normaliseRows(r.data, r.dim);
    },
    async release() {
      if (thread) {
        const t = await thread.catch(() => undefined);
        await t?.close();
        if (!t && !layout.combined) await visual.session.release(); // the worker never took over
      } else await visual.session.release();
      if (!layout.combined) await textual.session.release();
    },
  };
  function checkDim(tower: Tower, dim: number): void {
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
  const probeText = async () => (await runTower(textual, 1, (s0, rows, feedRows) => ({ ...(layout.combined ? blankImage() : {}), ...textFeeds(blank.data, blank.eotIndex, s0, rows, feedRows) }))).dim;
  const probeImage = async () => (await runTower(visual, 1, (s0, rows, feedRows) => ({ ...(layout.combined ? blankText() : {}), ...imageFeeds(new Float32Array(pixelRow), s0, rows, feedRows) }))).dim;
  ckpt.embedDim = stated[0] ?? stated[1] ?? (await probeText());
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
    const pair = tokenizer.tokenizeBatch(['a photo of a cat', '']);
    const solved = await solveLinkFromCombinedGraph(visual.session, { ...blankImage(), ...textFeeds(pair.data, pair.eotIndex, 0, 2, 2) }, { image: visual.output.name, text: textual.output.name });
    if (solved) ckpt.scoring = scoringLinkFor(dir, { stated: opts.scoring, solved: { ...solved, file: visualFile } });
  }
  return ckpt;
}

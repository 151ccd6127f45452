/**
 * A CLIP checkpoint on disk: which files it uses, its tokenizer and preprocessing, and two encoders
 * that return L2-normalised embeddings. Layout detection lives in `layout.ts`.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { normaliseRows } from '../prompts/classifier.js';
import { fingerprintFiles } from './fingerprint.js';
import { detectLayout, type ModelLayout, type TowerSpec } from './layout.js';
import {
  createSession,
  DEFAULT_SESSION_OPTIONS,
  fixedBatch,
  floatData,
  inputSignatures,
  ort,
  outputSignatures,
  type Session,
  type SessionOptions,
  type TensorSignature,
} from './onnx-session.js';
import { loadTokenizerFromDir, type ClipTokenizer } from './tokenizer/index.js';
import { loadPreprocessConfigFromDir, type PreprocessConfig } from './preprocess/index.js';

export interface Tower {
  file: string;
  session: Session;
  input: TensorSignature;
  output: TensorSignature;
  /** the graph's fixed batch size, if its first axis is not dynamic */
  batch?: number;
}

export interface Checkpoint {
  dir: string;
  name: string;
  layout: ModelLayout;
  fingerprint: string;
  files: string[];
  embedDim: number;
  tokenizer: ClipTokenizer;
  preprocess: PreprocessConfig;
  sessionOptions: SessionOptions;
  visual: Tower;
  textual: Tower;
  /** images: [n, 3, H, W] float32 → [n, embedDim], unit rows */
  encodeImages(pixels: Float32Array, n: number): Promise<Float32Array>;
  /** texts → [texts.length, embedDim], unit rows */
  encodeTexts(texts: readonly string[]): Promise<Float32Array>;
  release(): Promise<void>;
}


async function openTower(dir: string, spec: TowerSpec, opts: SessionOptions): Promise<Tower> {
  const file = path.join(dir, spec.file);
  const session = await createSession(file, opts);
  const pick = (sigs: TensorSignature[], names: string[]) => names.map((n) => sigs.find((s) => s.name === n)).find((s) => s !== undefined);
  const input = pick(inputSignatures(session), spec.inputs);
  const output = pick(outputSignatures(session), spec.outputs);
  if (!input || !output) {
    throw new UsageError(
      `expected input ${spec.inputs.join('|')} and output ${spec.outputs.join('|')}, found inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]`,
      { file, fix: 'this graph is not the layout it was detected as; describe it with a clip-bench.json manifest' },
    );
  }
  return { file, session, input, output, batch: fixedBatch(input) };
}

/**
 * Runs `tower` on n rows of shape `rowShape`, in chunks of its fixed batch (padding the last) or all at once.
 * @returns [n, dim] float32 and dim, read from the output's last axis
 */
async function runTower(tower: Tower, data: Float32Array | Int32Array | BigInt64Array, n: number, rowShape: number[]): Promise<{ data: Float32Array; dim: number }> {
  const O = ort();
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  const type = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'int64';
  const chunk = tower.batch ?? n;
  let out: Float32Array | undefined;
  let dim = 0;
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const feedRows = tower.batch ?? rows;
    let slice = data.subarray(start * rowSize, (start + rows) * rowSize);
    if (feedRows > rows) {
      const padded = new (data.constructor as new (len: number) => typeof data)(feedRows * rowSize);
      padded.set(slice as never);
      slice = padded;
    }
    const result = (await tower.session.run({ [tower.input.name]: new O.Tensor(type, slice, [feedRows, ...rowShape]) }))[tower.output.name];
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

function embedDimOf(tower: Tower): number | undefined {
  const d = tower.output.shape[tower.output.shape.length - 1];
  return typeof d === 'number' ? d : undefined;
}

/** Opens the checkpoint in `dir`: detects its layout, loads tokenizer and preprocessing, creates both sessions. */
export async function loadCheckpoint(dir: string, opts: Partial<SessionOptions> = {}): Promise<Checkpoint> {
  const sessionOptions = { ...DEFAULT_SESSION_OPTIONS, ...opts };
  const layout = await detectLayout(dir);
  const tokenizer = loadTokenizerFromDir(dir);
  const preprocess = loadPreprocessConfigFromDir(dir);
  const visual = await openTower(dir, layout.visual, sessionOptions);
  const textual = await openTower(dir, layout.textual, sessionOptions);
  const dims = [embedDimOf(visual), embedDimOf(textual)];
  const embedDim = dims[0] ?? dims[1];
  if (dims[0] !== undefined && dims[1] !== undefined && dims[0] !== dims[1]) {
    throw new UsageError(`image embeddings have ${dims[0]} dimensions but text embeddings ${dims[1]}`, {
      file: dir,
      fix: 'the two towers come from different models; use the visual and textual files of one export',
    });
  }
  const textDtype = textual.input.type === 'int64' ? 'int64' : 'int32';
  const files = layout.files;
  const fingerprint = await fingerprintFiles(dir, files);

  const ckpt: Checkpoint = {
    dir,
    name: path.basename(path.resolve(dir)),
    layout: layout.layout,
    fingerprint,
    files,
    embedDim: embedDim ?? 0, // set below when neither graph states it
    tokenizer,
    preprocess,
    sessionOptions,
    visual,
    textual,
    async encodeImages(pixels, n) {
      const size = preprocess.size;
      const r = await runTower(visual, pixels, n, [3, size, size]);
      checkDim(visual, r.dim);
      return normaliseRows(r.data, r.dim);
    },
    async encodeTexts(texts) {
      const batch = tokenizer.tokenizeBatch([...texts], { dtype: textDtype });
      const r = await runTower(textual, batch.data, texts.length, [tokenizer.contextLength]);
      checkDim(textual, r.dim);
      return normaliseRows(r.data, r.dim);
    },
    async release() {
      await visual.session.release();
      await textual.session.release();
    },
  };
  function checkDim(tower: Tower, dim: number): void {
    if (dim !== ckpt.embedDim) {
      throw new UsageError(`embedding size ${dim} differs from the model's ${ckpt.embedDim}`, { file: tower.file, fix: 'use the visual and textual files of one export' });
    }
  }
  if (embedDim === undefined) ckpt.embedDim = (await runTower(textual, tokenizer.tokenizeBatch([''], { dtype: textDtype }).data, 1, [tokenizer.contextLength])).dim;
  return ckpt;
}

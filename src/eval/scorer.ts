/**
 * Logits for many images at once: 100 · images · classifierᵀ as a one-MatMul onnxruntime graph, because
 * a 50,000 × 1,000 × 512 re-score is 25 GFLOP — seconds in MLAS, half a minute in JavaScript loops.
 * `zeroShotLogits` (src/prompts/classifier.ts) is the plain reference it is tested against.
 */
import { OnnxGraph } from '../models/onnx/graph.js';
import { createSession, ort, type Session } from '../models/onnx-session.js';
import { LOGIT_SCALE } from '../prompts/classifier.js';

export class LogitScorer {
  private constructor(
    private readonly session: Session,
    readonly dim: number,
    readonly nClasses: number,
  ) {}

  /** @param classifier [nClasses, dim] unit rows */
  static async create(classifier: Float32Array, dim: number, opts: { scale?: number; threads?: number; spinning?: boolean } = {}): Promise<LogitScorer> {
    const nClasses = classifier.length / dim;
    const transposed = new Float32Array(dim * nClasses);
    for (let c = 0; c < nClasses; c++) for (let k = 0; k < dim; k++) transposed[k * nClasses + c] = classifier[c * dim + k];
    const g = new OnnxGraph('zero_shot_logits');
    const x = g.input('images', 'float32', ['n', dim]);
    const dots = g.op('MatMul', [x, g.f32('classifier_t', transposed, [dim, nClasses])]);
    g.output(g.op('Mul', [dots, g.f32('logit_scale', [opts.scale ?? LOGIT_SCALE], [])]), 'logits', 'float32', ['n', nClasses]);
    const session = await createSession(g.toBytes(), { executionProvider: 'cpu', graphOptimization: 'all', intraOpThreads: opts.threads ?? 0, spinning: opts.spinning });
    return new LogitScorer(session, dim, nClasses);
  }

  /** images [n, dim] → logits [n, nClasses] */
  async logits(images: Float32Array): Promise<Float32Array> {
    const n = images.length / this.dim;
    if (n === 0) return new Float32Array(0);
    const out = await this.session.run({ images: new (ort().Tensor)('float32', images, [n, this.dim]) });
    return out.logits.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
